// The error every rejected `call()` and `send()` Promise carries. Its `code`
// is one of the server's error codes (see constants.js, `ERROR_*`) or one of
// the client's own, listed in `RealtimeError.codes`:
//
//   try {
//     await realtime.send("ping")
//   } catch (error) {
//     if (error.code === "timeout") showOffline()
//   }
//
// A client in a terminal state ("closed", "refused", "replaced", "ended")
// rejects with `closed`; the message says which, so a developer reading the
// console learns why without the close event.

export class RealtimeError extends Error {
  /**
   * @param {string} code what went wrong, for programs
   * @param {string} message what went wrong, for people
   * @param {?Record<string, unknown>} [reply] the server's error reply, when
   *   there is one
   */
  constructor(code, message, reply = null) {
    super(message)
    this.name = "RealtimeError"
    /** What went wrong, for programs: see `RealtimeError.codes`. */
    this.code = code
    /** The server's error reply, when there is one. */
    this.reply = reply
  }
}

/** The codes the client itself uses, besides the server's. */
RealtimeError.codes = Object.freeze({
  /** No reply came within the timeout. */
  TIMEOUT: "timeout",
  /** The client is disconnected and its send buffer is full. */
  BUFFER_FULL: "buffer_full",
  /** The message, encoded, is larger than `maxMessageSize`. */
  MESSAGE_TOO_BIG: "message_too_big",
  /** The message cannot be encoded as JSON. */
  INVALID_MESSAGE: "invalid_message",
  /** The connection ended after the message was sent, before its reply. */
  DISCONNECTED: "disconnected",
  /** The client was closed, refused, replaced or ended: it sends nothing more. */
  CLOSED: "closed",
  /** The HTTP request of a fallback call failed (network error). */
  NETWORK: "network"
})

// Why each terminal state sends nothing more, for people reading the error.
const ENDINGS = Object.freeze({
  closed: "the client was closed",
  refused: "the server refused the page's connection id (close code 4001)",
  replaced: "another socket took the page's connection id (close code 4002)",
  ended: "the session ended, or the app disconnected one of the page's channels (close code 4003)"
})

/**
 * The error of a message the client will not send: it is in a terminal state.
 *
 * @param {string} state "closed", "refused", "replaced" or "ended"
 * @returns {RealtimeError} with code `closed`
 */
export function closedError(state) {
  const why = ENDINGS[state] ?? `the client is ${state}`
  return new RealtimeError(RealtimeError.codes.CLOSED, `Nothing more is sent: ${why}.`)
}

/**
 * The error of a message that was sent when the connection closed: it may or
 * may not have run.
 *
 * @param {string} state the connection's state after the close
 * @returns {RealtimeError} with code `disconnected`
 */
export function disconnectedError(state) {
  const why = ENDINGS[state]
  return new RealtimeError(
    RealtimeError.codes.DISCONNECTED,
    `The connection closed before the reply came${why === undefined ? "" : `: ${why}`}.`
  )
}
