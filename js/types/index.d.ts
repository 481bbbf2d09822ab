/**
 * The socket's URL for a page: ws:// or wss:// as the page's protocol, the
 * page's host and port, the path, and the id.
 *
 * @param {{protocol: string, host: string}} location the page's location
 * @param {string} path the socket's path, such as "/_realtime"
 * @param {string} connectionId the page's connection id
 * @returns {string}
 */
export function socketUrl(location: {
    protocol: string;
    host: string;
}, path: string, connectionId: string): string;
/**
 * What the page says about its socket: the id and path from the <body>
 * attributes, whether the script tag opted out of connecting, and the
 * options in `window.realtimeOptions`.
 *
 * @param {?ElementLike} [script] the <script> that loaded the client
 * @returns {{connectionId: ?string, path: string, connect: boolean, options: ClientOptions}}
 */
export function getConfig(script?: ElementLike | null): {
    connectionId: string | null;
    path: string;
    connect: boolean;
    options: ClientOptions;
};
/**
 * A client for this page's socket, not connected yet. Options given here win
 * over `window.realtimeOptions`.
 *
 * @param {ClientOptions} [options] see `Client.defaults`
 * @returns {Client}
 * @throws {Error} when the page has no connection id
 */
export function createClient(options?: ClientOptions): Client;
/**
 * Set up `window.realtime` when the page has a connection id, and connect
 * it unless `script` has data-connect="false". Waits for the <body> when
 * called before it is parsed. The browser build calls this as it loads.
 *
 * @param {?ElementLike} [script] the <script> that loaded the client
 */
export function start(script?: ElementLike | null): void;
export { default as adapters } from "./adapters.js";
export { Client } from "./client.js";
export { default as constants } from "./constants.js";
export { RealtimeError } from "./errors.js";
export { default as logger } from "./logger.js";
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
export const DEFAULT_PATH: "/_realtime";
export type ClientOptions = import("./options.js").ClientOptions;
export type ClientSettings = import("./options.js").ClientSettings;
export type ClientEvents = import("./options.js").ClientEvents;
export type ClientState = import("./options.js").ClientState;
export type CloseDetail = import("./options.js").CloseDetail;
export type WebSocketConstructor = import("./options.js").WebSocketConstructor;
export type WebSocketLike = import("./options.js").WebSocketLike;
export type CallOptions = import("./client.js").CallOptions;
export type Reply = import("./client.js").Reply;
export type CallReply<T = unknown> = import("./client.js").CallReply<T>;
export type PushFrame<T = unknown> = import("./client.js").PushFrame<T>;
export type PresenceList<M = unknown> = import("./presence.js").PresenceList<M>;
export type PresenceChange<M = unknown> = import("./presence.js").PresenceChange<M>;
/**
 * An element as far as the client reads it: a <script> tag's attributes.
 */
export type ElementLike = {
    getAttribute(name: string): string | null;
};
import { Client } from "./client.js";
export { Timer, backoff } from "./timer.js";
