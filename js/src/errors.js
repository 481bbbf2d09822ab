// The error every rejected `call()` and `send()` Promise carries. Its `code`
// is one of the server's error codes (see constants.js, `ERROR_*`) or one of
// the client's own, listed in `RealtimeError.codes`:
//
//   try {
//     await realtime.send("ping")
//   } catch (error) {
//     if (error.code === "timeout") showOffline()
//   }

export class RealtimeError extends Error {
  /**
   * @param {string} code what went wrong, for programs
   * @param {string} message what went wrong, for people
   * @param {?Object} reply the server's error reply, when there is one
   */
  constructor(code, message, reply = null) {
    super(message)
    this.name = "RealtimeError"
    this.code = code
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
  /** The client was closed, refused or replaced: it sends nothing more. */
  CLOSED: "closed",
  /** The HTTP request of a fallback call failed (network error). */
  NETWORK: "network"
})
