// Owns the WebSocket: opens it, reopens it after a loss with backoff, and
// decides from the close code what a loss means. Internal: applications use
// `Client`, which is this connection's delegate and hears about everything
// through `connectionOpened`, `connectionReceived`, `connectionClosed`,
// `connectionReconnecting` and `connectionError`.
//
//   const connection = new Connection(url, client, Client.defaults)
//   connection.open()
//   connection.send('{"action":"ping","id":1}')   // false unless open
//   connection.close()                            // code 1000, no reconnect
//
// The socket counts as open only once a first frame has arrived: the server
// completes the handshake before it attaches the socket to the page's
// subscriptions, and a push in between is not delivered. So the connection
// pings at once, and the reply (or any push) proves the socket is attached:
// from then on it receives every push, and what waited in the buffer goes out.
//
// What a close code means:
//
// - 4001 (id refused: expired, or unknown to a restarted server): the state
//   becomes "refused" and nothing is retried; the page needs a fresh id.
// - 4002 (replaced by a newer socket with the same id): "replaced", not
//   retried, or the two sockets would take the id from each other forever.
// - 4003 (session ended: logout, `session.clear()`, or the app's
//   `realtime.disconnect()` for one of the page's channels): "ended", not
//   retried; the server forgot the id, so a retry would only be refused.
// - 1012 (the server restarts, or lost what it knew of the socket): every
//   page of that server got it at the same instant, so "reconnecting" after a
//   random delay from 0 to `restartWindow` instead of the quick first retry,
//   to spread them out; the backoff goes on from there. A server that lost
//   the socket refuses the id (4001) and the page reloads, spread out too.
// - Anything else (1006 lost, 1001 server going away, 1011, 1009, 4008 slow
//   consumer, 4029 rate limited ...): "reconnecting", after a backoff delay.

import adapters from "./adapters.js"
import constants from "./constants.js"
import { ConnectionMonitor } from "./connection_monitor.js"
import { RealtimeError } from "./errors.js"
import logger from "./logger.js"
import { Timer, backoff, spread } from "./timer.js"

const OPEN = 1

// The close codes after which reconnecting with the same id cannot help,
// and the state each leaves the connection in.
const TERMINAL_CLOSES = new Map([
  [constants.CLOSE_ID_REFUSED, "refused"],
  [constants.CLOSE_REPLACED, "replaced"],
  [constants.CLOSE_SESSION_ENDED, "ended"]
])

export class Connection {
  /**
   * @param {string} url the socket's ws:// or wss:// URL, with the id
   * @param {Object} delegate told about everything that happens
   * @param {Object} options `reconnectInitial`, `reconnectMax`,
   *   `restartWindow`, `heartbeatInterval`, `heartbeatTimeout` and
   *   `WebSocket` (see `Client.defaults`)
   */
  constructor(url, delegate, options) {
    this.url = url
    this.delegate = delegate
    // null: `adapters.WebSocket`, looked up at each open so tests can swap it.
    this.WebSocket = options.WebSocket ?? null
    /**
     * "idle", "connecting", "open", "reconnecting", "closed", "refused",
     * "replaced" or "ended".
     */
    this.state = "idle"
    this.ws = null
    this.everOpened = false
    this.openedAt = null
    this.attempts = 0
    this.heartbeats = 0
    this.closedForPageHide = false
    this.restartWindow = options.restartWindow
    const { reconnectInitial: initial, reconnectMax: max } = options
    this.timer = new Timer(() => this.open(), (tries) => backoff(tries, { initial, max }))
    this.monitor = new ConnectionMonitor(this, options)
  }

  /** Whether messages can be sent now. */
  isOpen() {
    return this.state === "open" && this.isWritable()
  }

  /** Whether the socket's handshake is done and it is not closing. */
  isWritable() {
    return this.ws !== null && this.ws.readyState === OPEN
  }

  /** Open the socket, unless it is open or opening. */
  open() {
    if (this.ws !== null) {
      return
    }
    this.timer.cancel()
    this.closedForPageHide = false
    this.monitor.start()
    this.state = "connecting"
    this.attempts += 1
    // The delegate may add to the URL: the positions to replay from.
    const url = typeof this.delegate.connectionUrl === "function"
      ? this.delegate.connectionUrl()
      : this.url
    if (logger.enabled) {
      logger.log("connecting to", withoutSocketKey(url))
    }
    let ws
    try {
      ws = new (this.WebSocket ?? adapters.WebSocket)(url)
    } catch (error) {
      // A malformed URL or a forbidden port: retrying cannot help.
      this.state = "closed"
      this.monitor.stop()
      this.delegate.connectionError(error)
      this.delegate.connectionClosed({
        code: constants.CLOSE_ABNORMAL, reason: String(error), wasClean: false, state: "closed"
      })
      return
    }
    this.ws = ws
    this.monitor.connecting()
    ws.onopen = () => this.handleOpen(ws)
    ws.onmessage = (event) => this.handleMessage(ws, event)
    ws.onerror = () => this.handleError(ws)
    ws.onclose = (event) => this.handleClose(ws, event)
  }

  /** Close for good (until `open()`); with code 1000 the server forgets the id. */
  close(code = constants.CLOSE_NORMAL, reason = "") {
    this.shutdown(code, reason)
    this.monitor.stop()
  }

  /**
   * Send an encoded message.
   *
   * @param {string} text
   * @returns {boolean} false when the socket is not open
   */
  send(text) {
    if (!this.isOpen()) {
      return false
    }
    this.ws.send(text)
    return true
  }

