import assert from "node:assert/strict"
import { test } from "node:test"

import adapters from "../src/adapters.js"
import { Client } from "../src/client.js"
import { Connection } from "../src/connection.js"
import { FakeWebSocket } from "./helpers/fake_websocket.js"
import { setup } from "./helpers/fake_page.js"

const URL = "ws://example.com/_realtime?socket_connection_id=abcdefghijklmnop"

/** A delegate that records what the connection tells it. */
function recorder() {
  const calls = []
  const delegate = {}
  for (const name of [
    "connectionOpened", "connectionReceived", "connectionClosed",
    "connectionReconnecting", "connectionError"
  ]) {
    delegate[name] = (info) => calls.push([name, info])
  }
  return { calls, delegate, names: () => calls.map(([name]) => name) }
}

function open(t, options = {}) {
  const page = setup(t)
  const record = recorder()
  const connection = new Connection(URL, record.delegate, { ...Client.defaults, ...options })
  connection.open()
  FakeWebSocket.last.serverOpen()
  const ws = FakeWebSocket.last
  assert.deepEqual(record.calls, [
    ["connectionOpened", { reconnected: false, attempts: 1 }],
    ["connectionReceived", { id: "heartbeat-1", body: "pong" }]
  ])
  record.calls.length = 0
  return { page, record, connection, ws }
}

test("opens the socket at the URL; open once the server has answered", (t) => {
  setup(t)
  const record = recorder()
  const connection = new Connection(URL, record.delegate, Client.defaults)
  connection.open()
  const ws = FakeWebSocket.last
  assert.equal(ws.url, URL)
  assert.equal(connection.state, "connecting")
  ws.serverOpen({ attach: false })
  // The handshake is done, but the server may not have attached the socket
  // to its subscriptions yet: a ping's reply tells.
  assert.equal(connection.state, "connecting")
  assert.equal(connection.isOpen(), false)
  assert.deepEqual(ws.messages, [{ action: "ping", id: "heartbeat-1" }])
  assert.deepEqual(record.calls, [])
  ws.serverSend({ id: "heartbeat-1", body: "pong" })
  assert.equal(connection.state, "open")
  assert.equal(connection.isOpen(), true)
  assert.deepEqual(record.calls[0], ["connectionOpened", { reconnected: false, attempts: 1 }])
  connection.close()
})

test("a handshake that hangs is given up after the heartbeat timeout", (t) => {
  setup(t)
  const record = recorder()
  const connection = new Connection(URL, record.delegate, { ...Client.defaults, heartbeatTimeout: 500 })
  connection.open()
  t.mock.timers.tick(499)
  assert.equal(connection.state, "connecting")
  t.mock.timers.tick(1)
  assert.equal(connection.state, "reconnecting")
  assert.deepEqual(FakeWebSocket.last.closedWith, { code: 4000, reason: "heartbeat timeout" })
  t.mock.timers.tick(375)
  assert.equal(FakeWebSocket.instances.length, 2)
  FakeWebSocket.last.serverOpen()
  assert.equal(connection.state, "open")
  t.mock.timers.tick(10000)
  assert.equal(connection.state, "open")
  connection.close()
})

test("a push before the ping's reply also shows the socket is attached", (t) => {
  setup(t)
  const record = recorder()
  const connection = new Connection(URL, record.delegate, Client.defaults)
  connection.open()
  FakeWebSocket.last.serverOpen({ attach: false })
  FakeWebSocket.last.serverSend({ channel: "chat", payload: 1 })
  assert.deepEqual(record.names(), ["connectionOpened", "connectionReceived"])
  connection.close()
})

test("no answer at all after the handshake: stale, so reconnect", (t) => {
  setup(t)
  const record = recorder()
  const connection = new Connection(URL, record.delegate, { ...Client.defaults, heartbeatTimeout: 500 })
  connection.open()
  FakeWebSocket.last.serverOpen({ attach: false })
  t.mock.timers.tick(500)
  assert.equal(connection.state, "reconnecting")
  assert.deepEqual(FakeWebSocket.last.closedWith, { code: 4000, reason: "heartbeat timeout" })
  assert.deepEqual(record.names(), ["connectionClosed", "connectionReconnecting"])
  connection.close()
})

