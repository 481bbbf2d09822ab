// A logger that is off by default. Turn it on to see the client's decisions
// (connecting, reconnect delays, close codes) in the browser's console:
//
//   FlaskRealtime.logger.enabled = true
//   // or: createClient({ debug: true })
//
// Callers that build an expensive message check `logger.enabled` first.

import adapters from "./adapters.js"

export class Logger {
  constructor() {
    /** Whether messages are written; false unless the application asks. */
    this.enabled = false
  }

  /**
   * Write a message, prefixed with the time and "[FlaskRealtime]".
   *
   * @param {...unknown} messages
   */
  log(...messages) {
    if (this.enabled) {
      const time = new Date(adapters.now()).toISOString()
      adapters.logger.log(`[FlaskRealtime] ${time}`, ...messages)
    }
  }
}

export default new Logger()
