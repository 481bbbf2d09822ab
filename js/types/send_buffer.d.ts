export class SendBuffer {
    /** @param {number} limit how many messages may wait */
    constructor(limit: number);
    limit: number;
    pushes: any[];
    /** How many messages wait. */
    get size(): number;
    /**
     * Queue a push, unless the buffer is full.
     *
     * @param {Push} push
     * @returns {boolean} whether it was queued
     */
    add(push: Push): boolean;
    /**
     * Take a push out (it timed out, say).
     *
     * @param {Push} push
     * @returns {boolean} whether it was there
     */
    remove(push: Push): boolean;
    /**
     * Empty the buffer.
     *
     * @returns {Push[]} what it held, oldest first
     */
    drain(): Push[];
}
export default SendBuffer;
