import assert from "node:assert/strict"
import { test } from "node:test"

import adapters from "../src/adapters.js"
import {
  Client, DEFAULT_PATH, createClient, getConfig, socketUrl, start
} from "../src/index.js"
import { FakeWebSocket } from "./helpers/fake_websocket.js"
import { CONNECTION_ID, fakeElement, flush, setup } from "./helpers/fake_page.js"

const ID = CONNECTION_ID

test("the URL follows an http page: ws://, the host and the port", () => {
  const url = socketUrl({ protocol: "http:", host: "127.0.0.1:5000" }, "/_realtime", ID)
  assert.equal(url, `ws://127.0.0.1:5000/_realtime?socket_connection_id=${ID}`)
})

test("the URL follows an https page: wss://, default port", () => {
  const url = socketUrl({ protocol: "https:", host: "example.com" }, "/_realtime", ID)
  assert.equal(url, `wss://example.com/_realtime?socket_connection_id=${ID}`)
})

test("the URL keeps a non-default https port and a custom path", () => {
  const location = { protocol: "https:", host: "example.com:8443" }
  assert.equal(
    socketUrl(location, "/app/sockets", "abc"),
    "wss://example.com:8443/app/sockets?socket_connection_id=abc"
  )
  assert.equal(socketUrl(location, "ws", "abc"), "wss://example.com:8443/ws?socket_connection_id=abc")
})

test("the URL escapes the id and takes an IPv6 host", () => {
  const url = socketUrl({ protocol: "http:", host: "[::1]:8000" }, "/_realtime", "a b&c")
  assert.equal(url, "ws://[::1]:8000/_realtime?socket_connection_id=a%20b%26c")
})

test("getConfig reads the body's attributes and the script tag", (t) => {
  const page = setup(t)
  page.window.realtimeOptions = { heartbeatInterval: 500 }
  const config = getConfig(fakeElement({ "data-connect": "false" }))
  assert.deepEqual(config, {
    connectionId: ID,
    path: "/_realtime",
    connect: false,
    options: { heartbeatInterval: 500 }
  })
  assert.equal(getConfig(fakeElement({})).connect, true)
  assert.equal(getConfig().connect, true)
})

test("getConfig falls back to the default path, and to no id", (t) => {
  setup(t, { body: {} })
  assert.deepEqual(getConfig(), {
    connectionId: null, path: DEFAULT_PATH, connect: true, options: {}
  })
})

test("createClient builds the URL from the page and merges the options", (t) => {
  const page = setup(t, {
    href: "https://example.com:8443/rooms/lobby",
    body: { "data-socket-connection-id": ID, "data-socket-path": "/prefix/_realtime" }
  })
  page.window.realtimeOptions = { heartbeatInterval: 500, timeout: 1000 }
  const client = createClient({ timeout: 2000 })
  assert.ok(client instanceof Client)
  assert.equal(client.url, `wss://example.com:8443/prefix/_realtime?socket_connection_id=${ID}`)
  assert.equal(client.connectionId, ID)
  assert.equal(client.options.heartbeatInterval, 500)
  assert.equal(client.options.timeout, 2000)
  assert.equal(client.state, "idle")
})

test("createClient needs a connection id on the page", (t) => {
  setup(t, { body: {} })
  assert.throws(() => createClient(), /data-socket-connection-id/)
})

test("createClient without a page says to make a Client with socketUrl", (t) => {
  setup(t)
  adapters.document = undefined
  assert.throws(() => createClient(), /there is no page here.*new Client\(socketUrl\(/)
})

test("createClient refuses an unknown option", (t) => {
  const page = setup(t)
  page.window.realtimeOptions = { heartbeatIntervall: 500 }
  assert.throws(() => createClient(), /Unknown option "heartbeatIntervall"/)
})

test("start connects the page's client and exposes it as window.realtime", (t) => {
  const page = setup(t)
  start(fakeElement({ src: "/_realtime/static/realtime.min.js" }))
  assert.ok(page.window.realtime instanceof Client)
  assert.equal(page.window.realtime.state, "connecting")
  assert.equal(FakeWebSocket.instances.length, 1)
  assert.equal(FakeWebSocket.last.url, `ws://example.com/_realtime?socket_connection_id=${ID}`)
  // Loading the script twice makes no second client.
  start(null)
  assert.equal(FakeWebSocket.instances.length, 1)
  page.window.realtime.close()
})

test('start does not connect with data-connect="false"', async (t) => {
  const page = setup(t)
  start(fakeElement({ "data-connect": "false" }))
  assert.equal(page.window.realtime.state, "idle")
  assert.equal(FakeWebSocket.instances.length, 0)
  const reply = page.window.realtime.send("ping")
  page.window.realtime.connect()
  FakeWebSocket.last.serverOpen()
  FakeWebSocket.last.serverReply({ body: "pong" })
  assert.equal((await reply).body, "pong")
  page.window.realtime.close()
})

test("start waits for the body when the document is still loading", async (t) => {
  const page = setup(t, { readyState: "loading" })
  start(null)
  assert.equal(page.window.realtime, undefined)
  page.document.dispatchEvent(new Event("DOMContentLoaded"))
  await flush()
  assert.equal(page.window.realtime.state, "connecting")
  page.window.realtime.close()
})

test("start does nothing on a page without a connection id", (t) => {
  const page = setup(t, { body: {} })
  start(null)
  assert.equal(page.window.realtime, undefined)
  assert.equal(FakeWebSocket.instances.length, 0)
})