test("open while open or opening makes no second socket", (t) => {
  const { connection } = open(t)
  connection.open()
  assert.equal(FakeWebSocket.instances.length, 1)
  connection.close()
})

test("parses frames and hands them over; reports frames that are not objects", (t) => {
  const { record, connection, ws } = open(t)
  ws.serverSend({ channel: "chat", payload: 1 })
  ws.serverSend("not json")
  ws.serverSend("[1, 2]")
  assert.deepEqual(record.calls[0], ["connectionReceived", { channel: "chat", payload: 1 }])
  assert.deepEqual(record.names().slice(1), ["connectionError", "connectionError"])
  assert.equal(record.calls[1][1].code, "invalid_json")
  connection.close()
})

test("reconnects after a lost connection, with backoff, until it opens", (t) => {
  const { record, connection, ws } = open(t)
  t.mock.timers.tick(6000) // the connection held: the backoff starts over
  ws.serverClose(1006)
  assert.equal(connection.state, "reconnecting")
  // Math.random is 0.5: 375 ms, then 750 ms, then 1500 ms.
  const reconnecting = record.calls.filter(([name]) => name === "connectionReconnecting")
  assert.deepEqual(reconnecting.map(([, info]) => info), [{ attempt: 1, delay: 375, code: 1006 }])
  t.mock.timers.tick(374)
  assert.equal(FakeWebSocket.instances.length, 1)
  t.mock.timers.tick(1)
  assert.equal(FakeWebSocket.instances.length, 2)
  assert.equal(connection.state, "connecting")
  FakeWebSocket.last.serverClose(1006)
  t.mock.timers.tick(749)
  assert.equal(FakeWebSocket.instances.length, 2)
  t.mock.timers.tick(1)
  assert.equal(FakeWebSocket.instances.length, 3)
  FakeWebSocket.last.serverClose(1006)
  t.mock.timers.tick(1500)
  FakeWebSocket.last.serverOpen()
  assert.equal(connection.state, "open")
  assert.deepEqual(record.calls.at(-2), ["connectionOpened", { reconnected: true, attempts: 3 }])
  connection.close()
})

test("a connection that closes soon after opening keeps backing off", (t) => {
  const { record, connection, ws } = open(t)
  ws.serverClose(1011)
  t.mock.timers.tick(375)
  FakeWebSocket.last.serverOpen()
  t.mock.timers.tick(100)
  FakeWebSocket.last.serverClose(1011)
  const delays = record.calls
    .filter(([name]) => name === "connectionReconnecting")
    .map(([, info]) => info.delay)
  assert.deepEqual(delays, [375, 750])
  connection.close()
})

for (const code of [1000, 1001, 1006, 1009, 1011, 4008, 4029, 4999]) {
  test(`close code ${code} reconnects`, (t) => {
    // The restart window is for 1012 alone: the usual 375 ms here.
    const { record, connection, ws } = open(t, { restartWindow: 60000 })
    ws.serverClose(code, "bye")
    assert.equal(connection.state, "reconnecting")
    assert.deepEqual(record.calls[0], [
      "connectionClosed", { code, reason: "bye", wasClean: code !== 1006, state: "reconnecting" }
    ])
    t.mock.timers.tick(375)
    assert.equal(FakeWebSocket.instances.length, 2)
    connection.close()
  })
}

/** The `connectionReconnecting` details recorded so far. */
function reconnects(record) {
  return record.calls.filter(([name]) => name === "connectionReconnecting").map(([, info]) => info)
}

