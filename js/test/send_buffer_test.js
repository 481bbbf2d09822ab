import assert from "node:assert/strict"
import { test } from "node:test"

import { SendBuffer } from "../src/send_buffer.js"

test("keeps messages in order up to its limit", () => {
  const buffer = new SendBuffer(2)
  assert.equal(buffer.add("a"), true)
  assert.equal(buffer.add("b"), true)
  assert.equal(buffer.add("c"), false)
  assert.equal(buffer.size, 2)
  assert.deepEqual(buffer.drain(), ["a", "b"])
  assert.equal(buffer.size, 0)
  assert.equal(buffer.add("c"), true)
})

test("remove takes one message out", () => {
  const buffer = new SendBuffer(3)
  buffer.add("a")
  buffer.add("b")
  assert.equal(buffer.remove("a"), true)
  assert.equal(buffer.remove("a"), false)
  assert.deepEqual(buffer.drain(), ["b"])
})

test("a limit of 0 buffers nothing", () => {
  assert.equal(new SendBuffer(0).add("a"), false)
})
