// Flask-Realtime's browser client. The classes are re-exported from here, with
// the functions that set a client up from the page Flask rendered:
//
//   import { createClient } from "flask-realtime"
//   const realtime = createClient({ httpFallback: true })
//   realtime.on("chat", (payload) => console.log(payload))
//   realtime.connect()
//
// The browser build (realtime.js, as the global `FlaskRealtime`) also calls
// `start()` when it loads: a page whose <body> has a connection id gets its
// client as `window.realtime`, connected unless the script tag says
// data-connect="false".
//
// Without a page (Node), make a `Client` with the socket's URL:
//
//   const url = socketUrl(new URL("http://127.0.0.1:5000"), "/_realtime", id)
//   const realtime = new Client(url, { WebSocket, socketKey: key }).connect()

import adapters from "./adapters.js"
import { Client } from "./client.js"
import constants from "./constants.js"

export { default as adapters } from "./adapters.js"
export { Client } from "./client.js"
export { default as constants } from "./constants.js"
export { RealtimeError } from "./errors.js"
export { default as logger } from "./logger.js"
export { Timer, backoff } from "./timer.js"

// The shapes of the public API, for TypeScript (the generated js/types).
/** @typedef {import("./options.js").ClientOptions} ClientOptions */
/** @typedef {import("./options.js").ClientSettings} ClientSettings */
/** @typedef {import("./options.js").ClientEvents} ClientEvents */
/** @typedef {import("./options.js").ClientState} ClientState */
/** @typedef {import("./options.js").CloseDetail} CloseDetail */
/** @typedef {import("./options.js").WebSocketConstructor} WebSocketConstructor */
/** @typedef {import("./options.js").WebSocketLike} WebSocketLike */
/** @typedef {import("./client.js").CallOptions} CallOptions */
/** @typedef {import("./client.js").Reply} Reply */
/**
 * @template [T=unknown]
 * @typedef {import("./client.js").CallReply<T>} CallReply
 */
/**
 * @template [T=unknown]
 * @typedef {import("./client.js").PushFrame<T>} PushFrame
 */
/**
 * @template [M=unknown]
 * @typedef {import("./presence.js").PresenceList<M>} PresenceList
 */
/**
 * @template [M=unknown]
 * @typedef {import("./presence.js").PresenceChange<M>} PresenceChange
 */

/**
 * An element as far as the client reads it: a <script> tag's attributes.
 *
 * @typedef {{getAttribute(name: string): string | null}} ElementLike
 */

/** The socket's path when the page does not say (REALTIME_PATH's default). */
export const DEFAULT_PATH = "/_realtime"

/**
 * The socket's URL for a page: ws:// or wss:// as the page's protocol, the
 * page's host and port, the path, and the id.
 *
 * @param {{protocol: string, host: string}} location the page's location
 * @param {string} path the socket's path, such as "/_realtime"
 * @param {string} connectionId the page's connection id
 * @returns {string}
 */
export function socketUrl(location, path, connectionId) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:"
  const absolutePath = path.startsWith("/") ? path : `/${path}`
  const id = encodeURIComponent(connectionId)
  return `${scheme}//${location.host}${absolutePath}?${constants.CONNECTION_ID_PARAM}=${id}`
}

/**
 * What the page says about its socket: the id and path from the <body>
 * attributes, whether the script tag opted out of connecting, and the
 * options in `window.realtimeOptions`.
 *
 * @param {?ElementLike} [script] the <script> that loaded the client
 * @returns {{connectionId: ?string, path: string, connect: boolean, options: ClientOptions}}
 */
export function getConfig(script = null) {
  const body = adapters.document?.body
  const attribute = (name) => body?.getAttribute(name) || null
  const options = adapters.window?.realtimeOptions
  return {
    connectionId: attribute(constants.BODY_CONNECTION_ID_ATTRIBUTE),
    path: attribute(constants.BODY_PATH_ATTRIBUTE) || DEFAULT_PATH,
    connect: script?.getAttribute("data-connect") !== "false",
    options: options !== null && typeof options === "object" ? { ...options } : {}
  }
}

/**
 * A client for this page's socket, not connected yet. Options given here win
 * over `window.realtimeOptions`.
 *
 * @param {ClientOptions} [options] see `Client.defaults`
 * @returns {Client}
 * @throws {Error} when the page has no connection id
 */
export function createClient(options = {}) {
  if (!adapters.document) {
    throw new Error(
      "createClient() reads the page's <body>, and there is no page here." +
      " Without one (in Node), use new Client(socketUrl(origin, path, connectionId), options)."
    )
  }
  const config = getConfig()
  if (config.connectionId === null) {
    throw new Error(
      `This page has no ${constants.BODY_CONNECTION_ID_ATTRIBUTE} attribute on its <body>.` +
      " Is the Realtime extension registered on the app, with REALTIME_INJECT on?"
    )
  }
  const url = socketUrl(adapters.window.location, config.path, config.connectionId)
  return new Client(url, { ...config.options, ...options })
}

/**
 * Set up `window.realtime` when the page has a connection id, and connect
 * it unless `script` has data-connect="false". Waits for the <body> when
 * called before it is parsed. The browser build calls this as it loads.
 *
 * @param {?ElementLike} [script] the <script> that loaded the client
 */
export function start(script = null) {
  const win = adapters.window
  const doc = adapters.document
  if (!win || !doc) {
    return
  }
  const { connect } = getConfig(script)
  const run = () => {
    if (win.realtime instanceof Client || getConfig().connectionId === null) {
      return
    }
    const client = createClient()
    win.realtime = client
    if (connect) {
      client.connect()
    }
  }
  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", run, { once: true })
  } else {
    run()
  }
}
