// A retry timer: each `schedule()` waits longer than the one before, until
// `reset()`. The delays come from a function of the attempt number, by default
// `backoff()`: exponential, capped, with "equal jitter".
//
//   const timer = new Timer(() => connection.open(), (tries) => backoff(tries))
//   timer.schedule()               // 250-500 ms, then 0.5-1 s, 1-2 s ... 15-30 s
//   timer.schedule(spread(5000))   // 0-5 s this once; still counts as a try
//   timer.reset()                  // after a connection that held
//
// The jitter spreads the reconnects of many pages that lost their connections
// at the same instant; keeping half of each delay fixed makes sure a page
// never retries in a tight loop. `spread()` is for the one case where the
// server asks every page to come back (a restart, close code 1012): the pages
// are spread over the whole window, with no fixed part, and the backoff goes
// on from there should that attempt fail.

import adapters from "./adapters.js"

/**
 * The delay before attempt `tries` (1, 2, ...): half of
 * `min(max, initial * 2 ** (tries - 1))`, plus a random part up to the other
 * half.
 *
 * @param {number} tries the attempt about to be made, from 1
 * @param {Object} [options]
 * @param {number} [options.initial=500] the ceiling of the first delay, in ms
 * @param {number} [options.max=30000] the largest delay, in ms
 * @returns {number} milliseconds
 */
export function backoff(tries, { initial = 500, max = 30000 } = {}) {
  const exponent = Math.max(0, Math.min(tries - 1, 52))
  const ceiling = Math.min(max, initial * 2 ** exponent)
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/**
 * A delay drawn uniformly from 0 to `span`: N pages told to come back at the
 * same instant then arrive at an even N / span per ms.
 *
 * @param {number} span the largest delay, in ms
 * @returns {number} milliseconds
 */
export function spread(span) {
  return Math.round(Math.random() * Math.max(0, span))
}

export class Timer {
  /**
   * @param {function(): void} callback called when a scheduled delay ends
   * @param {function(number): number} timerCalc the delay in ms for an
   *   attempt number (1 for the first)
   */
  constructor(callback, timerCalc) {
    this.callback = callback
    this.timerCalc = timerCalc
    /** How many scheduled delays have ended since the last reset. */
    this.tries = 0
    this.timer = null
  }

  /** Whether a delay is running. */
  get pending() {
    return this.timer !== null
  }

  /** Forget the attempts made so far and cancel a running delay. */
  reset() {
    this.tries = 0
    this.cancel()
  }

  /** Cancel a running delay, keeping the attempt count. */
  cancel() {
    if (this.timer !== null) {
      adapters.clearTimeout(this.timer)
      this.timer = null
    }
  }

  /**
   * Start the delay for the next attempt, replacing one that is running.
   *
   * @param {number} [delay] ms to wait this time instead of the computed
   *   delay; the attempt counts all the same, so later ones back off from it
   * @returns {number} the delay, in ms
   */
  schedule(delay = this.timerCalc(this.tries + 1)) {
    this.cancel()
    this.timer = adapters.setTimeout(() => {
      this.timer = null
      this.tries += 1
      this.callback()
    }, delay)
    return delay
  }
}

export default Timer
