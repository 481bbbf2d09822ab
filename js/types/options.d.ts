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
export const defaults: Readonly<ClientSettings>;
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
export const events: ReadonlyArray<keyof ClientEvents>;
/**
 * What the client needs of a WebSocket implementation: the browser's, Node
 * 22's global one, or the `ws` package's `WebSocket` class.
 */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
/**
 * The parts of a WebSocket the client uses. Its handlers take `any`, so
 * that every implementation's own event types fit.
 */
export type WebSocketLike = {
    /**
     * 1 when open
     */
    readyState: number;
    send: (data: string) => void;
    close: (code?: number, reason?: string) => void;
    onopen: ((event: any) => void) | null;
    /**
     * reads `event.data`
     */
    onmessage: ((event: any) => void) | null;
    onerror: ((event: any) => void) | null;
    /**
     * reads `event.code`,
     * `event.reason` and `event.wasClean`
     */
    onclose: ((event: any) => void) | null;
};
/**
 * Every option of the client, with a value (see `defaults`).
 */
export type ClientSettings = {
    /**
     * ms to wait for a reply to `call()` or `send()`
     */
    timeout: number;
    /**
     * ms: the ceiling of the first
     * reconnect delay; it doubles each attempt
     */
    reconnectInitial: number;
    /**
     * ms: the ceiling of every reconnect delay
     */
    reconnectMax: number;
    /**
     * ms: after a server restart (1012), the
     * first reconnect waits a random time from 0 to this
     */
    restartWindow: number;
    /**
     * ms without any frame before the
     * client pings; 0 turns pings off
     */
    heartbeatInterval: number;
    /**
     * ms to wait for any frame after a ping
     * before reconnecting; 0: for ever
     */
    heartbeatTimeout: number;
    /**
     * how many messages may wait while
     * disconnected
     */
    sendBufferSize: number;
    /**
     * largest message, in bytes of UTF-8
     */
    maxMessageSize: number;
    /**
     * whether `call()` uses fetch while the
     * socket is not open
     */
    httpFallback: boolean;
    /**
     * whether to reload the page when the
     * server refuses its id
     */
    reloadOnRefused: boolean;
    /**
     * whether to reload the page when its
     * session ends, unless the page listens to "ended"
     */
    reloadOnEnded: boolean;
    /**
     * ms: at most one reload in this period
     */
    reloadInterval: number;
    /**
     * log to the console
     */
    debug: boolean;
    /**
     * the WebSocket
     * implementation; null: the global `WebSocket` (browsers, Node 22+)
     */
    WebSocket: WebSocketConstructor | null;
    /**
     * a socket key the client presents
     * itself, for clients without cookies (Node): sent in the upgrade
     * request's `socket_key` parameter and in the `X-Realtime-Socket-Key`
     * header of HTTP fallback calls
     */
    socketKey: string | null;
};
/**
 * The options a client is made with: any of `ClientSettings`.
 */
export type ClientOptions = Partial<ClientSettings>;
/**
 * A client's state: "idle", "connecting", "open", "reconnecting", or one of
 * the final ones, "closed", "refused", "replaced" and "ended".
 */
export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed" | "refused" | "replaced" | "ended";
/**
 * What a close event tells.
 */
export type CloseDetail = {
    /**
     * the close code
     */
    code: number;
    reason: string;
    wasClean: boolean;
    /**
     * what comes next
     */
    state: ClientState;
};
/**
 * The detail each of the client's events carries, by event name.
 */
export type ClientEvents = {
    open: {
        reconnected: boolean;
    };
    close: CloseDetail;
    reconnecting: {
        attempt: number;
        delay: number;
        code: number;
    };
    reconnected: {
        attempts: number;
    };
    missed: {
        channel: string;
        position: string | undefined;
    };
    error: Error;
    refused: CloseDetail & {
        reload: boolean;
    };
    replaced: CloseDetail;
    ended: CloseDetail;
};
