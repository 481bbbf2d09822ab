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

/** Every option, with its default. */
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
  debug: false
})

/** The names `Client#onEvent()` accepts. */
export const events = Object.freeze([
  "open", "close", "reconnecting", "reconnected", "missed", "error", "refused", "replaced",
  "ended"
])
