export default adapters;
/**
 * The replaceable globals. Typed loosely where the browser's own types would
 * tie the declarations to the DOM library, which Node projects lack.
 */
export type Adapters = {
    WebSocket: import("./options.js").WebSocketConstructor | undefined;
    fetch: ((url: string, init: object) => Promise<any>) | undefined;
    window: any;
    document: any;
    logger: {
        log: (...messages: unknown[]) => void;
    };
    setTimeout: (callback: () => void, ms: number) => unknown;
    clearTimeout: (id: unknown) => void;
    now: () => number;
    reportError: (error: unknown) => void;
};
/**
 * The replaceable globals. Typed loosely where the browser's own types would
 * tie the declarations to the DOM library, which Node projects lack.
 *
 * @typedef {object} Adapters
 * @property {import("./options.js").WebSocketConstructor | undefined} WebSocket
 * @property {((url: string, init: object) => Promise<any>) | undefined} fetch
 * @property {any} window
 * @property {any} document
 * @property {{log: (...messages: unknown[]) => void}} logger
 * @property {(callback: () => void, ms: number) => unknown} setTimeout
 * @property {(id: unknown) => void} clearTimeout
 * @property {() => number} now
 * @property {(error: unknown) => void} reportError
 */
/** @type {Adapters} */
declare const adapters: Adapters;
