// The public API as a TypeScript program uses it, compiled against the
// generated declarations (js/types) with `npm run test:types`. Nothing here
// runs. Each `expectType` fails when a type changes, `any` included, and each
// `@ts-expect-error` fails when a mistake stops being caught.

import {
  Client,
  RealtimeError,
  constants,
  createClient,
  socketUrl,
  type CallReply,
  type ClientOptions,
  type ClientState,
  type CloseDetail,
  type PresenceChange,
  type PresenceList,
  type PushFrame,
  type Reply,
  type WebSocketLike
} from "flask-realtime"
import { checkHeaders } from "flask-realtime/src/encoding.js"

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

function expectType<T>(_value: T): <U>(check: Equal<T, U> extends true ? true : never) => void {
  return () => {}
}

// A WebSocket implementation of one's own, as in Node without a global one.
class NodeWebSocket implements WebSocketLike {
  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  onclose: ((event: { code: number, reason: string, wasClean: boolean }) => void) | null = null
  constructor(readonly url: string) {}
  send(_data: string): void {}
  close(_code?: number, _reason?: string): void {}
}

const options: ClientOptions = {
  timeout: 5000,
  httpFallback: true,
  WebSocket: NodeWebSocket,
  socketKey: "a-key-of-the-clients-own-32-chars-or-more"
}
const url = socketUrl({ protocol: "http:", host: "127.0.0.1:5000" }, "/_realtime", "an-id-of-sixteen-chars")
expectType(url)<string>(true)
const realtime = new Client(url, options)
expectType(realtime.connect())<Client>(true)
expectType(createClient({ debug: true }))<Client>(true)
expectType(realtime.state)<ClientState>(true)
expectType(realtime.connectionId)<string | null>(true)
expectType(Client.defaults.timeout)<number>(true)

// @ts-expect-error: an unknown option
new Client(url, { timeOut: 5000 })
// @ts-expect-error: an option of the wrong type
new Client(url, { httpFallback: "yes" })
// @ts-expect-error: the client's internals are private
realtime.connection.open()

// Channels: the payload is unknown unless the listener says what it is.
const off = realtime.on("chat", (payload, frame) => {
  expectType(payload)<unknown>(true)
  expectType(frame)<PushFrame<unknown>>(true)
  expectType(frame.channel)<string>(true)
})
expectType(off)<() => void>(true)
realtime.on<{ text: string }>("chat", (payload) => {
  expectType(payload.text)<string>(true)
})
realtime.on("chat", (payload: { text: string }, frame) => {
  expectType(frame.payload)<{ text: string }>(true)
})

// Presence: metas are unknown unless the page says what they are.
expectType(realtime.presence("room"))<PresenceList<unknown>>(true)
expectType(realtime.presence<{ name: string }>("room"))<Record<string, { name: string }[]>>(true)
const offPresence = realtime.onPresence<{ name: string }>("room", (list, { joins, leaves }) => {
  expectType(list)<PresenceList<{ name: string }>>(true)
  expectType(joins)<Record<string, { name: string }[]>>(true)
  expectType(leaves)<PresenceList<{ name: string }>>(true)
})
expectType(offPresence)<() => void>(true)
realtime.onPresence("room", (list, change) => {
  expectType(list)<PresenceList<unknown>>(true)
  expectType(change)<PresenceChange<unknown>>(true)
})
// @ts-expect-error: the listener gets the list first, not a key
realtime.onPresence("room", (key: number) => key)

// Events: each name has its detail.
realtime.onEvent("close", (detail) => {
  expectType(detail)<CloseDetail>(true)
})
realtime.onEvent("reconnecting", ({ attempt, delay, code }) => {
  expectType([attempt, delay, code])<number[]>(true)
})
realtime.onEvent("refused", ({ reload, state }) => {
  expectType(reload)<boolean>(true)
  expectType(state)<ClientState>(true)
})
realtime.onEvent("missed", ({ channel }) => {
  expectType(channel)<string>(true)
})
realtime.onEvent("error", (error) => {
  expectType(error)<Error>(true)
})
// @ts-expect-error: not an event
realtime.onEvent("opened", () => {})
// @ts-expect-error: "open" tells whether it reconnected, nothing about a code
realtime.onEvent("open", ({ code }) => code)

async function calls(): Promise<void> {
  const reply = await realtime.call("/messages", {
    method: "POST",
    input: { text: "hi" },
    headers: { "X-CSRFToken": "token" },
    timeout: 1000
  })
  expectType(reply)<CallReply<unknown>>(true)
  expectType(reply.status)<number>(true)
  expectType(reply.headers)<Record<string, string>>(true)
  const typed = await realtime.call<{ id: number }>("/messages")
  expectType(typed.body.id)<number>(true)
  // @ts-expect-error: header values are strings
  await realtime.call("/messages", { headers: { "X-CSRFToken": 1 } })
  // @ts-expect-error: not an option of call()
  await realtime.call("/messages", { body: "hi" })

  const pong = await realtime.send("ping")
  expectType(pong)<Reply>(true)
  expectType(pong.id)<number>(true)
  await realtime.send("typing", { room: "lobby" }, { timeout: 500 })
  // @ts-expect-error: the action is a string
  await realtime.send(42)

  try {
    await realtime.send("ping")
  } catch (error) {
    if (error instanceof RealtimeError) {
      expectType(error.code)<string>(true)
      expectType(error.reply)<Record<string, unknown> | null>(true)
      expectType(RealtimeError.codes.TIMEOUT)<"timeout">(true)
    }
  }
}

expectType(constants.CLOSE_ID_REFUSED)<number>(true)
expectType(checkHeaders({ "X-CSRFToken": "token" }))<Record<string, string>>(true)
realtime.close(1000, "done")
void calls
