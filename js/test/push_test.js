import assert from "node:assert/strict"
import { test } from "node:test"

import { RealtimeError } from "../src/errors.js"
import { Push } from "../src/push.js"
import { setup } from "./helpers/fake_page.js"

function push() {
  const settled = []
  const p = new Push(1, "{}", (value) => settled.push(["resolved", value]), (error) => settled.push(["rejected", error]))
  return { p, settled }
}

test("settles once: the first of reply, error or timeout wins", (t) => {
  setup(t)
  const { p, settled } = push()
  let forgotten = null
  p.startTimeout(100, (expired) => {
    forgotten = expired
  })
  p.receive({ id: 1, body: "pong" })
  t.mock.timers.tick(100)
  p.reject(new Error("late"))
  assert.deepEqual(settled, [["resolved", { id: 1, body: "pong" }]])
  assert.equal(forgotten, null)
})

test("times out with a RealtimeError after forgetting itself", (t) => {
  setup(t)
  const { p, settled } = push()
  let forgotten = null
  p.startTimeout(100, (expired) => {
    forgotten = expired
  })
  t.mock.timers.tick(100)
  assert.equal(forgotten, p)
  const [[state, error]] = settled
  assert.equal(state, "rejected")
  assert.ok(error instanceof RealtimeError)
  assert.equal(error.code, "timeout")
  assert.equal(error.message, "No reply within 100 ms.")
})

test("an error reply rejects; a malformed one still does", () => {
  const first = push()
  first.p.receive({ id: 1, error: { code: "handler_failed", message: "The handler failed." } })
  assert.equal(first.settled[0][1].code, "handler_failed")
  const second = push()
  second.p.receive({ id: 1, error: "oops" })
  assert.equal(second.settled[0][0], "rejected")
  assert.equal(second.settled[0][1].code, "error")
})
