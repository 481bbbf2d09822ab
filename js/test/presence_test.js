import assert from "node:assert/strict"
import { test } from "node:test"

import { Presences } from "../src/presence.js"
import { setup } from "./helpers/fake_page.js"

const ann1 = { ref: "a1", meta: { tab: 1 } }
const ann2 = { ref: "a2", meta: { tab: 2 } }
const bob = { ref: "b1", meta: null }

function recorded(presences, channel = "room") {
  const got = []
  presences.on(channel, (list, change) => got.push([list, change]))
  return got
}

function state(presences, channel, byKey) {
  return presences.receive({ channel, presence_state: byKey })
}

function diff(presences, channel, joins = {}, leaves = {}) {
  return presences.receive({ channel, presence: { joins, leaves } })
}

test("a state gives the list; a member's tabs are grouped under its key", () => {
  const presences = new Presences()
  const got = recorded(presences)
  assert.equal(state(presences, "room", { ann: [ann1, ann2], bob: [bob] }), true)
  const list = { ann: [{ tab: 1 }, { tab: 2 }], bob: [null] }
  assert.deepEqual(presences.list("room"), list)
  assert.deepEqual(got, [[list, { joins: list, leaves: {} }]])
  assert.deepEqual(presences.list("elsewhere"), {})
})

test("joins and leaves change the list and are passed on", () => {
  const presences = new Presences()
  state(presences, "room", { bob: [bob] })
  const got = recorded(presences)
  diff(presences, "room", { ann: [ann1] })
  diff(presences, "room", { ann: [ann2] })
  diff(presences, "room", {}, { ann: [ann1] })
  diff(presences, "room", {}, { bob: [bob] })
  assert.deepEqual(got.map(([, change]) => change), [
    { joins: { ann: [{ tab: 1 }] }, leaves: {} },
    { joins: { ann: [{ tab: 2 }] }, leaves: {} },
    { joins: {}, leaves: { ann: [{ tab: 1 }] } },
    { joins: {}, leaves: { bob: [null] } }
  ])
  assert.deepEqual(got.map(([list]) => list).at(-1), { ann: [{ tab: 2 }] })
})

test("a join of a listed ref replaces its meta; repeats and unknown leaves change nothing", () => {
  const presences = new Presences()
  state(presences, "room", { ann: [ann1] })
  const got = recorded(presences)
  diff(presences, "room", { ann: [{ ref: "a1", meta: { tab: 1, typing: true } }] })
  diff(presences, "room", { ann: [{ ref: "a1", meta: { tab: 1, typing: true } }] })
  diff(presences, "room", {}, { ann: [ann2], eve: [bob] })
  assert.deepEqual(got.map(([, change]) => change), [
    { joins: { ann: [{ tab: 1, typing: true }] }, leaves: {} },
    { joins: {}, leaves: {} },
    { joins: {}, leaves: {} }
  ])
  assert.deepEqual(presences.list("room"), { ann: [{ tab: 1, typing: true }] })
})

test("a new state is compared with the list: what is gone leaves, what is new joins", () => {
  const presences = new Presences()
  state(presences, "room", { ann: [ann1, ann2], bob: [bob] })
  const got = recorded(presences)
  state(presences, "room", { ann: [ann2], cat: [{ ref: "c1", meta: "hi" }] })
  assert.deepEqual(got, [[
    { ann: [{ tab: 2 }], cat: ["hi"] },
    { joins: { cat: ["hi"] }, leaves: { ann: [{ tab: 1 }], bob: [null] } }
  ]])
  state(presences, "room", {})
  assert.deepEqual(presences.list("room"), {})
  assert.equal(presences.channels.size, 0)
})

test("after a reconnect, lists without a new state empty once the socket is attached", () => {
  const presences = new Presences()
  state(presences, "room", { ann: [ann1] })
  state(presences, "lobby", { bob: [bob] })
  state(presences, "hall", { bob: [bob] })
  const got = recorded(presences, "lobby")
  presences.reconnected()
  state(presences, "room", { ann: [ann1] }) // still there
  diff(presences, "hall", { cat: [{ ref: "c1", meta: null }] }) // had no state: empty before
  presences.attached()
  presences.attached()
  assert.deepEqual(presences.list("room"), { ann: [{ tab: 1 }] })
  assert.deepEqual(presences.list("hall"), { cat: [null] })
  assert.deepEqual(presences.list("lobby"), {})
  assert.deepEqual(got, [[{}, { joins: {}, leaves: { bob: [null] } }]])
})

test("frames that are not presence frames are left alone; malformed parts are skipped", () => {
  const presences = new Presences()
  assert.equal(presences.receive({ channel: "room", payload: 1 }), false)
  assert.equal(presences.receive({ channel: "room", presence: [1] }), false)
  state(presences, "room", {
    ann: [ann1, "x", { ref: 5 }, null, { ref: "a2" }],
    bob: "not a list"
  })
  diff(presences, "room", [bob], "x")
  assert.deepEqual(presences.list("room"), { ann: [{ tab: 1 }, null] })
})

test("any key is a plain key, __proto__ included", () => {
  const presences = new Presences()
  state(presences, "room", JSON.parse('{"__proto__": [{"ref": "p", "meta": 1}]}'))
  const list = presences.list("room")
  assert.deepEqual(Object.keys(list), ["__proto__"])
  assert.deepEqual(list.__proto__, [1])
  assert.equal(Object.getPrototypeOf(list), Object.prototype)
})

test("a listener that throws does not stop the others; off() removes one", (t) => {
  const page = setup(t)
  const presences = new Presences()
  presences.on("room", () => {
    throw new Error("bug in the page")
  })
  const got = []
  const off = presences.on("room", (list) => got.push(list))
  diff(presences, "room", { ann: [ann1] })
  off()
  diff(presences, "room", { bob: [bob] })
  assert.deepEqual(got, [{ ann: [{ tab: 1 }] }])
  assert.equal(page.errors[0].message, "bug in the page")
})
