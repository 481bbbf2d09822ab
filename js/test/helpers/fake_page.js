// A page without a DOM: the few parts of `window` and `document` the client
// reads, and a `setup()` that installs them, the fake WebSocket and Node's
// mock timers into `adapters` for one test, and puts everything back after.
//
//   test("reconnects", (t) => {
//     const page = setup(t)
//     page.window.dispatchEvent(new Event("online"))
//     assert.equal(page.window.location.reloads, 0)
//   })

import adapters from "../../src/adapters.js"
import logger from "../../src/logger.js"
import { FakeWebSocket } from "./fake_websocket.js"

export const CONNECTION_ID = "cIzjR_Gu_u_78qU1649OLJAZKpDtygiWnIaAZyRieIQ"

export class FakeStorage {
  constructor() {
    this.items = new Map()
  }

  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null
  }

  setItem(key, value) {
    this.items.set(key, String(value))
  }

  removeItem(key) {
    this.items.delete(key)
  }
}

/** An element with attributes, as far as `getAttribute` goes. */
export function fakeElement(attributes = {}) {
  return {
    getAttribute: (name) => (name in attributes ? attributes[name] : null),
    hasAttribute: (name) => name in attributes
  }
}

/**
 * A window and a document.
 *
 * @param {Object} [options]
 * @param {string} [options.href] the page's URL
 * @param {?Object} [options.body] the <body> attributes
 * @param {string} [options.readyState]
 */
export function fakePage({
  href = "http://example.com/rooms/lobby",
  body = { "data-socket-connection-id": CONNECTION_ID, "data-socket-path": "/_realtime" },
  readyState = "complete"
} = {}) {
  const url = new URL(href)
  const window = new EventTarget()
  window.location = {
    href: url.href,
    protocol: url.protocol,
    host: url.host,
    origin: url.origin,
    reloads: 0,
    reload() {
      this.reloads += 1
    }
  }
  window.sessionStorage = new FakeStorage()
  const document = new EventTarget()
  document.readyState = readyState
  document.visibilityState = "visible"
  document.body = body === null ? null : fakeElement(body)
  return { window, document }
}

/**
 * Install a fake page, the fake WebSocket, mock timers (and Date) and a
 * recorder of reported errors for the length of test `t`.
 *
 * @returns {{window, document, errors: Error[]}}
 */
export function setup(t, pageOptions = {}) {
  const saved = { ...adapters }
  const page = fakePage(pageOptions)
  const errors = []
  FakeWebSocket.reset()
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 })
  t.mock.method(Math, "random", () => 0.5)
  Object.assign(adapters, {
    WebSocket: FakeWebSocket,
    fetch: undefined,
    window: page.window,
    document: page.document,
    reportError: (error) => errors.push(error)
  })
  t.after(() => {
    Object.assign(adapters, saved)
    logger.enabled = false
  })
  return { ...page, errors }
}

/** Let pending Promise callbacks run. */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve))
}
