export class Logger {
    /** Whether messages are written; false unless the application asks. */
    enabled: boolean;
    /**
     * Write a message, prefixed with the time and "[FlaskRealtime]".
     *
     * @param {...unknown} messages
     */
    log(...messages: unknown[]): void;
}
declare const _default: Logger;
export default _default;
