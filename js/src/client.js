// The client a page uses: listeners for channels, calls to the app's routes
// and actions over the socket, and events about the connection. A page with
// a connection id gets one as `window.realtime`; anywhere else, make one:
//
//   const realtime = new Client("wss://example.com/_realtime?socket_connection_id=...")
//   const off = realtime.on("chat", (payload, envelope) => show(payload.text))
//   realtime.onEvent("reconnecting", ({ delay }) => banner(`retrying in ${delay} ms`))
//   realtime.onPresence("room", (list) => showWhoIsHere(Object.keys(list)))
//   realtime.connect()
//   const reply = await realtime.call("/messages", { method: "POST", input: { text: "hi" } })
//   reply.status  // 201
//   off()
//
// Messages sent while the socket is down wait in a bounded buffer and go out
// when it opens; with `httpFallback: true`, `call()` uses fetch instead. After
// a reconnect the server replays what the page missed on its channels, or,
// when its history no longer has it, says so with a "missed" event.
//
// Without a page (Node), pass the WebSocket implementation and a socket key
// of the client's own, the one it presented when it got the id:
//
//   new Client(url, { WebSocket, socketKey: key })

import adapters from "./adapters.js"
import constants from "./constants.js"
import { Connection } from "./connection.js"
import { checkHeaders, encodeMessage, routePath } from "./encoding.js"
import { RealtimeError, closedError, disconnectedError } from "./errors.js"
import { fetchRoute } from "./http_fallback.js"
import { Listeners } from "./listeners.js"
import logger from "./logger.js"
import { defaults, events } from "./options.js"
import { claimReload, reloadPage } from "./page.js"
import { Presences } from "./presence.js"
import { Push } from "./push.js"
import { SendBuffer } from "./send_buffer.js"

/** @import { ClientEvents, ClientOptions, ClientSettings, ClientState } from "./options.js" */
/** @import { PresenceChange, PresenceList } from "./presence.js" */

/**
 * A message pushed to a channel, as the listeners of `on()` get it.
 *
 * @template [T=unknown]
 * @typedef {object} PushFrame
 * @property {string} channel
 * @property {T} payload what the app pushed
 * @property {string} [position] the channel's position, for the replay after
 *   a reconnect
 */

/**
 * The options of `Client#call()`.
 *
 * @typedef {object} CallOptions
 * @property {string} [method] "GET" by default
 * @property {unknown} [input] JSON for the request body; for GET and HEAD,
 *   or with `form`, an object of fields
 * @property {boolean} [form] send `input` as a form
 * @property {number} [timeout] ms; `Client.defaults.timeout`
 * @property {Record<string, string>} [headers] request headers, such as
 *   `{"X-CSRFToken": token}`; over the socket, the server accepts only the
 *   names on its allow-list (REALTIME_CALL_HEADERS)
 */

/**
 * The reply to `Client#call()`: the route's response.
 *
 * @template [T=unknown]
 * @typedef {object} CallReply
 * @property {number} id the request id
 * @property {number} status the HTTP status
 * @property {Record<string, string>} headers
 * @property {T} body the parsed JSON, or the text
 */

/**
 * The reply to `Client#send()`: the id and what the action answered.
 *
 * @typedef {{id: number, [field: string]: unknown}} Reply
 */

const { codes } = RealtimeError
const TERMINAL_STATES = ["closed", "refused", "replaced", "ended"]

export class Client {
  /**
   * @param {string} url the socket's ws:// or wss:// URL, with the
   *   `socket_connection_id` query parameter
   * @param {ClientOptions} [options] see `Client.defaults`
   * @throws {TypeError} for an unknown option, or when there is no WebSocket
   *   implementation
   */
  constructor(url, options = {}) {
    for (const name of Object.keys(options)) {
      if (!Object.prototype.hasOwnProperty.call(Client.defaults, name)) {
        throw new TypeError(`Unknown option "${name}" for FlaskRealtime.Client.`)
      }
    }
    /** The socket's URL, as given. */
    this.url = url
    /** @type {ClientSettings} */
    this.options = { ...Client.defaults, ...options }
    checkEnvironment(this.options)
    if (this.options.debug) {
      logger.enabled = true
    }
    const parsed = new URL(url)
    /** The page's connection id, from the URL. */
    this.connectionId = parsed.searchParams.get(constants.CONNECTION_ID_PARAM)
    /** @private */
    this.httpOrigin = `${parsed.protocol === "wss:" ? "https:" : "http:"}//${parsed.host}`
    /** @private */
    this.channels = new Listeners()
    /** @private */
    this.events = new Listeners()
    /** @private */
    this.presences = new Presences()
    /** @private */
    this.pending = new Map()
    /** @private */
    this.buffer = new SendBuffer(this.options.sendBufferSize)
    // The last position of each channel, for the replay after a reconnect.
    /** @private */
    this.positions = new Map()
    /** @private */
    this.attachedBefore = false
    /** @private */
    this.nextId = 1
    /** @private */
    this.connection = new Connection(url, this, this.options)
  }

