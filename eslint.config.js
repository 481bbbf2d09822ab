// ESLint flat config for the browser client and its tests (`npm run lint`).
// The recommended rules, plus the house style of js/: double quotes, no
// semicolons, 2-space indent (STYLE.md, rule 30).
import js from "@eslint/js"

const browser = {
  AbortController: "readonly",
  TextEncoder: "readonly",
  URL: "readonly",
  URLSearchParams: "readonly",
  globalThis: "readonly"
}

const node = {
  ...browser,
  Event: "readonly",
  EventTarget: "readonly",
  Headers: "readonly",
  Response: "readonly",
  process: "readonly",
  setImmediate: "readonly",
  console: "readonly"
}

export default [
  js.configs.recommended,
  {
    files: ["js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: browser
    },
    rules: {
      "curly": ["error", "all"],
      "eqeqeq": ["error", "always"],
      "indent": ["error", 2, { SwitchCase: 1 }],
      "keyword-spacing": "error",
      "no-var": "error",
      "prefer-const": "error",
      "quotes": ["error", "double", { avoidEscape: true }],
      "semi": ["error", "never"],
      "space-before-blocks": "error",
      "comma-dangle": ["error", "never"]
    }
  },
  {
    files: ["js/test/**/*.js", "js/build.js"],
    languageOptions: { globals: node }
  }
]
