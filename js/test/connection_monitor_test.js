import assert from "node:assert/strict"
import { test } from "node:test"

import { Client } from "../src/client.js"
import { FakeWebSocket } from "./helpers/fake_websocket.js"
import { setup } from "./helpers/fake_page.js"

const URL = "ws://example.com/_realtime?socket_connection_id=abcdefghijklmnop"

function connect(t, options = {}) {
  const page = setup(t)
  const client = new Client(URL, { heartbeatInterval: 1000, heartbeatTimeout: 500, ...options })
  const events = []
  for (const name of Client.events) {
    client.onEvent(name, (info) => events.push([name, info]))
  }
  client.connect()
  FakeWebSocket.last.serverOpen()
  t.after(() => client.close())
  return { page, client, events, ws: FakeWebSocket.last }
}

const pings = (ws) => ws.messages.filter((message) => message.action === "ping")

test("pings when nothing has arrived for the heartbeat interval", (t) => {
  const { ws } = connect(t)
  t.mock.timers.tick(999)
  assert.deepEqual(ws.messages, [])
  t.mock.timers.tick(1)
  assert.deepEqual(ws.messages, [{ action: "ping", id: "heartbeat-2" }])
})

test("does not ping while frames keep arriving", (t) => {
  const { ws } = connect(t)
  for (let i = 0; i < 10; i++) {
    t.mock.timers.tick(900)
    ws.serverSend({ channel: "chat", payload: i })
  }
  assert.deepEqual(pings(ws), [])
  t.mock.timers.tick(1000)
  assert.equal(pings(ws).length, 1)
})

test("any frame answers the heartbeat; pings go on while idle", (t) => {
  const { client, ws } = connect(t)
  t.mock.timers.tick(1000)
  ws.serverSend({ id: "heartbeat-2", body: "pong" })
  t.mock.timers.tick(1000)
  ws.serverSend({ channel: "chat", payload: "late" })
  t.mock.timers.tick(1000)
  ws.serverReply({ body: "pong" })
  assert.equal(pings(ws).length, 3)
  assert.equal(client.state, "open")
})

test("no frame at all within the timeout after a ping: stale, so reconnect", (t) => {
  const { client, events, ws } = connect(t)
  t.mock.timers.tick(1000)
  t.mock.timers.tick(499)
  assert.equal(client.state, "open")
  t.mock.timers.tick(1)
  assert.equal(client.state, "reconnecting")
  // Dropped with a code that keeps the page's id alive on the server.
  assert.deepEqual(ws.closedWith, { code: 4000, reason: "heartbeat timeout" })
  const [, close] = events.find(([name]) => name === "close")
  assert.deepEqual(close, { code: 1006, reason: "heartbeat timeout", wasClean: false, state: "reconnecting" })
  t.mock.timers.tick(375)
  assert.equal(FakeWebSocket.instances.length, 2)
  FakeWebSocket.last.serverOpen()
  assert.deepEqual(events.at(-1), ["reconnected", { attempts: 1 }])
  // The old socket's late events are ignored.
  ws.serverSend({ channel: "chat", payload: "old" })
  ws.serverClose(1006)
  assert.equal(client.state, "open")
})

test("the heartbeat stops while disconnected", (t) => {
  const { ws } = connect(t, { reconnectInitial: 100000 })
  ws.serverClose(1006)
  t.mock.timers.tick(10000)
  assert.deepEqual(ws.messages, [])
})

test("heartbeatInterval 0 turns the heartbeat off", (t) => {
  const { ws } = connect(t, { heartbeatInterval: 0 })
  t.mock.timers.tick(100000)
  assert.deepEqual(ws.messages, [])
})

test("coming back online while open checks the connection at once", (t) => {
  const { page, client, ws } = connect(t)
  t.mock.timers.tick(300)
  page.window.dispatchEvent(new Event("online"))
  assert.deepEqual(pings(ws), [{ action: "ping", id: "heartbeat-2" }])
  // A second wake does not send a second ping while one is unanswered.
  page.document.dispatchEvent(new Event("visibilitychange"))
  assert.equal(pings(ws).length, 1)
  t.mock.timers.tick(500)
  assert.equal(client.state, "reconnecting")
})
