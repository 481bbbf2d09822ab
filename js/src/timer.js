// A retry timer: each `schedule()` waits longer than the one before, until
// `reset()`. The delays come from a function of the attempt number, by default
// `backoff()`: exponential, capped, with "equal jitter".
//
//   const timer = new Timer(() => connection.open(), (tries) => backoff(tries))
//   timer.schedule()   // 250-500 ms, then 0.5-1 s, 1-2 s ... 15-30 s
//   timer.reset()      // after a connection that held
//
// The jitter spreads the reconnects of many pages after a server restart, so
// they do not all arrive at the same instant; keeping half of each delay fixed
// makes sure a page never retries in a tight loop.

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
   * @returns {number} the delay, in ms
   */
  schedule() {
    this.cancel()
    const delay = this.timerCalc(this.tries + 1)
    this.timer = adapters.setTimeout(() => {
      this.timer = null
      this.tries += 1
      this.callback()
    }, delay)
    return delay
  }
}

export default Timer
