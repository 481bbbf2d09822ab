import assert from "node:assert/strict"
import { test } from "node:test"

import adapters from "../src/adapters.js"
import { Client } from "../src/client.js"
import { RealtimeError } from "../src/errors.js"
import logger from "../src/logger.js"
import { RELOAD_KEY } from "../src/page.js"
import { FakeWebSocket } from "./helpers/fake_websocket.js"
import { flush, setup } from "./helpers/fake_page.js"

const URL = "ws://example.com/_realtime?socket_connection_id=abcdefghijklmnop"

/**
 * A client on a fake page, with every event recorded in `events`, except
 * those in `unheard`: listening to "ended" changes what the client does.
 */
function client(t, options = {}, { unheard = [] } = {}) {
  const page = setup(t)
  const realtime = new Client(URL, options)
  const events = []
  for (const name of Client.events.filter((name) => !unheard.includes(name))) {
    realtime.onEvent(name, (info) => events.push([name, info]))
  }
  t.after(() => realtime.close())
  return { page, realtime, events }
}

function connected(t, options = {}, listening = {}) {
  const made = client(t, options, listening)
  made.realtime.connect()
  FakeWebSocket.last.serverOpen()
  return { ...made, ws: FakeWebSocket.last }
}

/** The outcome of a Promise once pending callbacks have run. */
async function outcome(promise) {
  const result = { state: "pending" }
  promise.then(
    (value) => Object.assign(result, { state: "resolved", value }),
    (error) => Object.assign(result, { state: "rejected", error })
  )
  await flush()
  return result
}

test("delivers a push to the channel's listeners with the payload and the frame", (t) => {
  const { realtime, ws } = connected(t)
  const got = []
  realtime.on("chat", (payload, frame) => got.push(["first", payload, frame]))
  realtime.on("chat", (payload) => got.push(["second", payload]))
  realtime.on("other", () => got.push(["other"]))
  const frame = { channel: "chat", payload: { text: "hi" }, position: 7 }
  ws.serverSend(frame)
  assert.deepEqual(got, [["first", { text: "hi" }, frame], ["second", { text: "hi" }]])
})

test("the function on() returns removes that listener only", (t) => {
  const { realtime, ws } = connected(t)
  const got = []
  const listener = (payload) => got.push(payload)
  const off = realtime.on("chat", listener)
  realtime.on("chat", listener)
  ws.serverSend({ channel: "chat", payload: 1 })
  off()
  off()
  ws.serverSend({ channel: "chat", payload: 2 })
  assert.deepEqual(got, [1, 1, 2])
  assert.equal(realtime.channels.count("chat"), 1)
})

test("a listener that throws does not stop the others; the error is reported", (t) => {
  const { page, realtime, ws } = connected(t)
  const got = []
  realtime.on("chat", () => {
    throw new Error("bug in the app")
  })
  realtime.on("chat", (payload) => got.push(payload))
  ws.serverSend({ channel: "chat", payload: 1 })
  assert.deepEqual(got, [1])
  assert.equal(page.errors[0].message, "bug in the app")
})

test("events: open, then close and reconnecting, then open and reconnected", (t) => {
  const { realtime, events } = client(t)
  const off = realtime.onEvent("open", () => events.push(["removed listener"]))
  off()
  realtime.connect()
  FakeWebSocket.last.serverOpen()
  FakeWebSocket.last.serverClose(1006)
  t.mock.timers.tick(375)
  FakeWebSocket.last.serverOpen()
  assert.deepEqual(events, [
    ["open", { reconnected: false }],
    ["close", { code: 1006, reason: "", wasClean: false, state: "reconnecting" }],
    ["reconnecting", { attempt: 1, delay: 375, code: 1006 }],
    ["open", { reconnected: true }],
    ["reconnected", { attempts: 1 }]
  ])
})

test("onEvent refuses an unknown event name", (t) => {
  const { realtime } = client(t)
  assert.throws(() => realtime.onEvent("opne", () => {}), /Unknown event "opne"/)
  assert.throws(() => realtime.on("chat", "not a function"), TypeError)
})

test("unknown options are refused", () => {
  assert.throws(() => new Client(URL, { heartbeat: 1 }), /Unknown option "heartbeat"/)
})

