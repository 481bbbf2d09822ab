// The page-level parts of recovering from a refused id or an ended session:
// a guarded reload.
//
// A refused id (close code 4001) means the page needs a fresh one, which only
// rendering the page again gives; so does an ended session (4003), where the
// reload also lets the server answer the logged-out page (a redirect to its
// login page, say). A reload is the recovery that needs no code in the
// application, but if it cannot help (cookies blocked, so no socket key, say)
// it would loop; sessionStorage remembers the last one.
//
//   if (claimReload(10000)) reloadPage()

import adapters from "./adapters.js"

/** The sessionStorage key holding the time of the last reload. */
export const RELOAD_KEY = "flask-realtime:reloaded-at"

/**
 * Whether the page may reload now: not if it did less than `interval` ms ago
 * (in this tab), nor if sessionStorage cannot tell. Records the reload when
 * it says yes.
 *
 * @param {number} interval
 * @returns {boolean}
 */
export function claimReload(interval) {
  try {
    const storage = adapters.window.sessionStorage
    const now = adapters.now()
    const last = Number(storage.getItem(RELOAD_KEY))
    if (Number.isFinite(last) && last > 0 && Math.abs(now - last) < interval) {
      return false
    }
    storage.setItem(RELOAD_KEY, String(now))
    return true
  } catch {
    // No window, or storage disabled: without a record a reload could loop.
    return false
  }
}

/** Reload the page. */
export function reloadPage() {
  adapters.window.location.reload()
}