  // Called by the ConnectionMonitor.

  sendHeartbeat() {
    if (this.isWritable()) {
      this.heartbeats += 1
      this.ws.send(JSON.stringify({ action: "ping", id: `heartbeat-${this.heartbeats}` }))
    }
  }

  stale() {
    logger.log("no answer to the heartbeat: dropping the connection")
    // 4000, not 1000: should the server get this close at all, it keeps the
    // page's subscriptions for the reconnect.
    const ws = this.detach()
    if (ws !== null) {
      closeQuietly(ws, 4000, "heartbeat timeout")
    }
    this.afterClose({ code: constants.CLOSE_ABNORMAL, reason: "heartbeat timeout", wasClean: false })
  }

  wake(reason) {
    if (this.state === "reconnecting") {
      logger.log(`${reason}: reconnecting now`)
      this.open()
    } else if (this.state === "open") {
      this.monitor.check()
    }
  }

  pageHidden() {
    if (["connecting", "open", "reconnecting"].includes(this.state)) {
      this.shutdown(constants.CLOSE_NORMAL, "page unload")
      this.closedForPageHide = true
    }
  }

  pageShown() {
    if (this.closedForPageHide) {
      this.open()
    }
  }

  // Private

  shutdown(code, reason) {
    this.timer.reset()
    const active = ["connecting", "open", "reconnecting"].includes(this.state)
    const ws = this.detach()
    this.state = "closed"
    this.everOpened = false
    this.openedAt = null
    this.attempts = 0
    if (ws !== null) {
      closeQuietly(ws, code, reason)
    }
    if (active) {
      this.delegate.connectionClosed({ code, reason, wasClean: true, state: "closed" })
    }
  }

  detach() {
    const ws = this.ws
    this.monitor.disconnected()
    if (ws !== null) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null
      this.ws = null
    }
    return ws
  }

  handleOpen(ws) {
    if (ws === this.ws) {
      // Open once the first frame arrives; a heartbeat timeout if none does.
      this.monitor.opened()
    }
  }

  attached() {
    const reconnected = this.everOpened
    const attempts = this.attempts
    this.state = "open"
    this.everOpened = true
    this.openedAt = adapters.now()
    this.attempts = 0
    logger.log("open", reconnected ? `again after ${attempts} attempt(s)` : "")
    this.delegate.connectionOpened({ reconnected, attempts })
  }

  handleMessage(ws, event) {
    if (ws !== this.ws) {
      return
    }
    this.monitor.received()
    if (this.state === "connecting") {
      this.attached()
    }
    if (typeof event.data !== "string") {
      return // the server sends text frames only
    }
    let frame
    try {
      frame = JSON.parse(event.data)
    } catch {
      frame = undefined
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      this.delegate.connectionError(new RealtimeError(
        constants.ERROR_INVALID_JSON, "The server sent a frame that is not a JSON object."
      ))
      return
    }
    this.delegate.connectionReceived(frame)
  }

  handleError(ws) {
    if (ws === this.ws) {
      // The browser gives no detail, and a close event always follows.
      this.delegate.connectionError(new RealtimeError("socket_error", "The WebSocket failed."))
    }
  }

  handleClose(ws, event) {
    if (ws !== this.ws) {
      return
    }
    this.detach()
    this.afterClose({ code: event.code, reason: event.reason || "", wasClean: !!event.wasClean })
  }

  afterClose(info) {
    const now = adapters.now()
    // Back off from where we were unless the connection held for a while:
    // a server that accepts and at once closes must not be hammered.
    if (this.openedAt !== null && now - this.openedAt >= Connection.stableAfter) {
      this.timer.reset()
    }
    this.openedAt = null
    const state = TERMINAL_CLOSES.get(info.code) ?? "reconnecting"
    this.state = state
    if (state !== "reconnecting") {
      this.monitor.stop()
    }
    logger.log("closed", info.code, info.reason, "->", state)
    this.delegate.connectionClosed({ ...info, state })
    // A close listener may have closed or reopened the client meanwhile.
    if (this.state === "reconnecting" && this.ws === null && !this.timer.pending) {
      const attempt = this.timer.tries + 1
      const delay = this.timer.schedule(this.restartDelay(info.code))
      logger.log(`reconnecting in ${delay} ms (attempt ${attempt})`)
      this.delegate.connectionReconnecting({ attempt, delay, code: info.code })
    }
  }

  // A restarting server closes all its sockets at once with 1012. After the
  // usual first delay, thousands of pages would reach the new process within
  // a quarter of a second; a delay drawn over the whole window spreads them.
  // Only when no retry is under way: a 1012 from a server still shutting
  // down, or from one that keeps closing right after opening, is a failed
  // attempt like any other and backs off (undefined: the timer's backoff).
  restartDelay(code) {
    if (code === constants.CLOSE_SERVICE_RESTART && this.timer.tries === 0) {
      return spread(this.restartWindow)
    }
    return undefined
  }
}

/** How long (ms) a connection must stay open for the backoff to start over. */
Connection.stableAfter = 5000

// The URL for the log: a socket key is a secret, unlike the id.
function withoutSocketKey(url) {
  const param = new RegExp(`([?&]${constants.SOCKET_KEY_PARAM}=)[^&]*`)
  return url.replace(param, "$1…")
}

function closeQuietly(ws, code, reason) {
  try {
    ws.close(code, reason)
  } catch {
    // Closing a socket that already failed: nothing to do.
  }
}

export default Connection
