// Checks on what the client is about to send, done before it is sent so that
// a mistake rejects one Promise with a clear error instead of reaching the
// server: a message the server would refuse for its size (it would close the
// whole socket with 1009), a route on another site, and headers that are not
// an object of text.
//
//   const text = encodeMessage({ action: "ping", id: 1 }, 65536)
//   routePath("https://example.com/rooms/lobby?x=1", "https://example.com/")
//   // "/rooms/lobby?x=1"
//   checkHeaders({ "X-CSRFToken": token })

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

// RFC 9110's token: what fetch accepts as a header name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Check the headers of a route call: a plain object whose keys are header
 * names and whose values are strings.
 *
 * @param {unknown} headers
 * @returns {Record<string, string>} a copy
 * @throws {TypeError} for anything else
 */
export function checkHeaders(headers) {
  const prototype = headers !== null && typeof headers === "object"
    ? Object.getPrototypeOf(headers)
    : undefined
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(
      "The headers must be a plain object of header names and strings," +
      " such as { \"X-CSRFToken\": token }."
    )
  }
  const copy = {}
  for (const [name, value] of Object.entries(/** @type {object} */ (headers))) {
    if (!HEADER_NAME.test(name)) {
      throw new TypeError(`"${name}" is not a header name.`)
    }
    if (typeof value !== "string") {
      throw new TypeError(`The header "${name}" must be a string, not ${typeof value}.`)
    }
    copy[name] = value
  }
  return copy
}
