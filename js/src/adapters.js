// The browser globals the client uses, in one replaceable object. Nothing
// else in js/src touches `window`, `document`, `WebSocket` or `fetch`
// directly, so tests (and unusual environments) can swap any of them:
//
//   import adapters from "./adapters.js"
//   adapters.WebSocket = FakeWebSocket
//   adapters.fetch = async (url, init) => new Response("{}")
//
// Timers and the clock call through `globalThis` at the time of the call, so
// that Node's `t.mock.timers` takes effect even though this module was loaded
// before the mock was enabled.

/**
 * The replaceable globals. Typed loosely where the browser's own types would
 * tie the declarations to the DOM library, which Node projects lack.
 *
 * @typedef {object} Adapters
 * @property {import("./options.js").WebSocketConstructor | undefined} WebSocket
 * @property {((url: string, init: object) => Promise<any>) | undefined} fetch
 * @property {any} window
 * @property {any} document
 * @property {{log: (...messages: unknown[]) => void}} logger
 * @property {(callback: () => void, ms: number) => unknown} setTimeout
 * @property {(id: unknown) => void} clearTimeout
 * @property {() => number} now
 * @property {(error: unknown) => void} reportError
 */

/** @type {Adapters} */
const adapters = {
  /**
   * The WebSocket constructor, unless the client's `WebSocket` option names
   * one. Node before 22 has no global WebSocket.
   */
  WebSocket: globalThis.WebSocket,

  /** `fetch`, for calls over plain HTTP while the socket is down. */
  fetch: typeof globalThis.fetch === "function"
    ? (...args) => globalThis.fetch(...args)
    : undefined,

  /** The window: `location`, `sessionStorage`, and page events. */
  window: globalThis.window,

  /** The document: `<body>` attributes and `visibilitychange`. */
  document: globalThis.document,

  /** Where the logger writes, when it is enabled. */
  logger: globalThis.console,

  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),

  clearTimeout: (id) => globalThis.clearTimeout(id),

  /** Milliseconds since the epoch. */
  now: () => Date.now(),

  /**
   * Reports an exception thrown by an application's listener without
   * stopping the other listeners: the browser shows it as an uncaught error.
   */
  reportError: (error) => {
    if (typeof globalThis.reportError === "function") {
      globalThis.reportError(error)
    } else {
      globalThis.setTimeout(() => {
        throw error
      }, 0)
    }
  }
}

export default adapters