test("send() resolves with the reply that has its id", async (t) => {
  const { realtime, ws } = connected(t)
  const first = realtime.send("ping")
  const second = realtime.send("shout", { text: "hi", id: "mine", action: "other" })
  assert.deepEqual(ws.messages, [
    { action: "ping", id: 1 },
    { text: "hi", action: "shout", id: 2 }
  ])
  ws.serverSend({ id: 2, body: "HI" })
  ws.serverSend({ id: 1, body: "pong" })
  assert.deepEqual(await second, { id: 2, body: "HI" })
  assert.deepEqual(await first, { id: 1, body: "pong" })
})

test("an error reply rejects with its code and message", async (t) => {
  const { realtime, ws } = connected(t)
  const reply = realtime.send("subscribe")
  const error = { code: "unknown_action", message: "Unknown action 'subscribe'." }
  ws.serverReply({ error })
  const result = await outcome(reply)
  assert.equal(result.state, "rejected")
  assert.ok(result.error instanceof RealtimeError)
  assert.equal(result.error.code, "unknown_action")
  assert.equal(result.error.message, "Unknown action 'subscribe'.")
  assert.deepEqual(result.error.reply, { id: 1, error })
})

test("an error reply without a request id is an error event", (t) => {
  const { events, ws } = connected(t)
  ws.serverSend({ id: null, error: { code: "invalid_json", message: "no" } })
  ws.serverSend({ id: 99, body: "a reply nobody waits for" })
  const errors = events.filter(([name]) => name === "error")
  assert.equal(errors.length, 1)
  assert.equal(errors[0][1].code, "invalid_json")
})

test("a call or send times out, and a late reply is ignored", async (t) => {
  const { realtime, ws } = connected(t, { timeout: 1000 })
  const reply = realtime.send("slow")
  const call = realtime.call("/slow", { timeout: 3000 })
  t.mock.timers.tick(999)
  assert.equal((await outcome(reply)).state, "pending")
  t.mock.timers.tick(1)
  const result = await outcome(reply)
  assert.equal(result.state, "rejected")
  assert.equal(result.error.code, "timeout")
  ws.serverSend({ id: 1, body: "too late" })
  t.mock.timers.tick(2000)
  assert.equal((await outcome(call)).error.code, "timeout")
  assert.equal(realtime.pending.size, 0)
})

test("call() sends call-route and resolves with status, headers and body", async (t) => {
  const { realtime, ws } = connected(t)
  const reply = realtime.call("/rooms/lobby/messages?x=1", {
    method: "post", input: { text: "hi" }
  })
  assert.deepEqual(ws.messages, [{
    action: "call-route", uri: "/rooms/lobby/messages?x=1", method: "POST",
    input: { text: "hi" }, id: 1
  }])
  const answer = { id: 1, status: 201, headers: { "Content-Type": "application/json" }, body: { ok: true } }
  ws.serverSend(answer)
  assert.deepEqual(await reply, answer)
})

test("call() defaults to GET, passes form, takes a same-origin absolute URL", (t) => {
  const { realtime, ws } = connected(t)
  realtime.call("http://example.com/rooms/lobby?page=2#top").catch(() => {})
  realtime.call("/form", { method: "PUT", input: { a: 1 }, form: true }).catch(() => {})
  assert.deepEqual(ws.messages, [
    { action: "call-route", uri: "/rooms/lobby?page=2", method: "GET", id: 1 },
    { action: "call-route", uri: "/form", method: "PUT", input: { a: 1 }, form: true, id: 2 }
  ])
})

test("call() rejects a URL of another site and a uri that is not a string", async (t) => {
  const { realtime, ws } = connected(t)
  const other = await outcome(realtime.call("https://evil.example/steal"))
  assert.equal(other.error.code, "invalid_call")
  const bad = await outcome(realtime.call(42))
  assert.ok(bad.error instanceof TypeError)
  assert.deepEqual(ws.messages, [])
})

