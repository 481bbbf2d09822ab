import assert from "node:assert/strict"
import { test } from "node:test"

import { Timer, backoff, spread } from "../src/timer.js"
import { setup } from "./helpers/fake_page.js"

test("backoff doubles from 0.5 s to a 30 s cap, with equal jitter", (t) => {
  t.mock.method(Math, "random", () => 0)
  const lowest = [1, 2, 3, 4, 5, 6, 7, 8, 50].map((tries) => backoff(tries))
  assert.deepEqual(lowest, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000])
  Math.random.mock.mockImplementation(() => 0.999999)
  const highest = [1, 2, 3, 4, 5, 6, 7, 8, 50].map((tries) => backoff(tries))
  assert.deepEqual(highest, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
})

test("backoff stays within its bounds for any attempt and any randomness", (t) => {
  let random = 0
  t.mock.method(Math, "random", () => random)
  for (const tries of [0, 1, 2, 10, 53, 100, 1e6, Infinity]) {
    for (random of [0, 0.25, 0.5, 0.999999]) {
      const delay = backoff(tries)
      assert.ok(Number.isFinite(delay), `tries=${tries}`)
      assert.ok(delay >= 250 && delay <= 30000, `tries=${tries} delay=${delay}`)
    }
  }
})

test("backoff takes its own initial delay and cap", (t) => {
  t.mock.method(Math, "random", () => 0.5)
  assert.equal(backoff(1, { initial: 100, max: 1000 }), 75)
  assert.equal(backoff(3, { initial: 100, max: 1000 }), 300)
  assert.equal(backoff(9, { initial: 100, max: 1000 }), 750)
})

test("spread draws uniformly from 0 to its span, with no fixed part", (t) => {
  let random = 0
  t.mock.method(Math, "random", () => random)
  const delays = [0, 0.1, 0.5, 0.999999].map((value) => {
    random = value
    return spread(5000)
  })
  assert.deepEqual(delays, [0, 500, 2500, 5000])
  assert.equal(spread(0), 0)
  assert.equal(spread(-1), 0)
})

test("schedule takes a delay for this once; the attempt counts all the same", (t) => {
  setup(t)
  let calls = 0
  const timer = new Timer(() => calls++, (tries) => tries * 100)
  assert.equal(timer.schedule(1234), 1234)
  t.mock.timers.tick(1233)
  assert.equal(calls, 0)
  t.mock.timers.tick(1)
  assert.equal(calls, 1)
  assert.equal(timer.tries, 1)
  // The next computed delay follows on: attempt 2.
  assert.equal(timer.schedule(), 200)
  assert.equal(timer.schedule(undefined), 200)
})

test("the timer counts its attempts and waits longer each time", (t) => {
  setup(t)
  const calls = []
  const timer = new Timer(() => calls.push(Date.now()), (tries) => tries * 100)
  const start = Date.now()
  assert.equal(timer.schedule(), 100)
  assert.equal(timer.pending, true)
  t.mock.timers.tick(100)
  assert.equal(timer.pending, false)
  assert.equal(timer.tries, 1)
  assert.equal(timer.schedule(), 200)
  t.mock.timers.tick(199)
  assert.equal(calls.length, 1)
  t.mock.timers.tick(1)
  assert.deepEqual(calls, [start + 100, start + 300])
  assert.equal(timer.tries, 2)
})

test("reset forgets the attempts and cancels the running delay", (t) => {
  setup(t)
  let calls = 0
  const timer = new Timer(() => calls++, (tries) => tries * 100)
  timer.schedule()
  t.mock.timers.tick(100)
  timer.schedule()
  timer.reset()
  t.mock.timers.tick(1000)
  assert.equal(calls, 1)
  assert.equal(timer.tries, 0)
  assert.equal(timer.schedule(), 100)
})

test("cancel keeps the attempts; schedule replaces a running delay", (t) => {
  setup(t)
  let calls = 0
  const timer = new Timer(() => calls++, (tries) => tries * 100)
  timer.schedule()
  t.mock.timers.tick(100)
  timer.schedule()
  timer.cancel()
  t.mock.timers.tick(1000)
  assert.equal(calls, 1)
  assert.equal(timer.tries, 1)
  timer.schedule()
  timer.schedule()
  t.mock.timers.tick(200)
  assert.equal(calls, 2)
})
