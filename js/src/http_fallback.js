// A route call over plain HTTP, for the moments the socket is down: the same
// route, method and input as `call-route`, sent with `fetch`, and the
// response turned into the shape of a `call-route` reply, `{status, headers,
// body}`. The request names the page's socket in `X-Socket-Connection-Id`,
// so `g.socket` in the route acts on this page's socket, as over the socket;
// a client without cookies also presents its key in `X-Realtime-Socket-Key`.
//
//   const reply = await fetchRoute(
//     { uri: "/messages", method: "POST", input: { text: "hi" } },
//     { connectionId, timeout: 10000 }
//   )
//   reply.status   // 201
//   reply.body     // parsed JSON, or text
//
// Unlike `call-route`, `fetch` follows redirects: a 303 arrives as the page
// it redirects to.

import adapters from "./adapters.js"
import constants from "./constants.js"
import { RealtimeError } from "./errors.js"

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
export async function fetchRoute(
  { uri, method, input, form, headers: callHeaders },
  { connectionId, socketKey = null, origin = "", timeout, id = null }
) {
  if (typeof adapters.fetch !== "function") {
    throw new RealtimeError(RealtimeError.codes.NETWORK, "fetch is not available.")
  }
  // The call's own headers first: the client's win over a name given twice.
  const headers = { ...callHeaders, [constants.CONNECTION_ID_HEADER]: connectionId }
  if (socketKey !== null) {
    headers[constants.SOCKET_KEY_HEADER] = socketKey
  }
  let url = origin + uri
  let body
  if (method === "GET" || method === "HEAD") {
    if (input !== undefined && input !== null) {
      url += (url.includes("?") ? "&" : "?") + formEncode(input)
    }
  } else if (form) {
    body = formEncode(input ?? {})
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  } else if (input !== undefined) {
    body = JSON.stringify(input)
    headers["Content-Type"] = "application/json"
  }
  const controller = typeof AbortController === "function" ? new AbortController() : null
  let timedOut = false
  const timer = adapters.setTimeout(() => {
    timedOut = true
    controller?.abort()
  }, timeout)
  try {
    const response = await adapters.fetch(url, {
      method, headers, body, credentials: "same-origin", signal: controller?.signal
    })
    const text = method === "HEAD" ? "" : await response.text()
    if (timedOut) {
      throw new Error("aborted")
    }
    return {
      id,
      status: response.status,
      headers: headersObject(response.headers),
      body: decodeBody(text, response.headers.get("Content-Type") || "")
    }
  } catch (error) {
    if (timedOut) {
      throw new RealtimeError(RealtimeError.codes.TIMEOUT, `No response within ${timeout} ms.`)
    }
    if (error instanceof RealtimeError) {
      throw error
    }
    throw new RealtimeError(RealtimeError.codes.NETWORK, `The request failed: ${error.message}`)
  } finally {
    adapters.clearTimeout(timer)
  }
}

/**
 * Encode an input object as a form: fields of text, numbers or booleans,
 * or lists of them (repeated fields), as the server does for `call-route`.
 *
 * @param {Object} input
 * @returns {string}
 */
export function formEncode(input) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new RealtimeError(
      constants.ERROR_INVALID_CALL, "'input' must be an object for a GET, HEAD or form call."
    )
  }
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(input)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (!["string", "number", "boolean"].includes(typeof item)) {
        throw new RealtimeError(
          constants.ERROR_INVALID_CALL, `'input' field '${name}' must hold text or numbers.`
        )
      }
      params.append(name, String(item))
    }
  }
  return params.toString()
}

// Private

function headersObject(headers) {
  // fetch lowercases header names; the socket's replies spell them as the
  // server does, which for Werkzeug is "Content-Type".
  const result = {}
  headers.forEach((value, name) => {
    const spelled = name.replace(/(^|-)([a-z])/g, (_, dash, letter) => dash + letter.toUpperCase())
    result[spelled] = value
  })
  return result
}

function decodeBody(text, contentType) {
  const mimetype = contentType.split(";")[0].trim().toLowerCase()
  if (mimetype === "application/json" || mimetype.endsWith("+json")) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
}