  /**
   * "idle", "connecting", "open", "reconnecting", "closed", "refused",
   * "replaced" or "ended".
   *
   * @returns {ClientState}
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
   * @template [T=unknown]
   * @param {string} channel
   * @param {(payload: T, frame: PushFrame<T>) => void} listener gets the
   *   payload and the whole frame (`{channel, payload, ...}`)
   * @returns {() => void} removes the listener
   * @example
   * const off = realtime.on("chat", (payload) => append(payload.text))
   */
  on(channel, listener) {
    return this.channels.add(channel, listener)
  }

  /**
   * Who is on a channel: each key the app tracked pages under (with
   * `g.socket.track()`) and the metas of its sockets, one per tab. Empty for
   * a channel this page is not subscribed to, or that has no members.
   *
   * @template [M=unknown]
   * @param {string} channel
   * @returns {PresenceList<M>} a new object, `{key: [meta, ...]}`
   * @example
   * const people = Object.keys(realtime.presence("room:1"))
   */
  presence(channel) {
    return /** @type {PresenceList<M>} */ (this.presences.list(channel))
  }

  /**
   * Listen to the presence of a channel: `listener(list, change)` gets the
   * channel's members, as `presence()` returns them, and what changed:
   * `{joins, leaves}`, by key. A socket tracked again with a new meta is in
   * `joins` again. Called for each change, and when the server sends the
   * whole list (the socket connected, reconnected or was subscribed to the
   * channel); not when the listener is added.
   *
   * @template [M=unknown]
   * @param {string} channel
   * @param {(list: PresenceList<M>, change: PresenceChange<M>) => void} listener
   * @returns {() => void} removes the listener
   * @example
   * realtime.onPresence("room:1", (list, { joins, leaves }) => {
   *   for (const key of Object.keys(leaves)) {
   *     if (!(key in list)) say(`${key} left`)  // their last tab closed
   *   }
   *   render(list)
   * })
   */
  onPresence(channel, listener) {
    return this.presences.on(channel, listener)
  }

  /**
   * Listen to one of the client's own events: see `Client.events`.
   *
   * @template {keyof ClientEvents} K
   * @param {K} name
   * @param {(detail: ClientEvents[K]) => void} listener
   * @returns {() => void} removes the listener
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
   * @template [T=unknown]
   * @param {string} uri a path on this site, with a query string if needed;
   *   a same-origin absolute URL (`form.action`) is accepted too
   * @param {CallOptions} [options] `method` ("GET"), `input`, `form`
   *   (false), `timeout`, `headers`
   * @returns {Promise<CallReply<T>>} the reply, `{id, status, headers,
   *   body}`; rejects with a `RealtimeError` on an error reply or a timeout,
   *   with a `TypeError` for a malformed `uri` or `headers`. A 4xx or 5xx
   *   status is a reply, not an error.
   * @example
   * const token = document.querySelector('meta[name="csrf-token"]').content
   * await realtime.call("/messages", {
   *   method: "POST", input: { text: "hi" }, headers: { "X-CSRFToken": token }
   * })
   */
  call(uri, { method = "GET", input, form = false, timeout, headers } = {}) {
    let path
    try {
      path = routePath(uri, adapters.window?.location?.href ?? `${this.httpOrigin}/`)
      if (headers !== undefined) {
        headers = checkHeaders(headers)
      }
    } catch (error) {
      return Promise.reject(error)
    }
    const call = { uri: path, method: String(method).toUpperCase(), input, form, headers }
    const message = { action: "call-route", uri: call.uri, method: call.method }
    if (input !== undefined) {
      message.input = input
    }
    if (form) {
      message.form = true
    }
    if (headers !== undefined) {
      message.headers = headers
    }
    return this.request(message, timeout, call)
  }

