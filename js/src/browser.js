// The entry point of the browser build, realtime.js (and realtime.min.js):
// everything index.js exports, as the global `FlaskRealtime`, and a client
// for the page as `window.realtime`, connected unless the script tag has
// data-connect="false".
//
//   <script src="/_realtime/static/realtime.min.js" defer></script>
//   <script type="module">
//     realtime.on("chat", (payload) => console.log(payload))
//   </script>

import adapters from "./adapters.js"
import { start } from "./index.js"

export * from "./index.js"

// `currentScript` is only set while this script runs, so read it now.
start(adapters.document?.currentScript ?? null)