test("messages over the server's size limit are rejected locally", async (t) => {
  const { realtime, ws } = connected(t)
  const big = await outcome(realtime.send("big", { text: "x".repeat(70000) }))
  assert.equal(big.error.code, "message_too_big")
  assert.match(big.error.message, /70\d{3} bytes, more than the 65536/)
  // Counted in UTF-8 bytes, not characters: 30,000 "é" are 60,000 bytes...
  const fits = realtime.send("ok", { text: "é".repeat(30000) })
  assert.equal(ws.sent.length, 1)
  fits.catch(() => {})
  // ...and 22,000 "€" are 66,000.
  const euros = await outcome(realtime.send("big", { text: "€".repeat(22000) }))
  assert.equal(euros.error.code, "message_too_big")
  const cyclic = {}
  cyclic.self = cyclic
  assert.equal((await outcome(realtime.send("x", cyclic))).error.code, "invalid_message")
})

test("messages sent before the socket opens wait, then go out in order", async (t) => {
  const { realtime } = client(t)
  const first = realtime.send("one")
  const second = realtime.call("/two", { method: "POST" })
  realtime.connect()
  const ws = FakeWebSocket.last
  assert.deepEqual(ws.sent, [])
  ws.serverOpen()
  assert.deepEqual(ws.messages.map((m) => m.id), [1, 2])
  ws.serverSend({ id: 1, body: "1" })
  ws.serverSend({ id: 2, status: 204, headers: {}, body: "" })
  assert.equal((await first).body, "1")
  assert.equal((await second).status, 204)
})

test("the send buffer is bounded: past its size, sends reject at once", async (t) => {
  const { realtime } = connected(t, { sendBufferSize: 2 })
  FakeWebSocket.last.serverClose(1006)
  const waiting = [realtime.send("a"), realtime.send("b")]
  const third = await outcome(realtime.send("c"))
  assert.equal(third.state, "rejected")
  assert.equal(third.error.code, "buffer_full")
  t.mock.timers.tick(375)
  FakeWebSocket.last.serverOpen()
  assert.deepEqual(FakeWebSocket.last.messages.map((m) => m.action), ["a", "b"])
  waiting.forEach((p) => p.catch(() => {}))
})

test("a buffered message that times out is not sent later", async (t) => {
  const { realtime } = client(t, { timeout: 100 })
  const reply = realtime.send("late")
  t.mock.timers.tick(100)
  assert.equal((await outcome(reply)).error.code, "timeout")
  assert.equal(realtime.buffer.size, 0)
  realtime.connect()
  FakeWebSocket.last.serverOpen()
  assert.deepEqual(FakeWebSocket.last.sent, [])
})

test("a lost connection rejects the calls waiting for a reply", async (t) => {
  const { realtime, ws } = connected(t)
  const reply = realtime.call("/messages", { method: "POST", input: {} })
  ws.serverClose(1006)
  const result = await outcome(reply)
  assert.equal(result.error.code, "disconnected")
})

test("close() rejects what waits; later sends reject at once", async (t) => {
  const { realtime } = client(t)
  const buffered = realtime.send("waiting")
  realtime.connect()
  realtime.close()
  assert.equal((await outcome(buffered)).error.code, "closed")
  assert.equal((await outcome(realtime.send("after"))).error.code, "closed")
  assert.equal(realtime.state, "closed")
})

