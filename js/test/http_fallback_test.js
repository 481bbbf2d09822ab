import assert from "node:assert/strict"
import { test } from "node:test"

import adapters from "../src/adapters.js"
import { Client } from "../src/client.js"
import { fetchRoute, formEncode } from "../src/http_fallback.js"
import { FakeWebSocket } from "./helpers/fake_websocket.js"
import { flush, setup } from "./helpers/fake_page.js"

const ID = "abcdefghijklmnop"
const URL = `ws://example.com/_realtime?socket_connection_id=${ID}`

/** A fetch that records its requests and answers with `respond(url, init)`. */
function fakeFetch(respond) {
  const requests = []
  const fetch = async (url, init) => {
    requests.push({ url, ...init })
    return respond(url, init)
  }
  return { fetch, requests }
}

const json = (body, status = 200) => new Response(JSON.stringify(body), {
  status, headers: { "content-type": "application/json" }
})

test("a POST sends JSON, same-origin credentials and the page's id", async (t) => {
  setup(t)
  const { fetch, requests } = fakeFetch(() => json({ ok: true }, 201))
  adapters.fetch = fetch
  const reply = await fetchRoute(
    { uri: "/messages", method: "POST", input: { text: "hi" } },
    { connectionId: ID, timeout: 1000, id: 3 }
  )
  assert.deepEqual(reply, {
    id: 3, status: 201, headers: { "Content-Type": "application/json" }, body: { ok: true }
  })
  const [request] = requests
  assert.equal(request.url, "/messages")
  assert.equal(request.method, "POST")
  assert.equal(request.credentials, "same-origin")
  assert.equal(request.body, '{"text":"hi"}')
  assert.deepEqual(request.headers, {
    "X-Socket-Connection-Id": ID, "Content-Type": "application/json"
  })
})

test("GET puts the input in the query string; form sends a form", async (t) => {
  setup(t)
  const { fetch, requests } = fakeFetch(() => new Response("hello", {
    headers: { "content-type": "text/plain; charset=utf-8", "x-thing": "1" }
  }))
  adapters.fetch = fetch
  const reply = await fetchRoute(
    { uri: "/search?q=a", method: "GET", input: { tag: ["x", "y"], n: 2 } },
    { connectionId: ID, timeout: 1000 }
  )
  assert.equal(requests[0].url, "/search?q=a&tag=x&tag=y&n=2")
  assert.equal(requests[0].body, undefined)
  assert.deepEqual(reply.headers, { "Content-Type": "text/plain; charset=utf-8", "X-Thing": "1" })
  assert.equal(reply.body, "hello")
  await fetchRoute(
    { uri: "/form", method: "POST", input: { a: "1 2", b: true }, form: true },
    { connectionId: ID, timeout: 1000 }
  )
  assert.equal(requests[1].body, "a=1+2&b=true")
  assert.equal(requests[1].headers["Content-Type"], "application/x-www-form-urlencoded")
})

test("formEncode refuses what a form cannot hold", () => {
  assert.throws(() => formEncode([1]), /must be an object/)
  assert.throws(() => formEncode({ a: { b: 1 } }), /field 'a'/)
})

test("a JSON body that does not parse stays text", async (t) => {
  setup(t)
  adapters.fetch = fakeFetch(() => new Response("{oops", {
    status: 500, headers: { "content-type": "application/problem+json" }
  })).fetch
  const reply = await fetchRoute({ uri: "/x", method: "DELETE" }, { connectionId: ID, timeout: 1000 })
  assert.equal(reply.status, 500)
  assert.equal(reply.body, "{oops")
})

test("a network failure and a timeout reject with their codes", async (t) => {
  setup(t)
  adapters.fetch = async () => {
    throw new TypeError("Failed to fetch")
  }
  await assert.rejects(
    fetchRoute({ uri: "/x", method: "POST" }, { connectionId: ID, timeout: 1000 }),
    { code: "network", message: "The request failed: Failed to fetch" }
  )
  let signal
  adapters.fetch = (url, init) => new Promise((resolve, reject) => {
    signal = init.signal
    signal.addEventListener("abort", () => reject(new Error("aborted")))
  })
  const reply = fetchRoute({ uri: "/x", method: "POST" }, { connectionId: ID, timeout: 1000 })
  await flush()
  t.mock.timers.tick(1000)
  await assert.rejects(reply, { code: "timeout" })
  assert.equal(signal.aborted, true)
})

