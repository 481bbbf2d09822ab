export class Push {
    /**
     * @param {number} id the request id, unique within a client
     * @param {string} text the encoded message
     * @param {function(Object): void} resolve
     * @param {function(Error): void} reject
     */
    constructor(id: number, text: string, resolve: (arg0: Object) => void, reject: (arg0: Error) => void);
    id: number;
    text: string;
    settled: boolean;
    timer: any;
    resolveFn: (arg0: Object) => void;
    rejectFn: (arg0: Error) => void;
    /**
     * Reject with a "timeout" error unless settled within `ms`.
     *
     * @param {number} ms
     * @param {function(Push): void} onTimeout called first, to forget the push
     */
    startTimeout(ms: number, onTimeout: (arg0: Push) => void): void;
    /**
     * Settle with a reply: reject when it is an error reply, resolve otherwise.
     *
     * @param {Object} reply
     */
    receive(reply: Object): void;
    /** @param {Object} value */
    resolve(value: Object): void;
    /** @param {Error} error */
    reject(error: Error): void;
    settle(): boolean;
}
export default Push;
