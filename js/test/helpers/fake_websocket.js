// A WebSocket stand-in that the tests drive by hand: the client under test
// creates it through `adapters.WebSocket`, and the test plays the server.
//
//   adapters.WebSocket = FakeWebSocket
//   client.connect()
//   const ws = FakeWebSocket.last
//   ws.serverOpen()
//   ws.serverSend({ channel: "chat", payload: "hi" })
//   assert.deepEqual(ws.messages, [{ action: "ping", id: 1 }])
//   ws.serverClose(1006)

export class FakeWebSocket {
  /** @param {string} url */
  constructor(url) {
    this.url = url
    this.readyState = FakeWebSocket.CONNECTING
    this.sent = []
    this.closedWith = null
    this.attachPing = null
    this.onopen = null
    this.onmessage = null
    this.onerror = null
    this.onclose = null
    FakeWebSocket.instances.push(this)
  }

  /** The most recently created socket. */
  static get last() {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1]
  }

  /** Forget the sockets of the previous test. */
  static reset() {
    FakeWebSocket.instances = []
  }

  /** What the client sent, decoded. */
  get messages() {
    return this.sent.map((text) => JSON.parse(text))
  }

  // The browser's API, as the client sees it.

  send(data) {
    if (this.readyState !== FakeWebSocket.OPEN) {
      throw new Error("InvalidStateError: the socket is not open")
    }
    this.sent.push(data)
  }

  close(code, reason) {
    this.closedWith = { code, reason }
    this.readyState = FakeWebSocket.CLOSING
  }

  // The server's side, played by the test.

  /**
   * Complete the handshake. The client then pings to learn when the server
   * has attached the socket; unless `attach` is false, that ping is taken out
   * of `sent` (into `attachPing`) and answered, so the client is open.
   */
  serverOpen({ attach = true } = {}) {
    this.readyState = FakeWebSocket.OPEN
    this.onopen?.({ type: "open" })
    if (attach) {
      const index = this.messages.findIndex((message) => message.action === "ping")
      this.attachPing = index === -1 ? null : JSON.parse(this.sent.splice(index, 1)[0])
      this.serverSend({ id: this.attachPing?.id ?? null, body: "pong" })
    }
  }

  /** @param {Object|string} frame a frame object, or raw text */
  serverSend(frame) {
    const data = typeof frame === "string" ? frame : JSON.stringify(frame)
    this.onmessage?.({ type: "message", data })
  }

  /** Reply to the last message the client sent with the given fields. */
  serverReply(fields = {}) {
    const { id } = this.messages[this.messages.length - 1]
    this.serverSend({ id, ...fields })
  }

  serverError() {
    this.onerror?.({ type: "error" })
  }

  serverClose(code = 1006, reason = "") {
    this.readyState = FakeWebSocket.CLOSED
    this.onclose?.({ type: "close", code, reason, wasClean: code !== 1006 })
  }
}

FakeWebSocket.CONNECTING = 0
FakeWebSocket.OPEN = 1
FakeWebSocket.CLOSING = 2
FakeWebSocket.CLOSED = 3
FakeWebSocket.instances = []

export default FakeWebSocket
