// The client a page uses: listeners for channels, calls to the app's routes
// and actions over the socket, and events about the connection. A page with
// a connection id gets one as `window.realtime`; anywhere else, make one:
//
//   const realtime = new Client("wss://example.com/_realtime?socket_connection_id=...")
//   const off = realtime.on("chat", (payload, envelope) => show(payload.text))
//   realtime.onEvent("reconnecting", ({ delay }) => banner(`retrying in ${delay} ms`))
//   realtime.connect()
//   const reply = await realtime.call("/messages", { method: "POST", input: { text: "hi" } })
//   reply.status  // 201
//   off()
//
// Messages sent while the socket is down wait in a bounded buffer and go out
// when it opens; with `httpFallback: true`, `call()` uses fetch instead.

import adapters from "./adapters.js"
import constants from "./constants.js"
import { Connection } from "./connection.js"
import { encodeMessage, routePath } from "./encoding.js"
import { RealtimeError } from "./errors.js"
import { fetchRoute } from "./http_fallback.js"
import { Listeners } from "./listeners.js"
import logger from "./logger.js"
import { claimReload, reloadPage } from "./page.js"
import { Push } from "./push.js"
import { SendBuffer } from "./send_buffer.js"

const { codes } = RealtimeError
const TERMINAL_STATES = ["closed", "refused", "replaced"]

export class Client {
  /**
   * @param {string} url the socket's ws:// or wss:// URL, with the
   *   `socket_connection_id` query parameter
   * @param {Object} [options] see `Client.defaults`
   */
  constructor(url, options = {}) {
    for (const name of Object.keys(options)) {
      if (!Object.prototype.hasOwnProperty.call(Client.defaults, name)) {
        throw new TypeError(`Unknown option "${name}" for FlaskRealtime.Client.`)
      }
    }
    this.url = url
    this.options = { ...Client.defaults, ...options }
    if (this.options.debug) {
      logger.enabled = true
    }
    const parsed = new URL(url)
    /** The page's connection id, from the URL. */
    this.connectionId = parsed.searchParams.get(constants.CONNECTION_ID_PARAM)
    this.httpOrigin = `${parsed.protocol === "wss:" ? "https:" : "http:"}//${parsed.host}`
    this.channels = new Listeners()
    this.events = new Listeners()
    this.pending = new Map()
    this.buffer = new SendBuffer(this.options.sendBufferSize)
    this.nextId = 1
    this.connection = new Connection(url, this, this.options)
  }

  /**
   * "idle" (not connected yet), "connecting", "open", "reconnecting",
   * "closed" (by `close()`), "refused" (close code 4001) or "replaced"
   * (4002).
   *
   * @type {string}
   */
  get state() {
    return this.connection.state
  }

  /**
   * Open the socket. It reconnects by itself from then on, until `close()`.
   *
   * @returns {Client} this client
   */
  connect() {
    this.connection.open()
    return this
  }

  /**
   * Close the socket and stop reconnecting. With code 1000 (the default) the
   * server forgets the page's id at once. Pending calls reject.
   *
   * @param {number} [code=1000]
   * @param {string} [reason=""]
   */
  close(code = constants.CLOSE_NORMAL, reason = "") {
    this.connection.close(code, reason)
  }

  /**
   * Listen to a channel.
   *
   * @param {string} channel
   * @param {function(*, Object): void} listener gets the payload and the
   *   whole frame (`{channel, payload, ...}`)
   * @returns {function(): void} removes the listener
   * @example
   * const off = realtime.on("chat", (payload) => append(payload.text))
   */
  on(channel, listener) {
    return this.channels.add(channel, listener)
  }

  /**
   * Listen to one of the client's own events: see `Client.events`.
   *
   * @param {string} name
   * @param {function(Object): void} listener
   * @returns {function(): void} removes the listener
   * @example
   * realtime.onEvent("close", ({ code, state }) => console.log(code, state))
   */
  onEvent(name, listener) {
    if (!Client.events.includes(name)) {
      throw new TypeError(`Unknown event "${name}"; the events are ${Client.events.join(", ")}.`)
    }
    return this.events.add(name, listener)
  }

  /**
   * Call one of the app's routes over the socket (`call-route`).
   *
   * @param {string} uri a path on this site, with a query string if needed;
   *   a same-origin absolute URL (`form.action`) is accepted too
   * @param {Object} [options]
   * @param {string} [options.method="GET"]
   * @param {*} [options.input] JSON for the request body; for GET and HEAD,
   *   or with `form`, an object of fields
   * @param {boolean} [options.form=false] send `input` as a form
   * @param {number} [options.timeout] ms; `Client.defaults.timeout`
   * @returns {Promise<Object>} the reply, `{id, status, headers, body}`;
   *   rejects with a `RealtimeError` on an error reply or a timeout. A
   *   4xx or 5xx status is a reply, not an error.
   */
  call(uri, { method = "GET", input, form = false, timeout } = {}) {
    let path
    try {
      const location = adapters.window?.location
      path = routePath(uri, typeof location?.href === "string" ? location.href : `${this.httpOrigin}/`)
    } catch (error) {
      return Promise.reject(error)
    }
    const call = { uri: path, method: String(method).toUpperCase(), input, form }
    const message = { action: "call-route", uri: call.uri, method: call.method }
    if (input !== undefined) {
      message.input = input
    }
    if (form) {
      message.form = true
    }
    return this.request(message, timeout, call)
  }

