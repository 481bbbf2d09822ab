import assert from "node:assert/strict"
import { test } from "node:test"

import { RealtimeError, closedError, disconnectedError } from "../src/errors.js"

test("closedError says which terminal state stops the client", () => {
  const ended = closedError("ended")
  assert.ok(ended instanceof RealtimeError)
  assert.equal(ended.code, "closed")
  assert.equal(ended.reply, null)
  assert.match(ended.message, /^Nothing more is sent: the session ended, .*\(close code 4003\)\.$/)
  assert.match(closedError("refused").message, /refused the page's connection id \(close code 4001\)/)
  assert.match(closedError("replaced").message, /another socket took/)
  assert.equal(closedError("closed").message, "Nothing more is sent: the client was closed.")
})

test("disconnectedError names the cause only when the client will not reconnect", () => {
  const lost = disconnectedError("reconnecting")
  assert.equal(lost.code, "disconnected")
  assert.equal(lost.message, "The connection closed before the reply came.")
  assert.match(disconnectedError("ended").message, /before the reply came: the session ended/)
})
