export class Client {
    /**
     * @param {string} url the socket's ws:// or wss:// URL, with the
     *   `socket_connection_id` query parameter
     * @param {ClientOptions} [options] see `Client.defaults`
     * @throws {TypeError} for an unknown option, or when there is no WebSocket
     *   implementation
     */
    constructor(url: string, options?: ClientOptions);
    /** The socket's URL, as given. */
    url: string;
    /** @type {ClientSettings} */
    options: ClientSettings;
    /** The page's connection id, from the URL. */
    connectionId: string | null;
    /** @private */
    private httpOrigin;
    /** @private */
    private channels;
    /** @private */
    private events;
    /** @private */
    private presences;
    /** @private */
    private pending;
    /** @private */
    private buffer;
    /** @private */
    private positions;
    /** @private */
    private attachedBefore;
    /** @private */
    private nextId;
    /** @private */
    private connection;
    /**
     * "idle", "connecting", "open", "reconnecting", "closed", "refused",
     * "replaced" or "ended".
     *
     * @returns {ClientState}
     */
    get state(): ClientState;
    /**
     * Open the socket. It reconnects by itself from then on, until `close()`.
     *
     * @returns {Client} this client
     */
    connect(): Client;
    /**
     * Close the socket and stop reconnecting. With code 1000 (the default) the
     * server forgets the page's id at once. Pending calls reject.
     *
     * @param {number} [code=1000]
     * @param {string} [reason=""]
     */
    close(code?: number, reason?: string): void;
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
    on<T = unknown>(channel: string, listener: (payload: T, frame: PushFrame<T>) => void): () => void;
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
    presence<M = unknown>(channel: string): PresenceList<M>;
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
    onPresence<M = unknown>(channel: string, listener: (list: PresenceList<M>, change: PresenceChange<M>) => void): () => void;
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
    onEvent<K extends keyof ClientEvents>(name: K, listener: (detail: ClientEvents[K]) => void): () => void;
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
    call<T = unknown>(uri: string, { method, input, form, timeout, headers }?: CallOptions): Promise<CallReply<T>>;
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
    send(action: string, data?: Record<string, unknown>, { timeout }?: {
        timeout?: number;
    }): Promise<Reply>;
    /** @private */
    private connectionUrl;
    /** @private */
    private connectionOpened;
    /** @private */
    private connectionReceived;
    /** @private */
    private connectionClosed;
    /** @private */
    private connectionReconnecting;
    /** @private */
    private connectionError;
    /** @private */
    private sessionEnded;
    /** @private */
    private request;
}
export namespace Client {
    export { defaults };
    export { events };
}
export default Client;
/**
 * A message pushed to a channel, as the listeners of `on()` get it.
 */
export type PushFrame<T = unknown> = {
    channel: string;
    /**
     * what the app pushed
     */
    payload: T;
    /**
     * the channel's position, for the replay after
     * a reconnect
     */
    position?: string | undefined;
};
/**
 * The options of `Client#call()`.
 */
export type CallOptions = {
    /**
     * "GET" by default
     */
    method?: string | undefined;
    /**
     * JSON for the request body; for GET and HEAD,
     * or with `form`, an object of fields
     */
    input?: unknown;
    /**
     * send `input` as a form
     */
    form?: boolean | undefined;
    /**
     * ms; `Client.defaults.timeout`
     */
    timeout?: number | undefined;
    /**
     * request headers, such as
     * `{"X-CSRFToken": token}`; over the socket, the server accepts only the
     * names on its allow-list (REALTIME_CALL_HEADERS)
     */
    headers?: Record<string, string> | undefined;
};
/**
 * The reply to `Client#call()`: the route's response.
 */
export type CallReply<T = unknown> = {
    /**
     * the request id
     */
    id: number;
    /**
     * the HTTP status
     */
    status: number;
    headers: Record<string, string>;
    /**
     * the parsed JSON, or the text
     */
    body: T;
};
/**
 * The reply to `Client#send()`: the id and what the action answered.
 */
export type Reply = {
    id: number;
    [field: string]: unknown;
};
import type { ClientSettings } from "./options.js";
import type { ClientState } from "./options.js";
import type { PresenceList } from "./presence.js";
import type { PresenceChange } from "./presence.js";
import type { ClientEvents } from "./options.js";
import type { ClientOptions } from "./options.js";
import { defaults } from "./options.js";
import { events } from "./options.js";
