import assert from "node:assert/strict"
import { test } from "node:test"

import { Listeners } from "../src/listeners.js"
import { setup } from "./helpers/fake_page.js"

test("emits to the listeners of a name, in order, with the arguments", () => {
  const listeners = new Listeners()
  const got = []
  listeners.add("a", (...args) => got.push(["first", ...args]))
  listeners.add("a", (...args) => got.push(["second", ...args]))
  listeners.add("b", () => got.push(["b"]))
  assert.equal(listeners.emit("a", 1, 2), 2)
  assert.equal(listeners.emit("nobody"), 0)
  assert.deepEqual(got, [["first", 1, 2], ["second", 1, 2]])
})

test("a removed listener is not called, even during the same emit", () => {
  const listeners = new Listeners()
  const got = []
  let offSecond = null
  listeners.add("a", () => {
    got.push(1)
    offSecond()
    listeners.add("a", () => got.push("added"))
  })
  offSecond = listeners.add("a", () => got.push(2))
  listeners.emit("a")
  assert.deepEqual(got, [1])
  assert.equal(listeners.count("a"), 2)
})

test("removing the last listener forgets the name; clear() removes all", () => {
  const listeners = new Listeners()
  const off = listeners.add("a", () => {})
  off()
  assert.equal(listeners.byName.has("a"), false)
  listeners.add("b", () => {})
  listeners.clear()
  assert.equal(listeners.count("b"), 0)
})

test("errors thrown by listeners are reported, not thrown", (t) => {
  const page = setup(t)
  const listeners = new Listeners()
  listeners.add("a", () => {
    throw new Error("boom")
  })
  let called = false
  listeners.add("a", () => {
    called = true
  })
  listeners.emit("a")
  assert.equal(called, true)
  assert.deepEqual(page.errors.map((e) => e.message), ["boom"])
})

test("only functions can listen", () => {
  assert.throws(() => new Listeners().add("a", null), /must be a function/)
})
