// Messages waiting for the socket to open, in order, and bounded: when it is
// full, `add()` refuses, and the caller rejects the message at once rather
// than let a long outage pile up work that would all arrive together later.
//
//   const buffer = new SendBuffer(100)
//   if (!buffer.add(push)) push.reject(new RealtimeError("buffer_full", "..."))
//   socket.onopen = () => buffer.drain().forEach((push) => socket.send(push.text))

export class SendBuffer {
  /** @param {number} limit how many messages may wait */
  constructor(limit) {
    this.limit = limit
    this.pushes = []
  }

  /** How many messages wait. */
  get size() {
    return this.pushes.length
  }

  /**
   * Queue a push, unless the buffer is full.
   *
   * @param {Push} push
   * @returns {boolean} whether it was queued
   */
  add(push) {
    if (this.pushes.length >= this.limit) {
      return false
    }
    this.pushes.push(push)
    return true
  }

  /**
   * Take a push out (it timed out, say).
   *
   * @param {Push} push
   * @returns {boolean} whether it was there
   */
  remove(push) {
    const index = this.pushes.indexOf(push)
    if (index === -1) {
      return false
    }
    this.pushes.splice(index, 1)
    return true
  }

  /**
   * Empty the buffer.
   *
   * @returns {Push[]} what it held, oldest first
   */
  drain() {
    const pushes = this.pushes
    this.pushes = []
    return pushes
  }
}

export default SendBuffer
