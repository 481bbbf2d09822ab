import assert from "node:assert/strict"
import { test } from "node:test"

import { checkHeaders, encodeMessage, routePath } from "../src/encoding.js"

const BASE = "https://example.com/rooms/lobby"

test("routePath keeps the path and query of a route on this site", () => {
  assert.equal(routePath("/messages?x=1", BASE), "/messages?x=1")
  assert.equal(routePath("https://example.com/a/b?c=d#e", BASE), "/a/b?c=d")
  assert.equal(routePath("messages", BASE), "/rooms/messages")
  assert.equal(routePath("?page=2", BASE), "/rooms/lobby?page=2")
})

test("routePath refuses another origin, scheme-relative URLs included", () => {
  for (const uri of ["https://evil.example/", "//evil.example/x", "http://example.com/"]) {
    assert.throws(() => routePath(uri, BASE), { code: "invalid_call" }, uri)
  }
  assert.throws(() => routePath("", BASE), TypeError)
  assert.throws(() => routePath(null, BASE), TypeError)
})

test("encodeMessage measures UTF-8 bytes against the limit", () => {
  assert.equal(encodeMessage({ a: "é" }, 11), '{"a":"é"}')
  assert.throws(() => encodeMessage({ a: "é" }, 9), { code: "message_too_big" })
  assert.throws(() => encodeMessage({ a: 1n }, 100), { code: "invalid_message" })
})

test("checkHeaders takes a plain object of strings and copies it", () => {
  const headers = { "X-CSRFToken": "t0k3n", "X-Other": "" }
  const checked = checkHeaders(headers)
  assert.deepEqual(checked, headers)
  assert.notEqual(checked, headers)
  assert.deepEqual(checkHeaders(Object.create(null)), {})
})

test("checkHeaders refuses anything else with a TypeError that says what is wrong", () => {
  const notObjects = [null, "X-CSRFToken: t", ["X-CSRFToken", "t"], new Map(), new Headers(), 1]
  for (const headers of notObjects) {
    assert.throws(() => checkHeaders(headers), {
      name: "TypeError", message: /must be a plain object of header names and strings/
    }, String(headers))
  }
  assert.throws(() => checkHeaders({ "X-CSRFToken": 42 }), {
    name: "TypeError", message: 'The header "X-CSRFToken" must be a string, not number.'
  })
  assert.throws(() => checkHeaders({ "X-CSRFToken": null }), /must be a string, not object/)
  for (const name of ["", "X CSRF", "X-Token:", "Ä"]) {
    assert.throws(() => checkHeaders({ [name]: "t" }), {
      name: "TypeError", message: `"${name}" is not a header name.`
    })
  }
})
