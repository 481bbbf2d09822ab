export class Listeners {
    byName: Map<any, any>;
    /**
     * Add a listener. The same function added twice is called twice.
     *
     * @param {string} name
     * @param {Function} listener
     * @returns {function(): void} removes this listener; safe to call again
     */
    add(name: string, listener: Function): () => void;
    /**
     * Call every listener of `name` with `args`, in the order they were added.
     * A listener removed meanwhile is not called; one added is called from the
     * next emit on.
     *
     * @param {string} name
     * @param {...*} args
     * @returns {number} how many listeners were called
     */
    emit(name: string, ...args: any[]): number;
    /**
     * How many listeners `name` has.
     *
     * @param {string} name
     * @returns {number}
     */
    count(name: string): number;
    /** Remove every listener. */
    clear(): void;
}
export default Listeners;