  /**
   * Send a message for an action of the app (or "ping").
   *
   * @param {string} action
   * @param {Record<string, unknown>} [data] more fields of the message
   * @param {{timeout?: number}} [options] `timeout`: ms;
   *   `Client.defaults.timeout`
   * @returns {Promise<Reply>} the reply; rejects with a `RealtimeError` on
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

  /** @private */
  connectionUrl() {
    let url = this.url
    if (this.options.socketKey !== null) {
      url += `&${constants.SOCKET_KEY_PARAM}=${encodeURIComponent(this.options.socketKey)}`
    }
    if (!this.attachedBefore) {
      return url
    }
    // Even an empty object: without it, the server replays nothing.
    const positions = JSON.stringify(Object.fromEntries(this.positions))
    return `${url}&${constants.POSITIONS_PARAM}=${encodeURIComponent(positions)}`
  }

  /** @private */
  connectionOpened({ reconnected, attempts }) {
    this.attachedBefore = true
    if (reconnected) {
      this.presences.reconnected()
    }
    for (const push of this.buffer.drain()) {
      this.pending.set(push.id, push)
      this.connection.send(push.text)
    }
    this.events.emit("open", { reconnected })
    if (reconnected) {
      this.events.emit("reconnected", { attempts })
    }
  }

  /** @private */
  connectionReceived(frame) {
    if (Object.prototype.hasOwnProperty.call(frame, "id")) {
      // The server answers only once the socket is attached: every presence
      // state has come.
      this.presences.attached()
      const push = this.pending.get(frame.id)
      if (push !== undefined) {
        this.pending.delete(frame.id)
        push.receive(frame)
      } else if (frame.error) {
        const { code = "error", message = "Error reply." } = frame.error
        this.events.emit("error", new RealtimeError(code, message, frame))
      }
    } else if (typeof frame.channel === "string") {
      if (typeof frame.position === "string") {
        this.positions.set(frame.channel, frame.position)
      }
      if (frame.gap === true) {
        this.events.emit("missed", { channel: frame.channel, position: frame.position })
      } else if (frame.payload !== undefined || !this.presences.receive(frame)) {
        this.channels.emit(frame.channel, frame.payload, frame)
      }
    }
  }

  /** @private */
  connectionClosed(info) {
    const pending = Array.from(this.pending.values())
    this.pending.clear()
    for (const push of pending) {
      push.reject(disconnectedError(info.state))
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
    } else if (info.state === "ended") {
      this.sessionEnded(info)
    }
  }

  /** @private */
  connectionReconnecting(info) {
    this.events.emit("reconnecting", info)
  }

  /** @private */
  connectionError(error) {
    this.events.emit("error", error)
  }

  // Private

  // The server forgot the id (logout, or `realtime.disconnect()`), so only a
  // new page can go on. Reloading lets the server answer the logged-out page,
  // usually with a redirect to its login page. A page that listens to
  // "ended" has an answer of its own (`location.assign("/login")`), which a
  // reload would race with, so then the client leaves it to the page.
  /** @private */
  sessionEnded(info) {
    const handled = this.events.count("ended") > 0
    this.events.emit("ended", info)
    if (!handled && this.options.reloadOnEnded && claimReload(this.options.reloadInterval)) {
      reloadPage()
    }
  }

  /** @private */
  request(message, timeout, call) {
    const ms = timeout ?? this.options.timeout
    const id = this.nextId++
    const state = this.connection.state
    // Not after a session ended: the fetch would carry the forgotten id and
    // run as the logged-out user, which 4003 exists to stop.
    if (call !== null && this.options.httpFallback && state !== "open" && state !== "ended") {
      logger.log(`socket ${state}: calling ${call.method} ${call.uri} over HTTP`)
      return fetchRoute(call, {
        connectionId: this.connectionId,
        socketKey: this.options.socketKey,
        // A page's fetch resolves the path against the page; without a page
        // (Node), against the socket's own origin.
        origin: adapters.window ? "" : this.httpOrigin,
        timeout: ms,
        id
      })
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

/** Every option, with its default: see options.js. */
Client.defaults = defaults

/** The names `onEvent()` accepts. */
Client.events = events

// Fail at once, with the way out, rather than on the first connect.
function checkEnvironment({ WebSocket, socketKey }) {
  if (WebSocket !== null && typeof WebSocket !== "function") {
    throw new TypeError("The WebSocket option must be a WebSocket class, or null for the global one.")
  }
  if (WebSocket === null && typeof adapters.WebSocket !== "function") {
    throw new TypeError(
      "There is no global WebSocket (Node before 22 has none): pass an implementation," +
      " as in new Client(url, { WebSocket }) with `import WebSocket from \"ws\"`."
    )
  }
  if (socketKey !== null && (typeof socketKey !== "string" || socketKey === "")) {
    throw new TypeError("The socketKey option must be a string, or null.")
  }
}

export default Client
