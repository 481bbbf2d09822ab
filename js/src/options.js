// The client's options with their defaults, and the names of its events.
// Durations are in milliseconds. A page sets options before realtime.js
// loads; tests shrink the timings:
//
//   window.realtimeOptions = { httpFallback: true, heartbeatInterval: 500 }
//   // or: createClient({ heartbeatInterval: 500, heartbeatTimeout: 500 })
//
// The reconnect delay before attempt n is half of
// min(reconnectMax, reconnectInitial * 2 ** (n - 1)) plus a random part up to
// the other half: 0.25-0.5 s, 0.5-1 s, 1-2 s ... 15-30 s with the defaults.
// After a server restart (close code 1012) the first delay is instead drawn
// from 0 to restartWindow, and the backoff goes on from attempt 2.
// A dead connection is noticed within heartbeatInterval + heartbeatTimeout of
// the last frame received: 30 s with the defaults.

/**
 * What the client needs of a WebSocket implementation: the browser's, Node
 * 22's global one, or the `ws` package's `WebSocket` class.
 *
 * @typedef {new (url: string) => WebSocketLike} WebSocketConstructor
 */

/**
 * The parts of a WebSocket the client uses. Its handlers take `any`, so
 * that every implementation's own event types fit.
 *
 * @typedef {object} WebSocketLike
 * @property {number} readyState 1 when open
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {((event: any) => void) | null} onopen
 * @property {((event: any) => void) | null} onmessage reads `event.data`
 * @property {((event: any) => void) | null} onerror
 * @property {((event: any) => void) | null} onclose reads `event.code`,
 *   `event.reason` and `event.wasClean`
 */

/**
 * Every option of the client, with a value (see `defaults`).
 *
 * @typedef {object} ClientSettings
 * @property {number} timeout ms to wait for a reply to `call()` or `send()`
 * @property {number} reconnectInitial ms: the ceiling of the first
 *   reconnect delay; it doubles each attempt
 * @property {number} reconnectMax ms: the ceiling of every reconnect delay
 * @property {number} restartWindow ms: after a server restart (1012), the
 *   first reconnect waits a random time from 0 to this
 * @property {number} heartbeatInterval ms without any frame before the
 *   client pings; 0 turns pings off
 * @property {number} heartbeatTimeout ms to wait for any frame after a ping
 *   before reconnecting; 0: for ever
 * @property {number} sendBufferSize how many messages may wait while
 *   disconnected
 * @property {number} maxMessageSize largest message, in bytes of UTF-8
 * @property {boolean} httpFallback whether `call()` uses fetch while the
 *   socket is not open
 * @property {boolean} reloadOnRefused whether to reload the page when the
 *   server refuses its id
 * @property {boolean} reloadOnEnded whether to reload the page when its
 *   session ends, unless the page listens to "ended"
 * @property {number} reloadInterval ms: at most one reload in this period
 * @property {boolean} debug log to the console
 * @property {WebSocketConstructor | null} WebSocket the WebSocket
 *   implementation; null: the global `WebSocket` (browsers, Node 22+)
 * @property {string | null} socketKey a socket key the client presents
 *   itself, for clients without cookies (Node): sent in the upgrade
 *   request's `socket_key` parameter and in the `X-Realtime-Socket-Key`
 *   header of HTTP fallback calls
 */

/**
 * The options a client is made with: any of `ClientSettings`.
 *
 * @typedef {Partial<ClientSettings>} ClientOptions
 */

/**
 * Every option, with its default.
 *
 * @type {Readonly<ClientSettings>}
 */
export const defaults = Object.freeze({
  /** ms to wait for a reply to `call()` or `send()`. */
  timeout: 10000,
  /** ms: the ceiling of the first reconnect delay; it doubles each attempt. */
  reconnectInitial: 500,
  /** ms: the ceiling of every reconnect delay. */
  reconnectMax: 30000,
  /**
   * ms: after a server restart (close code 1012), the first reconnect waits a
   * random time from 0 to this. 5 s spreads 10,000 pages to about 2,000
   * reconnects a second, where the usual 250-500 ms first retry would bring
   * them all within a quarter of a second; it gives a restarted process the
   * second or two it takes to boot; and it stays far below the server's
   * REALTIME_DISCONNECT_GRACE (120 s), so the page resumes and is replayed
   * what it missed, 2.5 s on average. A site with many more pages per
   * process may raise it.
   */
  restartWindow: 5000,
  /** ms without any frame before the client pings; 0 turns pings off. */
  heartbeatInterval: 20000,
  /** ms to wait for any frame after a ping before reconnecting; 0: for ever. */
  heartbeatTimeout: 10000,
  /** How many messages may wait while disconnected. */
  sendBufferSize: 100,
  /** Largest message, in bytes of UTF-8 (REALTIME_MAX_MESSAGE_SIZE). */
  maxMessageSize: 64 * 1024,
  /** Whether `call()` uses fetch while the socket is not open. */
  httpFallback: false,
  /** Whether to reload the page when the server refuses its id. */
  reloadOnRefused: true,
  /**
   * Whether to reload the page when its session ends (close code 4003),
   * unless the page listens to the "ended" event: then it is the page's call.
   */
  reloadOnEnded: true,
  /** ms: at most one reload (refused or ended) in this period, per tab. */
  reloadInterval: 10000,
  /** Log to the console. */
  debug: false,
  /**
   * The WebSocket constructor; null: the global `WebSocket`. Node before 22
   * has none: pass one, such as the `ws` package's.
   */
  WebSocket: null,
  /**
   * A socket key the client presents itself, for clients that keep no
   * cookies; null: the session cookie carries it. The server adopts it only
   * for a session that holds no key of its own.
   */
  socketKey: null
})

/**
 * A client's state: "idle", "connecting", "open", "reconnecting", or one of
 * the final ones, "closed", "refused", "replaced" and "ended".
 *
 * @typedef {"idle" | "connecting" | "open" | "reconnecting" | "closed" | "refused" |
 *   "replaced" | "ended"} ClientState
 */

/**
 * What a close event tells.
 *
 * @typedef {object} CloseDetail
 * @property {number} code the close code
 * @property {string} reason
 * @property {boolean} wasClean
 * @property {ClientState} state what comes next
 */

/**
 * The detail each of the client's events carries, by event name.
 *
 * @typedef {object} ClientEvents
 * @property {{reconnected: boolean}} open
 * @property {CloseDetail} close
 * @property {{attempt: number, delay: number, code: number}} reconnecting
 * @property {{attempts: number}} reconnected
 * @property {{channel: string, position: string | undefined}} missed
 * @property {Error} error
 * @property {CloseDetail & {reload: boolean}} refused
 * @property {CloseDetail} replaced
 * @property {CloseDetail} ended
 */

/**
 * The names `Client#onEvent()` accepts.
 *
 * @type {ReadonlyArray<keyof ClientEvents>}
 */
export const events = Object.freeze([
  "open", "close", "reconnecting", "reconnected", "missed", "error", "refused", "replaced",
  "ended"
])
