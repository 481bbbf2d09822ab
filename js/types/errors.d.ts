/**
 * The error of a message the client will not send: it is in a terminal state.
 *
 * @param {string} state "closed", "refused", "replaced" or "ended"
 * @returns {RealtimeError} with code `closed`
 */
export function closedError(state: string): RealtimeError;
/**
 * The error of a message that was sent when the connection closed: it may or
 * may not have run.
 *
 * @param {string} state the connection's state after the close
 * @returns {RealtimeError} with code `disconnected`
 */
export function disconnectedError(state: string): RealtimeError;
export class RealtimeError extends Error {
    /**
     * @param {string} code what went wrong, for programs
     * @param {string} message what went wrong, for people
     * @param {?Record<string, unknown>} [reply] the server's error reply, when
     *   there is one
     */
    constructor(code: string, message: string, reply?: Record<string, unknown> | null);
    /** What went wrong, for programs: see `RealtimeError.codes`. */
    code: string;
    /** The server's error reply, when there is one. */
    reply: Record<string, unknown> | null;
}
export namespace RealtimeError {
    let codes: Readonly<{
        /** No reply came within the timeout. */
        TIMEOUT: "timeout";
        /** The client is disconnected and its send buffer is full. */
        BUFFER_FULL: "buffer_full";
        /** The message, encoded, is larger than `maxMessageSize`. */
        MESSAGE_TOO_BIG: "message_too_big";
        /** The message cannot be encoded as JSON. */
        INVALID_MESSAGE: "invalid_message";
        /** The connection ended after the message was sent, before its reply. */
        DISCONNECTED: "disconnected";
        /** The client was closed, refused, replaced or ended: it sends nothing more. */
        CLOSED: "closed";
        /** The HTTP request of a fallback call failed (network error). */
        NETWORK: "network";
    }>;
}
