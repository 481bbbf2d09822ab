/**
 * Encode a message as JSON, checking its size in bytes of UTF-8.
 *
 * @param {Object} message
 * @param {number} maxSize in bytes
 * @returns {string}
 * @throws {RealtimeError} "invalid_message" when JSON cannot encode it,
 *   "message_too_big" when it is over `maxSize`
 */
export function encodeMessage(message: Object, maxSize: number): string;
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
export function routePath(uri: string, base: string): string;
/**
 * Check the headers of a route call: a plain object whose keys are header
 * names and whose values are strings.
 *
 * @param {unknown} headers
 * @returns {Record<string, string>} a copy
 * @throws {TypeError} for anything else
 */
export function checkHeaders(headers: unknown): Record<string, string>;
