export class Connection {
    /**
     * @param {string} url the socket's ws:// or wss:// URL, with the id
     * @param {Object} delegate told about everything that happens
     * @param {Object} options `reconnectInitial`, `reconnectMax`,
     *   `restartWindow`, `heartbeatInterval`, `heartbeatTimeout` and
     *   `WebSocket` (see `Client.defaults`)
     */
    constructor(url: string, delegate: Object, options: Object);
    url: string;
    delegate: Object;
    WebSocket: any;
    /**
     * "idle", "connecting", "open", "reconnecting", "closed", "refused",
     * "replaced" or "ended".
     */
    state: string;
    ws: any;
    everOpened: boolean;
    openedAt: number | null;
    attempts: number;
    heartbeats: number;
    closedForPageHide: boolean;
    restartWindow: any;
    timer: Timer;
    monitor: ConnectionMonitor;
    /** Whether messages can be sent now. */
    isOpen(): boolean;
    /** Whether the socket's handshake is done and it is not closing. */
    isWritable(): boolean;
    /** Open the socket, unless it is open or opening. */
    open(): void;
    /** Close for good (until `open()`); with code 1000 the server forgets the id. */
    close(code?: number, reason?: string): void;
    /**
     * Send an encoded message.
     *
     * @param {string} text
     * @returns {boolean} false when the socket is not open
     */
    send(text: string): boolean;
    sendHeartbeat(): void;
    stale(): void;
    wake(reason: any): void;
    pageHidden(): void;
    pageShown(): void;
    shutdown(code: any, reason: any): void;
    detach(): any;
    handleOpen(ws: any): void;
    attached(): void;
    handleMessage(ws: any, event: any): void;
    handleError(ws: any): void;
    handleClose(ws: any, event: any): void;
    afterClose(info: any): void;
    restartDelay(code: any): number | undefined;
}
export namespace Connection {
    let stableAfter: number;
}
export default Connection;
import { Timer } from "./timer.js";
import { ConnectionMonitor } from "./connection_monitor.js";