test("refused (4001): a refused event, then one reload of the page", (t) => {
  const { page, realtime, events } = connected(t)
  FakeWebSocket.last.serverClose(4001, "connection id refused")
  assert.equal(realtime.state, "refused")
  assert.deepEqual(events.at(-1), ["refused", {
    code: 4001, reason: "connection id refused", wasClean: true, state: "refused", reload: true
  }])
  assert.equal(page.window.location.reloads, 1)
  assert.equal(page.window.sessionStorage.getItem(RELOAD_KEY), String(Date.now()))
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("refused again within 10 s of a reload: no reload loop", (t) => {
  const { page, events } = connected(t)
  page.window.sessionStorage.setItem(RELOAD_KEY, String(Date.now() - 9999))
  FakeWebSocket.last.serverClose(4001)
  assert.equal(events.at(-1)[1].reload, false)
  assert.equal(page.window.location.reloads, 0)
})

test("refused 10 s after the last reload: reloads again", (t) => {
  const { page } = connected(t)
  page.window.sessionStorage.setItem(RELOAD_KEY, String(Date.now() - 10000))
  FakeWebSocket.last.serverClose(4001)
  assert.equal(page.window.location.reloads, 1)
})

test("refused with reloadOnRefused: false, or without sessionStorage: no reload", (t) => {
  const { page, events } = connected(t, { reloadOnRefused: false })
  FakeWebSocket.last.serverClose(4001)
  assert.equal(events.at(-1)[1].reload, false)
  assert.equal(page.window.location.reloads, 0)

  const other = new Client(URL)
  other.connect()
  Object.defineProperty(page.window, "sessionStorage", {
    get() {
      throw new Error("SecurityError")
    }
  })
  FakeWebSocket.last.serverOpen()
  FakeWebSocket.last.serverClose(4001)
  assert.equal(other.state, "refused")
  assert.equal(page.window.location.reloads, 0)
})

test("replaced (4002): a replaced event, no reconnect, sends reject", async (t) => {
  const { realtime, events } = connected(t)
  FakeWebSocket.last.serverClose(4002, "replaced by a newer socket")
  assert.equal(realtime.state, "replaced")
  assert.deepEqual(events.slice(-2).map(([name]) => name), ["close", "replaced"])
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
  assert.equal((await outcome(realtime.send("x"))).error.code, "closed")
})

test("ended (4003) with no ended listener: no reconnect, one reload of the page", (t) => {
  const { page, realtime, events } = connected(t, {}, { unheard: ["ended"] })
  FakeWebSocket.last.serverClose(4003, "session ended")
  assert.equal(realtime.state, "ended")
  assert.deepEqual(events.at(-1), ["close", {
    code: 4003, reason: "session ended", wasClean: true, state: "ended"
  }])
  assert.equal(page.window.location.reloads, 1)
  assert.equal(page.window.sessionStorage.getItem(RELOAD_KEY), String(Date.now()))
  page.window.dispatchEvent(new Event("online"))
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("ended (4003) with an ended listener: the page handles it, no reload", (t) => {
  const { page, realtime, events } = connected(t)
  FakeWebSocket.last.serverClose(4003, "session ended")
  assert.equal(realtime.state, "ended")
  assert.deepEqual(events.slice(-2), [
    ["close", { code: 4003, reason: "session ended", wasClean: true, state: "ended" }],
    ["ended", { code: 4003, reason: "session ended", wasClean: true, state: "ended" }]
  ])
  assert.equal(page.window.location.reloads, 0)
  assert.equal(page.window.sessionStorage.getItem(RELOAD_KEY), null)
})

test("an ended listener that removes itself while called still counts as handling it", (t) => {
  const { page, realtime } = connected(t, {}, { unheard: ["ended"] })
  const got = []
  const off = realtime.onEvent("ended", (info) => {
    off()
    got.push(info.code)
  })
  FakeWebSocket.last.serverClose(4003)
  assert.deepEqual(got, [4003])
  assert.equal(page.window.location.reloads, 0)
})

test("ended with reloadOnEnded: false, or within reloadInterval of a reload: no reload", (t) => {
  const { page } = connected(t, { reloadOnEnded: false }, { unheard: ["ended"] })
  FakeWebSocket.last.serverClose(4003)
  assert.equal(page.window.location.reloads, 0)

  // A reload for a refused id 9.999 s ago: no second one, or a page whose
  // new socket is ended at once would reload forever.
  page.window.sessionStorage.setItem(RELOAD_KEY, String(Date.now() - 9999))
  const other = new Client(URL)
  other.connect()
  FakeWebSocket.last.serverOpen()
  FakeWebSocket.last.serverClose(4003)
  assert.equal(other.state, "ended")
  assert.equal(page.window.location.reloads, 0)
  t.mock.timers.tick(1)
  const third = new Client(URL)
  third.connect()
  FakeWebSocket.last.serverOpen()
  FakeWebSocket.last.serverClose(4003)
  assert.equal(page.window.location.reloads, 1)
})

test("ended: waiting calls reject, buffered ones too, later ones at once, even over HTTP", async (t) => {
  const { realtime, ws } = connected(t, { httpFallback: true })
  let fetched = 0
  adapters.fetch = async () => {
    fetched += 1
    return new Response("{}")
  }
  const sent = realtime.call("/messages", { method: "POST", input: { text: "hi" } })
  assert.equal(ws.messages.length, 1)
  ws.serverClose(4003, "session ended")
  const waiting = await outcome(sent)
  assert.equal(waiting.error.code, "disconnected")
  assert.match(waiting.error.message, /before the reply came: the session ended/)
  const later = [() => realtime.send("ping"), () => realtime.call("/messages", { method: "POST" })]
  for (const make of later) {
    const result = await outcome(make())
    assert.equal(result.error.code, "closed")
    assert.match(result.error.message, /close code 4003/)
  }
  assert.equal(fetched, 0)
})

test("ended while messages wait in the buffer: they reject with closed", async (t) => {
  const { realtime } = client(t)
  const buffered = realtime.send("waiting")
  realtime.connect()
  FakeWebSocket.last.serverClose(4003)
  const result = await outcome(buffered)
  assert.equal(result.error.code, "closed")
  assert.match(result.error.message, /the session ended/)
  assert.equal(realtime.buffer.size, 0)
})

test("a close listener may close the client: then no reconnect", (t) => {
  const { realtime } = connected(t)
  realtime.onEvent("close", () => realtime.close())
  FakeWebSocket.last.serverClose(1006)
  assert.equal(realtime.state, "closed")
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("the first connection sends no positions; a reconnect sends the last of each channel", (t) => {
  const { realtime, ws } = connected(t)
  assert.equal(ws.url, URL)
  ws.serverSend({ channel: "chat", payload: 1, position: "e1:1" })
  ws.serverSend({ channel: "chat", payload: 2, position: "e1:2" })
  ws.serverSend({ channel: "news", payload: 3, position: "e2:7" })
  ws.serverSend({ channel: "old", payload: 4 })
  ws.serverClose(1006)
  t.mock.timers.tick(375)
  const positions = { chat: "e1:2", news: "e2:7" }
  assert.equal(
    FakeWebSocket.last.url,
    `${URL}&positions=${encodeURIComponent(JSON.stringify(positions))}`
  )
  assert.deepEqual(
    JSON.parse(new globalThis.URL(FakeWebSocket.last.url).searchParams.get("positions")),
    positions
  )
  assert.equal(realtime.state, "connecting")
})

test("1012 (server restart): reconnects within the window with the id and positions", async (t) => {
  const { realtime, events, ws } = connected(t)
  ws.serverSend({ channel: "chat", payload: 1, position: "e1:4" })
  Math.random.mock.mockImplementation(() => 0.8)
  ws.serverClose(1012, "service restart")
  assert.equal(realtime.state, "reconnecting")
  assert.deepEqual(events.slice(-2), [
    ["close", { code: 1012, reason: "service restart", wasClean: true, state: "reconnecting" }],
    ["reconnecting", { attempt: 1, delay: 4000, code: 1012 }]
  ])
  // Calls wait in the buffer for the reconnect, as after any drop.
  const reply = realtime.send("waiting")
  t.mock.timers.tick(3999)
  assert.equal(FakeWebSocket.instances.length, 1)
  t.mock.timers.tick(1)
  const url = new globalThis.URL(FakeWebSocket.last.url)
  assert.equal(url.searchParams.get("socket_connection_id"), "abcdefghijklmnop")
  assert.deepEqual(JSON.parse(url.searchParams.get("positions")), { chat: "e1:4" })
  FakeWebSocket.last.serverOpen()
  assert.deepEqual(FakeWebSocket.last.messages, [{ action: "waiting", id: 1 }])
  assert.deepEqual(events.slice(-2), [
    ["open", { reconnected: true }], ["reconnected", { attempts: 1 }]
  ])
  FakeWebSocket.last.serverReply({ body: "ok" })
  assert.deepEqual(await reply, { id: 1, body: "ok" })
})

test("1012, then a server that is not up yet: the usual backoff", (t) => {
  const { realtime, events, ws } = connected(t, { restartWindow: 10000 })
  Math.random.mock.mockImplementation(() => 0.2)
  ws.serverClose(1012)
  t.mock.timers.tick(2000)
  Math.random.mock.mockImplementation(() => 0.5)
  FakeWebSocket.last.serverClose(1006)
  assert.equal(realtime.state, "reconnecting")
  assert.deepEqual(events.filter(([name]) => name === "reconnecting"), [
    ["reconnecting", { attempt: 1, delay: 2000, code: 1012 }],
    ["reconnecting", { attempt: 2, delay: 750, code: 1006 }]
  ])
  t.mock.timers.tick(750)
  assert.equal(FakeWebSocket.instances.length, 3)
  assert.match(FakeWebSocket.last.url, /socket_connection_id=abcdefghijklmnop&positions=/)
})

test("1012 from a server that lost the socket, then 4001: the page reloads", (t) => {
  const { page, realtime, events, ws } = connected(t)
  ws.serverClose(1012)
  t.mock.timers.tick(2500)
  FakeWebSocket.last.serverClose(4001, "connection id refused")
  assert.equal(realtime.state, "refused")
  assert.deepEqual(events.at(-1), ["refused", {
    code: 4001, reason: "connection id refused", wasClean: true, state: "refused", reload: true
  }])
  assert.equal(page.window.location.reloads, 1)
})

test("a reconnect with nothing received still sends positions, empty", (t) => {
  connected(t)
  FakeWebSocket.last.serverClose(1006)
  t.mock.timers.tick(375)
  assert.equal(FakeWebSocket.last.url, `${URL}&positions=%7B%7D`)
})

test("a connection that never attached is retried without positions", (t) => {
  const { realtime } = client(t)
  realtime.connect()
  FakeWebSocket.last.serverClose(1006)
  t.mock.timers.tick(375)
  assert.equal(FakeWebSocket.last.url, URL)
})

test("a gap frame is a missed event, keeps its position, and reaches no listener", (t) => {
  const { realtime, events, ws } = connected(t)
  const got = []
  realtime.on("chat", (payload) => got.push(payload))
  ws.serverSend({ channel: "chat", gap: true, position: "e1:57" })
  ws.serverSend({ channel: "chat", payload: "next", position: "e1:58" })
  assert.deepEqual(got, ["next"])
  assert.deepEqual(events.filter(([name]) => name === "missed"), [
    ["missed", { channel: "chat", position: "e1:57" }]
  ])
  assert.equal(realtime.positions.get("chat"), "e1:58")
})

test("call() sends the headers it is given, and no headers field without them", (t) => {
  const { realtime, ws } = connected(t)
  const headers = { "X-CSRFToken": "t0k3n" }
  realtime.call("/messages", { method: "POST", input: { text: "hi" }, headers }).catch(() => {})
  realtime.call("/messages", { method: "POST", input: { text: "hi" } }).catch(() => {})
  assert.deepEqual(ws.messages, [
    {
      action: "call-route", uri: "/messages", method: "POST", input: { text: "hi" },
      headers: { "X-CSRFToken": "t0k3n" }, id: 1
    },
    { action: "call-route", uri: "/messages", method: "POST", input: { text: "hi" }, id: 2 }
  ])
})

test("call() rejects headers that are not an object of strings, and sends nothing", async (t) => {
  const { realtime, ws } = connected(t)
  for (const headers of [null, "X-CSRFToken: t", [["X-CSRFToken", "t"]], { "X-CSRFToken": 1 }]) {
    const result = await outcome(realtime.call("/messages", { method: "POST", headers }))
    assert.equal(result.state, "rejected")
    assert.ok(result.error instanceof TypeError, String(result.error))
  }
  assert.deepEqual(ws.messages, [])
})

test("the WebSocket option is the implementation the client connects with", (t) => {
  setup(t)
  adapters.WebSocket = undefined  // Node before 22: no global one
  class OwnWebSocket extends FakeWebSocket {}
  const realtime = new Client(URL, { WebSocket: OwnWebSocket })
  t.after(() => realtime.close())
  realtime.connect()
  assert.ok(FakeWebSocket.last instanceof OwnWebSocket)
  FakeWebSocket.last.serverOpen()
  assert.equal(realtime.state, "open")
})

test("without a global WebSocket or the option, the client says how to pass one", (t) => {
  setup(t)
  adapters.WebSocket = undefined
  assert.throws(() => new Client(URL), {
    name: "TypeError", message: /no global WebSocket \(Node before 22 has none\)/
  })
  assert.throws(() => new Client(URL, { WebSocket: "ws" }), {
    name: "TypeError", message: /The WebSocket option must be a WebSocket class/
  })
  assert.throws(
    () => new Client(URL, { WebSocket: FakeWebSocket, socketKey: 42 }),
    /socketKey option must be a string/
  )
})

test("socketKey goes into every upgrade URL, positions after it, and out of the log", (t) => {
  setup(t)
  const lines = []
  adapters.logger = { log: (...parts) => lines.push(parts.join(" ")) }
  logger.enabled = true
  const key = "k".repeat(40) + "+/="
  const realtime = new Client(URL, { socketKey: key })
  t.after(() => realtime.close())
  realtime.connect()
  assert.equal(FakeWebSocket.last.url, `${URL}&socket_key=${encodeURIComponent(key)}`)
  FakeWebSocket.last.serverOpen()
  FakeWebSocket.last.serverSend({ channel: "chat", payload: 1, position: "e1:1" })
  FakeWebSocket.last.serverClose(1006)
  t.mock.timers.tick(500)
  const url = new globalThis.URL(FakeWebSocket.last.url)
  assert.equal(url.searchParams.get("socket_key"), key)
  assert.deepEqual(JSON.parse(url.searchParams.get("positions")), { chat: "e1:1" })
  assert.equal(realtime.url, URL)
  assert.ok(lines.some((line) => line.includes("socket_key=…")), lines)
  assert.ok(!lines.some((line) => line.includes("kkkk")), lines)
})

test("presence frames keep the lists of presence() and onPresence(), not on()", (t) => {
  const { realtime, ws } = connected(t)
  const pushes = []
  const changes = []
  realtime.on("room", (payload) => pushes.push(payload))
  const off = realtime.onPresence("room", (list, change) => changes.push([list, change]))
  ws.serverSend({ channel: "room", presence_state: { ann: [{ ref: "a1", meta: { name: "Ann" } }] } })
  ws.serverSend({ channel: "room", presence: { joins: { bob: [{ ref: "b1", meta: null }] }, leaves: {} } })
  ws.serverSend({ channel: "room", payload: "hello", position: "e:1" })
  off()
  ws.serverSend({ channel: "room", presence: { joins: {}, leaves: { ann: [{ ref: "a1", meta: {} }] } } })
  assert.deepEqual(pushes, ["hello"])
  assert.deepEqual(changes, [
    [{ ann: [{ name: "Ann" }] }, { joins: { ann: [{ name: "Ann" }] }, leaves: {} }],
    [{ ann: [{ name: "Ann" }], bob: [null] }, { joins: { bob: [null] }, leaves: {} }]
  ])
  assert.deepEqual(realtime.presence("room"), { bob: [null] })
})

test("after a reconnect, channels the server sends no state for empty once attached", (t) => {
  const { realtime, ws } = connected(t)
  ws.serverSend({ channel: "room", presence_state: { ann: [{ ref: "a1", meta: 1 }] } })
  ws.serverSend({ channel: "lobby", presence_state: { bob: [{ ref: "b1", meta: 2 }] } })
  const left = []
  realtime.onPresence("lobby", (list, { leaves }) => left.push(leaves))
  ws.serverClose(1006)
  t.mock.timers.tick(375)
  const again = FakeWebSocket.last
  again.serverOpen({ attach: false })
  // While the server attaches the socket: the state of "room", which still
  // has members, and none for "lobby", whose members left meanwhile.
  again.serverSend({ channel: "room", presence_state: { ann: [{ ref: "a1", meta: 1 }] } })
  assert.deepEqual(realtime.presence("lobby"), { bob: [2] })
  again.serverSend({ id: again.attachPing?.id ?? again.messages[0].id, body: "pong" })
  assert.deepEqual(realtime.presence("room"), { ann: [1] })
  assert.deepEqual(realtime.presence("lobby"), {})
  assert.deepEqual(left, [{ bob: [2] }])
})