  /**
   * Send a message for an action of the app (or "ping").
   *
   * @param {string} action
   * @param {Object} [data] more fields of the message
   * @param {Object} [options]
   * @param {number} [options.timeout] ms; `Client.defaults.timeout`
   * @returns {Promise<Object>} the reply; rejects with a `RealtimeError` on
   *   an error reply or a timeout
   * @example
   * const reply = await realtime.send("ping")   // {id: 1, body: "pong"}
   */
  send(action, data = {}, { timeout } = {}) {
    if (typeof action !== "string") {
      return Promise.reject(new TypeError("The action must be a string."))
    }
    return this.request({ ...data, action }, timeout, null)
  }

  // Private: the connection's delegate.

  connectionOpened({ reconnected, attempts }) {
    for (const push of this.buffer.drain()) {
      this.pending.set(push.id, push)
      this.connection.send(push.text)
    }
    this.events.emit("open", { reconnected })
    if (reconnected) {
      this.events.emit("reconnected", { attempts })
    }
  }

  connectionReceived(frame) {
    if (Object.prototype.hasOwnProperty.call(frame, "id")) {
      const push = this.pending.get(frame.id)
      if (push !== undefined) {
        this.pending.delete(frame.id)
        push.receive(frame)
      } else if (frame.error) {
        const { code = "error", message = "Error reply." } = frame.error
        this.events.emit("error", new RealtimeError(code, message, frame))
      }
    } else if (typeof frame.channel === "string") {
      this.channels.emit(frame.channel, frame.payload, frame)
    }
  }

  connectionClosed(info) {
    const pending = Array.from(this.pending.values())
    this.pending.clear()
    for (const push of pending) {
      push.reject(new RealtimeError(codes.DISCONNECTED, "The connection closed before the reply came."))
    }
    if (info.state !== "reconnecting") {
      for (const push of this.buffer.drain()) {
        push.reject(closedError(info.state))
      }
    }
    this.events.emit("close", info)
    if (info.state === "refused") {
      const reload = this.options.reloadOnRefused && claimReload(this.options.reloadInterval)
      this.events.emit("refused", { ...info, reload })
      if (reload) {
        reloadPage()
      }
    } else if (info.state === "replaced") {
      this.events.emit("replaced", info)
    }
  }

  connectionReconnecting(info) {
    this.events.emit("reconnecting", info)
  }

  connectionError(error) {
    this.events.emit("error", error)
  }

  // Private

  request(message, timeout, call) {
    const ms = timeout ?? this.options.timeout
    const id = this.nextId++
    const state = this.connection.state
    if (call !== null && this.options.httpFallback && state !== "open") {
      logger.log(`socket ${state}: calling ${call.method} ${call.uri} over HTTP`)
      return fetchRoute(call, { connectionId: this.connectionId, timeout: ms, id })
    }
    let text
    try {
      text = encodeMessage({ ...message, id }, this.options.maxMessageSize)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise((resolve, reject) => {
      const push = new Push(id, text, resolve, reject)
      if (TERMINAL_STATES.includes(state)) {
        push.reject(closedError(state))
        return
      }
      if (this.connection.send(text)) {
        this.pending.set(id, push)
      } else if (!this.buffer.add(push)) {
        push.reject(new RealtimeError(
          codes.BUFFER_FULL,
          `The client is disconnected and ${this.buffer.limit} messages already wait.`
        ))
        return
      }
      push.startTimeout(ms, (expired) => {
        this.pending.delete(expired.id)
        this.buffer.remove(expired)
      })
    })
  }
}

/** Every option, with its default. */
Client.defaults = Object.freeze({
  /** ms to wait for a reply to `call()` or `send()`. */
  timeout: 10000,
  /** ms: the ceiling of the first reconnect delay; it doubles each attempt. */
  reconnectInitial: 500,
  /** ms: the ceiling of every reconnect delay. */
  reconnectMax: 30000,
  /** ms without any frame before the client pings; 0 turns pings off. */
  heartbeatInterval: 20000,
  /** ms to wait for any frame after a ping before reconnecting. */
  heartbeatTimeout: 10000,
  /** How many messages may wait while disconnected. */
  sendBufferSize: 100,
  /** Largest message, in bytes of UTF-8 (REALTIME_MAX_MESSAGE_SIZE). */
  maxMessageSize: 64 * 1024,
  /** Whether `call()` uses fetch while the socket is not open. */
  httpFallback: false,
  /** Whether to reload the page when the server refuses its id. */
  reloadOnRefused: true,
  /** ms: at most one such reload in this period, per tab. */
  reloadInterval: 10000,
  /** Log to the console. */
  debug: false
})

/** The names `onEvent()` accepts. */
Client.events = Object.freeze([
  "open", "close", "reconnecting", "reconnected", "error", "refused", "replaced"
])

function closedError(state) {
  return new RealtimeError(codes.CLOSED, `The client is ${state}: nothing more is sent.`)
}

export default Client
