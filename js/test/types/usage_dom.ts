// What only a browser project (the DOM library) can check: that the DOM's
// own WebSocket class and <script> element fit where the client takes them.

import { Client, getConfig, start } from "flask-realtime"

new Client("wss://example.com/_realtime?socket_connection_id=an-id-of-sixteen-chars", {
  WebSocket
})
const script = document.querySelector("script")
getConfig(script)
start(document.currentScript as HTMLScriptElement | null)
