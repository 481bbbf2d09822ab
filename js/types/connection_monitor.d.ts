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
    constructor(connection: Connection, { heartbeatInterval, heartbeatTimeout }: {
        heartbeatInterval: number;
        heartbeatTimeout: number;
    });
    connection: Connection;
    heartbeatInterval: number;
    heartbeatTimeout: number;
    idleTimer: any;
    staleTimer: any;
    started: boolean;
    handlers: {
        online: () => any;
        visibilitychange: () => void;
        pagehide: () => any;
        pageshow: (event: any) => void;
    };
    /** Listen to the page's events (online, visibility, pagehide, pageshow). */
    start(): void;
    /** Stop listening, and stop the heartbeat. */
    stop(): void;
    /** A frame arrived: the connection is alive. */
    received(): void;
    /** The connection closed: stop the heartbeat. */
    disconnected(): void;
    /**
     * A socket is being opened: it must open, and answer, within
     * `heartbeatTimeout`, or it counts as stale too.
     */
    connecting(): void;
    /** The handshake is done: ping, to learn when the server has attached it. */
    opened(): void;
    /** Send a ping now, unless one is already waiting for an answer. */
    check(): void;
    listen(method: any): void;
    scheduleHeartbeat(): void;
    heartbeat(): void;
    startStaleTimer(): void;
    clearStaleTimer(): void;
}
export default ConnectionMonitor;
