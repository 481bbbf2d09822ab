/**
 * Whether the page may reload now: not if it did less than `interval` ms ago
 * (in this tab), nor if sessionStorage cannot tell. Records the reload when
 * it says yes.
 *
 * @param {number} interval
 * @returns {boolean}
 */
export function claimReload(interval: number): boolean;
/** Reload the page. */
export function reloadPage(): void;
/** The sessionStorage key holding the time of the last reload. */
export const RELOAD_KEY: "flask-realtime:reloaded-at";
