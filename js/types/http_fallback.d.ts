/**
 * Call a route with fetch.
 *
 * @param {Object} call `uri`, `method`, `input`, `form` and `headers`, as
 *   for `Client#call`
 * @param {Object} options `connectionId`, `socketKey` (or null), `origin`
 *   (put before `uri`; "" on a page), `timeout` (ms) and `id` (copied into
 *   the reply)
 * @returns {Promise<Object>} the reply
 */
export function fetchRoute({ uri, method, input, form, headers: callHeaders }: Object, { connectionId, socketKey, origin, timeout, id }: Object): Promise<Object>;
/**
 * Encode an input object as a form: fields of text, numbers or booleans,
 * or lists of them (repeated fields), as the server does for `call-route`.
 *
 * @param {Object} input
 * @returns {string}
 */
export function formEncode(input: Object): string;