test("close code 1012 (server restart): reconnects after a random delay in the window", (t) => {
  const { record, connection, ws } = open(t)
  Math.random.mock.mockImplementation(() => 0.3)
  t.mock.timers.tick(6000)
  ws.serverClose(1012, "service restart")
  assert.equal(connection.state, "reconnecting")
  assert.deepEqual(record.calls[0], [
    "connectionClosed",
    { code: 1012, reason: "service restart", wasClean: true, state: "reconnecting" }
  ])
  // 0.3 of the 5 s window, not the quick first retry (250-500 ms).
  assert.deepEqual(reconnects(record), [{ attempt: 1, delay: 1500, code: 1012 }])
  t.mock.timers.tick(1499)
  assert.equal(FakeWebSocket.instances.length, 1)
  t.mock.timers.tick(1)
  assert.equal(FakeWebSocket.instances.length, 2)
  assert.equal(connection.state, "connecting")
  FakeWebSocket.last.serverOpen()
  assert.deepEqual(record.calls.at(-2), ["connectionOpened", { reconnected: true, attempts: 1 }])
  connection.close()
})

for (const [random, restartWindow, delay] of [
  [0, 5000, 0], [0.5, 5000, 2500], [0.999999, 5000, 5000], [0.25, 20000, 5000], [0.9, 0, 0]
]) {
  test(`close code 1012, random ${random}, restartWindow ${restartWindow}: ${delay} ms`, (t) => {
    const { record, connection, ws } = open(t, { restartWindow })
    Math.random.mock.mockImplementation(() => random)
    ws.serverClose(1012)
    assert.deepEqual(reconnects(record), [{ attempt: 1, delay, code: 1012 }])
    t.mock.timers.tick(delay)
    assert.equal(FakeWebSocket.instances.length, 2)
    connection.close()
  })
}

test("a failed reconnect after 1012 goes on with the usual backoff", (t) => {
  const { record, connection, ws } = open(t)
  Math.random.mock.mockImplementation(() => 0.1)
  ws.serverClose(1012)
  t.mock.timers.tick(500)
  assert.equal(FakeWebSocket.instances.length, 2)
  // The server is still starting: refused, so 1006.
  Math.random.mock.mockImplementation(() => 0.5)
  FakeWebSocket.last.serverClose(1006)
  // Attempt 2 of the backoff (0.5-1 s), not a second draw from the window.
  t.mock.timers.tick(750)
  // The old server, still shutting down, closes the next try with 1012 too:
  // a failed attempt like any other.
  FakeWebSocket.last.serverClose(1012)
  assert.deepEqual(reconnects(record), [
    { attempt: 1, delay: 500, code: 1012 },
    { attempt: 2, delay: 750, code: 1006 },
    { attempt: 3, delay: 1500, code: 1012 }
  ])
  t.mock.timers.tick(1500)
  FakeWebSocket.last.serverOpen()
  assert.equal(connection.state, "open")
  connection.close()
})

test("a 1012 after a reconnect that held draws from the window again", (t) => {
  const { record, connection, ws } = open(t)
  t.mock.timers.tick(6000)
  ws.serverClose(1006)
  t.mock.timers.tick(375)
  FakeWebSocket.last.serverOpen()
  t.mock.timers.tick(6000)
  FakeWebSocket.last.serverClose(1012)
  assert.deepEqual(reconnects(record), [
    { attempt: 1, delay: 375, code: 1006 },
    { attempt: 1, delay: 2500, code: 1012 }
  ])
  connection.close()
})

