// Checks on what the client is about to send, done before it is sent so that
// a mistake rejects one Promise with a clear error instead of reaching the
// server: a message the server would refuse for its size (it would close the
// whole socket with 1009), and a route on another site.
//
//   const text = encodeMessage({ action: "ping", id: 1 }, 65536)
//   routePath("https://example.com/rooms/lobby?x=1", "https://example.com/")
//   // "/rooms/lobby?x=1"

import constants from "./constants.js"
import { RealtimeError } from "./errors.js"

/**
 * Encode a message as JSON, checking its size in bytes of UTF-8.
 *
 * @param {Object} message
 * @param {number} maxSize in bytes
 * @returns {string}
 * @throws {RealtimeError} "invalid_message" when JSON cannot encode it,
 *   "message_too_big" when it is over `maxSize`
 */
export function encodeMessage(message, maxSize) {
  let text
  try {
    text = JSON.stringify(message)
  } catch (error) {
    throw new RealtimeError(
      RealtimeError.codes.INVALID_MESSAGE, `The message cannot be encoded as JSON: ${error.message}`
    )
  }
  // Each UTF-16 unit takes 1 to 3 bytes of UTF-8: skip the encoding when even
  // the largest size it could have is within the limit.
  const size = text.length * 3 <= maxSize ? text.length : new TextEncoder().encode(text).length
  if (size > maxSize) {
    throw new RealtimeError(
      RealtimeError.codes.MESSAGE_TOO_BIG,
      `The message is ${size} bytes, more than the ${maxSize} bytes the server accepts.`
    )
  }
  return text
}

/**
 * The path and query of a route on this site, as `call-route` wants them.
 *
 * @param {string} uri a path ("/messages"), a relative one, or an absolute
 *   URL on the same origin (what `form.action` gives)
 * @param {string} base the page's URL
 * @returns {string}
 * @throws {TypeError} when `uri` is not a string
 * @throws {RealtimeError} "invalid_call" for a URL on another origin
 */
export function routePath(uri, base) {
  if (typeof uri !== "string" || uri === "") {
    throw new TypeError("The uri must be a path such as \"/messages\".")
  }
  const url = new URL(uri, base)
  if (url.origin !== new URL(base).origin) {
    throw new RealtimeError(constants.ERROR_INVALID_CALL, `${uri} is not on this site.`)
  }
  return url.pathname + url.search
}