test("with httpFallback, call() uses fetch while the socket is down", async (t) => {
  setup(t)
  const { fetch, requests } = fakeFetch(() => json({ id: 1 }, 201))
  adapters.fetch = fetch
  const realtime = new Client(URL, { httpFallback: true })
  t.after(() => realtime.close())
  // Not connected yet.
  const first = await realtime.call("/messages", { method: "POST", input: { text: "a" } })
  assert.equal(first.status, 201)
  realtime.connect()
  FakeWebSocket.last.serverOpen()
  // Open: over the socket.
  const second = realtime.call("/messages", { method: "POST", input: { text: "b" } })
  assert.equal(FakeWebSocket.last.messages[0].input.text, "b")
  FakeWebSocket.last.serverReply({ status: 201, headers: {}, body: {} })
  await second
  // Reconnecting: over HTTP again; send() has no HTTP form, so it waits.
  FakeWebSocket.last.serverClose(1006)
  await realtime.call("/messages", { method: "POST", input: { text: "c" } })
  const waiting = realtime.send("ping")
  assert.deepEqual(requests.map((r) => JSON.parse(r.body).text), ["a", "c"])
  assert.equal(requests[1].headers["X-Socket-Connection-Id"], ID)
  assert.equal(realtime.buffer.size, 1)
  waiting.catch(() => {})
})

test("without httpFallback, call() waits for the socket and fetch is not used", async (t) => {
  setup(t)
  const { fetch, requests } = fakeFetch(() => json({}))
  adapters.fetch = fetch
  const realtime = new Client(URL)
  t.after(() => realtime.close())
  realtime.call("/messages", { method: "POST" }).catch(() => {})
  await flush()
  assert.equal(requests.length, 0)
  assert.equal(realtime.buffer.size, 1)
})

test("the call's headers go into the request; the client's own win", async (t) => {
  setup(t)
  const { fetch, requests } = fakeFetch(() => json({}))
  adapters.fetch = fetch
  await fetchRoute(
    {
      uri: "/messages", method: "POST", input: {},
      headers: { "X-CSRFToken": "t0k3n", "X-Socket-Connection-Id": "someone-elses-id" }
    },
    { connectionId: ID, timeout: 1000 }
  )
  assert.deepEqual(requests[0].headers, {
    "X-CSRFToken": "t0k3n", "X-Socket-Connection-Id": ID, "Content-Type": "application/json"
  })
})

test("with httpFallback, call() sends its headers over HTTP too", async (t) => {
  setup(t)
  const { fetch, requests } = fakeFetch(() => json({}))
  adapters.fetch = fetch
  const realtime = new Client(URL, { httpFallback: true })
  t.after(() => realtime.close())
  await realtime.call("/messages", { method: "POST", headers: { "X-CSRFToken": "t0k3n" } })
  assert.equal(requests[0].url, "/messages")
  assert.equal(requests[0].headers["X-CSRFToken"], "t0k3n")
  assert.equal(requests[0].headers["X-Realtime-Socket-Key"], undefined)
})

test("without a page, the fallback goes to the socket's origin and presents the socket key", async (t) => {
  setup(t)
  adapters.window = undefined
  adapters.document = undefined
  const { fetch, requests } = fakeFetch(() => json({ ok: true }))
  adapters.fetch = fetch
  const key = "k".repeat(43)
  const url = `wss://example.com:8443/_realtime?socket_connection_id=${ID}`
  const realtime = new Client(url, { httpFallback: true, socketKey: key })
  t.after(() => realtime.close())
  const reply = await realtime.call("/subscribe?x=1", { method: "POST", input: { a: "b" }, form: true })
  assert.deepEqual(reply.body, { ok: true })
  assert.equal(requests[0].url, "https://example.com:8443/subscribe?x=1")
  assert.deepEqual(requests[0].headers, {
    "X-Socket-Connection-Id": ID,
    "X-Realtime-Socket-Key": key,
    "Content-Type": "application/x-www-form-urlencoded"
  })
})
