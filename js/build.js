// Builds the browser client into flask_realtime/static/ (`npm run build`):
//
//   realtime.js      the browser global `FlaskRealtime` (IIFE), readable
//   realtime.min.js  the same, minified
//   realtime.mjs     an ES module, for bundlers and `import`
//
// The output depends on nothing but js/src, package.json and the esbuild
// version pinned in package-lock.json: no dates, no absolute paths, no source
// maps. scripts/test.sh rebuilds and fails when the committed files differ.
//
// `npm run build` then runs `npm run types`, which writes the TypeScript
// declarations, js/types/*.d.ts, from the JSDoc in js/src (js/tsconfig.json).
// This script empties js/types first, so that a deleted module leaves no
// declarations behind.
import { build } from "esbuild"
import { readFileSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const { version, license } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const banner = `/*! Flask-Realtime ${version} | ${license} */`

rmSync(join(root, "js", "types"), { recursive: true, force: true })

const common = {
  absWorkingDir: root,
  bundle: true,
  charset: "utf8",
  legalComments: "inline",
  logLevel: "warning",
  platform: "browser",
  target: ["es2020"],
  banner: { js: banner }
}

await Promise.all([
  build({
    ...common,
    entryPoints: ["js/src/browser.js"],
    outfile: "flask_realtime/static/realtime.js",
    format: "iife",
    globalName: "FlaskRealtime"
  }),
  build({
    ...common,
    entryPoints: ["js/src/browser.js"],
    outfile: "flask_realtime/static/realtime.min.js",
    format: "iife",
    globalName: "FlaskRealtime",
    minify: true
  }),
  build({
    ...common,
    entryPoints: ["js/src/index.js"],
    outfile: "flask_realtime/static/realtime.mjs",
    format: "esm"
  })
])
