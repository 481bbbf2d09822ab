// A client without a page and without cookies, as a Node program uses the
// package: tests/integration/test_node_client.py runs it against a real
// server and reads what it prints, one JSON object a line.
//
//   node js/test/node/receive_pushes.js SERVER_URL CONNECTION_ID SOCKET_KEY [ws]
//
// The id was issued to SOCKET_KEY. The client calls /subscribe over HTTP (the
// fallback, as it is not connected yet) to add the channel "alerts", connects,
// prints "open", then prints the first push of "news" and of "alerts", and
// closes. With "ws", it connects with the `ws` package's WebSocket, passed
// in; without, with the global one (Node 22+, or --experimental-websocket).

import { Client, socketUrl } from "flask-realtime"

const [server, connectionId, socketKey, implementation] = process.argv.slice(2)
const print = (object) => console.log(JSON.stringify(object))

const options = { socketKey, httpFallback: true }
if (implementation === "ws") {
  options.WebSocket = (await import("ws")).default
}
const realtime = new Client(socketUrl(new URL(server), "/_realtime", connectionId), options)

const subscribed = await realtime.call("/subscribe", {
  method: "POST", form: true, input: { channel: "alerts" }
})
print({ call: subscribed.status, sameId: subscribed.body.connection_id === connectionId })

const waiting = new Set(["news", "alerts"])
for (const channel of waiting) {
  realtime.on(channel, (payload) => {
    if (!waiting.delete(channel)) {
      return
    }
    print({ channel, payload })
    if (waiting.size === 0) {
      realtime.close()
    }
  })
}
realtime.onEvent("open", () => print({ event: "open" }))
realtime.onEvent("close", ({ code, state }) => print({ event: "close", code, state }))
realtime.onEvent("error", (error) => print({ event: "error", message: error.message }))
realtime.connect()
