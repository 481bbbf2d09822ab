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
export function backoff(tries: number, { initial, max }?: {
    initial?: number | undefined;
    max?: number | undefined;
}): number;
/**
 * A delay drawn uniformly from 0 to `span`: N pages told to come back at the
 * same instant then arrive at an even N / span per ms.
 *
 * @param {number} span the largest delay, in ms
 * @returns {number} milliseconds
 */
export function spread(span: number): number;
export class Timer {
    /**
     * @param {function(): void} callback called when a scheduled delay ends
     * @param {function(number): number} timerCalc the delay in ms for an
     *   attempt number (1 for the first)
     */
    constructor(callback: () => void, timerCalc: (arg0: number) => number);
    callback: () => void;
    timerCalc: (arg0: number) => number;
    /** How many scheduled delays have ended since the last reset. */
    tries: number;
    timer: any;
    /** Whether a delay is running. */
    get pending(): boolean;
    /** Forget the attempts made so far and cancel a running delay. */
    reset(): void;
    /** Cancel a running delay, keeping the attempt count. */
    cancel(): void;
    /**
     * Start the delay for the next attempt, replacing one that is running.
     *
     * @param {number} [delay] ms to wait this time instead of the computed
     *   delay; the attempt counts all the same, so later ones back off from it
     * @returns {number} the delay, in ms
     */
    schedule(delay?: number): number;
}
export default Timer;
