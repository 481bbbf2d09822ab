import assert from "node:assert/strict"
import { test } from "node:test"

import { encodeMessage, routePath } from "../src/encoding.js"

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
