// One message the client sends and the Promise waiting for its reply: it
// settles once, with the reply, an error, or a timeout, whichever comes first.
//
//   const push = new Push(7, '{"action":"ping","id":7}', resolve, reject)
//   push.startTimeout(10000, () => pending.delete(7))
//   push.receive({ id: 7, body: "pong" })   // resolves, stops the timer

import adapters from "./adapters.js"
import { RealtimeError } from "./errors.js"

export class Push {
  /**
   * @param {number} id the request id, unique within a client
   * @param {string} text the encoded message
   * @param {function(Object): void} resolve
   * @param {function(Error): void} reject
   */
  constructor(id, text, resolve, reject) {
    this.id = id
    this.text = text
    this.settled = false
    this.timer = null
    this.resolveFn = resolve
    this.rejectFn = reject
  }

  /**
   * Reject with a "timeout" error unless settled within `ms`.
   *
   * @param {number} ms
   * @param {function(Push): void} onTimeout called first, to forget the push
   */
  startTimeout(ms, onTimeout) {
    this.timer = adapters.setTimeout(() => {
      this.timer = null
      onTimeout(this)
      this.reject(new RealtimeError(
        RealtimeError.codes.TIMEOUT,
        `No reply within ${ms} ms.`
      ))
    }, ms)
  }

  /**
   * Settle with a reply: reject when it is an error reply, resolve otherwise.
   *
   * @param {Object} reply
   */
  receive(reply) {
    const error = reply.error
    if (error !== undefined && error !== null) {
      const code = typeof error.code === "string" ? error.code : "error"
      const message = typeof error.message === "string" ? error.message : code
      this.reject(new RealtimeError(code, message, reply))
    } else {
      this.resolve(reply)
    }
  }

  /** @param {Object} value */
  resolve(value) {
    if (this.settle()) {
      this.resolveFn(value)
    }
  }

  /** @param {Error} error */
  reject(error) {
    if (this.settle()) {
      this.rejectFn(error)
    }
  }

  // Private

  settle() {
    if (this.settled) {
      return false
    }
    this.settled = true
    if (this.timer !== null) {
      adapters.clearTimeout(this.timer)
      this.timer = null
    }
    return true
  }
}

export default Push