test("close code 4001 (id refused) does not reconnect", (t) => {
  const { record, connection, ws } = open(t)
  ws.serverClose(4001, "connection id refused")
  assert.equal(connection.state, "refused")
  assert.deepEqual(record.calls.at(-1), [
    "connectionClosed",
    { code: 4001, reason: "connection id refused", wasClean: true, state: "refused" }
  ])
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("close code 4002 (replaced) does not reconnect, even when the page wakes", (t) => {
  const { page, connection, ws } = open(t)
  ws.serverClose(4002, "replaced by a newer socket")
  assert.equal(connection.state, "replaced")
  page.window.dispatchEvent(new Event("online"))
  page.document.dispatchEvent(new Event("visibilitychange"))
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("close code 4003 (session ended) does not reconnect, even when the page wakes", (t) => {
  const { page, record, connection, ws } = open(t)
  ws.serverClose(4003, "session ended")
  assert.equal(connection.state, "ended")
  assert.deepEqual(record.calls, [
    ["connectionClosed", { code: 4003, reason: "session ended", wasClean: true, state: "ended" }]
  ])
  page.window.dispatchEvent(new Event("online"))
  page.document.dispatchEvent(new Event("visibilitychange"))
  page.window.dispatchEvent(new Event("pagehide"))
  page.window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }))
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
  // No heartbeat is left running on the dead socket either.
  assert.equal(ws.sent.length, 0)
  assert.equal(connection.state, "ended")
})

test("close() closes with 1000 and stops reconnecting", (t) => {
  const { record, connection, ws } = open(t)
  connection.close()
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "" })
  assert.equal(connection.state, "closed")
  assert.deepEqual(record.calls.at(-1), [
    "connectionClosed", { code: 1000, reason: "", wasClean: true, state: "closed" }
  ])
  ws.serverClose(1000) // the late close event of the old socket changes nothing
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
  connection.close()
  assert.equal(record.names().filter((name) => name === "connectionClosed").length, 1)
})

test("close() while waiting to reconnect cancels the reconnect", (t) => {
  const { connection, ws } = open(t)
  ws.serverClose(1006)
  connection.close()
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("comes back online: reconnects at once instead of waiting", (t) => {
  const { page, connection, ws } = open(t, { reconnectInitial: 60000 })
  ws.serverClose(1006)
  assert.equal(FakeWebSocket.instances.length, 1)
  page.window.dispatchEvent(new Event("online"))
  assert.equal(FakeWebSocket.instances.length, 2)
  assert.equal(connection.state, "connecting")
  connection.close()
})

test("the tab becomes visible: reconnects at once; hidden does nothing", (t) => {
  const { page, connection, ws } = open(t, { reconnectInitial: 60000 })
  ws.serverClose(1006)
  page.document.visibilityState = "hidden"
  page.document.dispatchEvent(new Event("visibilitychange"))
  assert.equal(FakeWebSocket.instances.length, 1)
  page.document.visibilityState = "visible"
  page.document.dispatchEvent(new Event("visibilitychange"))
  assert.equal(FakeWebSocket.instances.length, 2)
  connection.close()
})

test("pagehide closes cleanly with 1000; a page restored from the cache reconnects", (t) => {
  const { page, record, connection, ws } = open(t)
  page.window.dispatchEvent(new Event("pagehide"))
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "page unload" })
  assert.equal(connection.state, "closed")
  assert.equal(record.calls.at(-1)[1].state, "closed")
  t.mock.timers.tick(120000)
  assert.equal(FakeWebSocket.instances.length, 1)
  page.window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: false }))
  assert.equal(FakeWebSocket.instances.length, 1)
  page.window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }))
  assert.equal(FakeWebSocket.instances.length, 2)
  connection.close()
})

test("after close() the page's events no longer reach the connection", (t) => {
  const { page, connection } = open(t)
  connection.close()
  page.window.dispatchEvent(new Event("online"))
  page.window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }))
  assert.equal(FakeWebSocket.instances.length, 1)
})

test("a socket the browser refuses to create is reported and not retried", (t) => {
  setup(t)
  adapters.WebSocket = class {
    constructor() {
      throw new SyntaxError("The URL is invalid.")
    }
  }
  const record = recorder()
  const connection = new Connection("not a url", record.delegate, Client.defaults)
  connection.open()
  assert.equal(connection.state, "closed")
  assert.deepEqual(record.names(), ["connectionError", "connectionClosed"])
  assert.equal(record.calls[0][1].name, "SyntaxError")
  t.mock.timers.tick(120000)
  assert.equal(record.calls.length, 2)
})

test("an error event is reported; the close that follows decides", (t) => {
  const { record, connection, ws } = open(t)
  ws.serverError()
  assert.equal(record.calls.at(-1)[0], "connectionError")
  assert.equal(record.calls.at(-1)[1].code, "socket_error")
  assert.equal(connection.state, "open")
  connection.close()
})
