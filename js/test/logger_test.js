import assert from "node:assert/strict"
import { test } from "node:test"

import adapters from "../src/adapters.js"
import { Client } from "../src/client.js"
import logger, { Logger } from "../src/logger.js"
import { setup } from "./helpers/fake_page.js"

test("is off by default and writes nothing", (t) => {
  setup(t)
  const lines = []
  adapters.logger = { log: (...args) => lines.push(args) }
  assert.equal(new Logger().enabled, false)
  assert.equal(logger.enabled, false)
  logger.log("hidden")
  assert.deepEqual(lines, [])
})

test("writes with a prefix when enabled, as the debug option does", (t) => {
  setup(t)
  const lines = []
  adapters.logger = { log: (...args) => lines.push(args) }
  new Client("ws://example.com/_realtime?socket_connection_id=abcdefghijklmnop", { debug: true })
  assert.equal(logger.enabled, true)
  logger.log("shown", 1)
  assert.equal(lines.length, 1)
  assert.match(lines[0][0], /^\[FlaskRealtime\] \d{4}-\d\d-\d\dT/)
  assert.deepEqual(lines[0].slice(1), ["shown", 1])
})
