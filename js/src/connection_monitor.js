// Watches a connection for the failures a browser does not report, and for
// the moments when trying again at once is worth it.
//
// - Heartbeat: when nothing has arrived for `heartbeatInterval` ms, it sends a
//   ping (`{"action": "ping", "id": ...}`; the server's own protocol-level
//   pings are invisible to JavaScript). When still nothing at all has arrived
//   `heartbeatTimeout` ms after that, the connection is stale: a laptop that
//   slept, a network that changed, a proxy that dropped it silently. The
//   connection is then dropped and reopened. A handshake that hangs is given
//   up after `heartbeatTimeout` the same way.
// - `online`, and the tab becoming visible: reconnect now rather than at the
//   end of the backoff delay; when connected, check the connection with a
//   ping.
// - `pagehide`: close cleanly (code 1000), so that the server forgets the
//   page's id at once. `pageshow` of a page restored from the back-forward
//   cache: connect again.
//
//   const monitor = new ConnectionMonitor(connection, {
//     heartbeatInterval: 20000, heartbeatTimeout: 10000
//   })
//   monitor.start()          // listens to the page's events
//   monitor.connecting()     // the socket must open in time...
//   monitor.opened()         // ...and answer a ping in time
//   monitor.received()       // on each frame: the heartbeat starts over

import adapters from "./adapters.js"

export class ConnectionMonitor {
  /**
   * @param {Connection} connection what is watched; the monitor calls its
   *   `isWritable()`, `sendHeartbeat()`, `stale()`, `wake(reason)`,
   *   `pageHidden()` and `pageShown()`
   * @param {Object} options
   * @param {number} options.heartbeatInterval ms without a frame before a
   *   ping; 0 turns the heartbeat off
   * @param {number} options.heartbeatTimeout ms to wait after the ping; 0
   *   waits for ever
   */
  constructor(connection, { heartbeatInterval, heartbeatTimeout }) {
    this.connection = connection
    this.heartbeatInterval = heartbeatInterval
    this.heartbeatTimeout = heartbeatTimeout
    this.idleTimer = null
    this.staleTimer = null
    this.started = false
    this.handlers = {
      online: () => this.connection.wake("online"),
      visibilitychange: () => {
        if (adapters.document?.visibilityState === "visible") {
          this.connection.wake("visible")
        }
      },
      pagehide: () => this.connection.pageHidden(),
      pageshow: (event) => {
        if (event?.persisted) {
          this.connection.pageShown()
        }
      }
    }
  }

  /** Listen to the page's events (online, visibility, pagehide, pageshow). */
  start() {
    if (this.started) {
      return
    }
    this.started = true
    this.listen("addEventListener")
  }

  /** Stop listening, and stop the heartbeat. */
  stop() {
    if (this.started) {
      this.started = false
      this.listen("removeEventListener")
    }
    this.disconnected()
  }

  /** A frame arrived: the connection is alive. */
  received() {
    this.clearStaleTimer()
    this.scheduleHeartbeat()
  }

  /** The connection closed: stop the heartbeat. */
  disconnected() {
    this.clearStaleTimer()
    if (this.idleTimer !== null) {
      adapters.clearTimeout(this.idleTimer)
      this.idleTimer = null
    }
  }

  /**
   * A socket is being opened: it must open, and answer, within
   * `heartbeatTimeout`, or it counts as stale too.
   */
  connecting() {
    this.disconnected()
    this.startStaleTimer()
  }

  /** The handshake is done: ping, to learn when the server has attached it. */
  opened() {
    this.clearStaleTimer()
    this.heartbeat()
  }

  /** Send a ping now, unless one is already waiting for an answer. */
  check() {
    if (this.staleTimer === null) {
      this.heartbeat()
    }
  }

  // Private

  listen(method) {
    const win = adapters.window
    const doc = adapters.document
    if (win && typeof win[method] === "function") {
      win[method]("online", this.handlers.online)
      win[method]("pagehide", this.handlers.pagehide)
      win[method]("pageshow", this.handlers.pageshow)
    }
    if (doc && typeof doc[method] === "function") {
      doc[method]("visibilitychange", this.handlers.visibilitychange)
    }
  }

  scheduleHeartbeat() {
    if (this.idleTimer !== null) {
      adapters.clearTimeout(this.idleTimer)
      this.idleTimer = null
    }
    if (this.heartbeatInterval > 0) {
      this.idleTimer = adapters.setTimeout(() => {
        this.idleTimer = null
        this.heartbeat()
      }, this.heartbeatInterval)
    }
  }

  heartbeat() {
    if (!this.connection.isWritable()) {
      return
    }
    this.connection.sendHeartbeat()
    this.startStaleTimer()
  }

  startStaleTimer() {
    if (this.staleTimer === null && this.heartbeatTimeout > 0) {
      this.staleTimer = adapters.setTimeout(() => {
        this.staleTimer = null
        this.connection.stale()
      }, this.heartbeatTimeout)
    }
  }

  clearStaleTimer() {
    if (this.staleTimer !== null) {
      adapters.clearTimeout(this.staleTimer)
      this.staleTimer = null
    }
  }
}

export default ConnectionMonitor
