/*! Flask-Realtime 0.1.0-dev.0 | BSD-3-Clause */

// js/src/adapters.js
var adapters = {
  /**
   * The WebSocket constructor, unless the client's `WebSocket` option names
   * one. Node before 22 has no global WebSocket.
   */
  WebSocket: globalThis.WebSocket,
  /** `fetch`, for calls over plain HTTP while the socket is down. */
  fetch: typeof globalThis.fetch === "function" ? (...args) => globalThis.fetch(...args) : void 0,
  /** The window: `location`, `sessionStorage`, and page events. */
  window: globalThis.window,
  /** The document: `<body>` attributes and `visibilitychange`. */
  document: globalThis.document,
  /** Where the logger writes, when it is enabled. */
  logger: globalThis.console,
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id),
  /** Milliseconds since the epoch. */
  now: () => Date.now(),
  /**
   * Reports an exception thrown by an application's listener without
   * stopping the other listeners: the browser shows it as an uncaught error.
   */
  reportError: (error) => {
    if (typeof globalThis.reportError === "function") {
      globalThis.reportError(error);
    } else {
      globalThis.setTimeout(() => {
        throw error;
      }, 0);
    }
  }
};
var adapters_default = adapters;

// js/src/constants.js
var constants_default = {
  "PROTOCOL_VERSION": 1,
  "CONNECTION_ID_PARAM": "socket_connection_id",
  "POSITIONS_PARAM": "positions",
  "SOCKET_KEY_PARAM": "socket_key",
  "SOCKET_KEY_HEADER": "X-Realtime-Socket-Key",
  "CONNECTION_ID_HEADER": "X-Socket-Connection-Id",
  "BODY_CONNECTION_ID_ATTRIBUTE": "data-socket-connection-id",
  "BODY_PATH_ATTRIBUTE": "data-socket-path",
  "CLOSE_NORMAL": 1e3,
  "CLOSE_GOING_AWAY": 1001,
  "CLOSE_NO_STATUS": 1005,
  "CLOSE_ABNORMAL": 1006,
  "CLOSE_MESSAGE_TOO_BIG": 1009,
  "CLOSE_INTERNAL_ERROR": 1011,
  "CLOSE_SERVICE_RESTART": 1012,
  "CLOSE_ID_REFUSED": 4001,
  "CLOSE_REPLACED": 4002,
  "CLOSE_SESSION_ENDED": 4003,
  "CLOSE_RATE_LIMITED": 4029,
  "CLOSE_SLOW_CONSUMER": 4008,
  "CLEAN_CLOSE_CODES": [1e3, 1001, 1005],
  "ERROR_INVALID_JSON": "invalid_json",
  "ERROR_INVALID_MESSAGE": "invalid_message",
  "ERROR_UNKNOWN_ACTION": "unknown_action",
  "ERROR_BINARY_FRAME": "binary_frame",
  "ERROR_HANDLER_FAILED": "handler_failed",
  "ERROR_RATE_LIMITED": "rate_limited",
  "ERROR_INVALID_CALL": "invalid_call",
  "ERROR_REPLY_TOO_LARGE": "reply_too_large",
  "ERROR_HTTP": "http_error",
  "ERROR_ROUTE_NOT_CALLABLE": "route_not_callable",
  "MAX_REQUEST_ID_LENGTH": 64
};

// js/src/connection_monitor.js
var ConnectionMonitor = class {
  /**
   * @param {Connection} connection what is watched; the monitor calls its
   *   `isWritable()`, `sendHeartbeat()`, `stale()`, `wake(reason)`,
   *   `pageHidden()` and `pageShown()`
   * @param {Object} options
   * @param {number} options.heartbeatInterval ms without a frame before a
   *   ping; 0 turns the heartbeat off
   * @param {number} options.heartbeatTimeout ms to wait after the ping; 0
   *   waits for ever
   */
  constructor(connection, { heartbeatInterval, heartbeatTimeout }) {
    this.connection = connection;
    this.heartbeatInterval = heartbeatInterval;
    this.heartbeatTimeout = heartbeatTimeout;
    this.idleTimer = null;
    this.staleTimer = null;
    this.started = false;
    this.handlers = {
      online: () => this.connection.wake("online"),
      visibilitychange: () => {
        if (adapters_default.document?.visibilityState === "visible") {
          this.connection.wake("visible");
        }
      },
      pagehide: () => this.connection.pageHidden(),
      pageshow: (event) => {
        if (event?.persisted) {
          this.connection.pageShown();
        }
      }
    };
  }
  /** Listen to the page's events (online, visibility, pagehide, pageshow). */
  start() {
    if (this.started) {
      return;
    }
    this.started = true;
    this.listen("addEventListener");
  }
  /** Stop listening, and stop the heartbeat. */
  stop() {
    if (this.started) {
      this.started = false;
      this.listen("removeEventListener");
    }
    this.disconnected();
  }
  /** A frame arrived: the connection is alive. */
  received() {
    this.clearStaleTimer();
    this.scheduleHeartbeat();
  }
  /** The connection closed: stop the heartbeat. */
  disconnected() {
    this.clearStaleTimer();
    if (this.idleTimer !== null) {
      adapters_default.clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }
  /**
   * A socket is being opened: it must open, and answer, within
   * `heartbeatTimeout`, or it counts as stale too.
   */
  connecting() {
    this.disconnected();
    this.startStaleTimer();
  }
  /** The handshake is done: ping, to learn when the server has attached it. */
  opened() {
    this.clearStaleTimer();
    this.heartbeat();
  }
  /** Send a ping now, unless one is already waiting for an answer. */
  check() {
    if (this.staleTimer === null) {
      this.heartbeat();
    }
  }
  // Private
  listen(method) {
    const win = adapters_default.window;
    const doc = adapters_default.document;
    if (win && typeof win[method] === "function") {
      win[method]("online", this.handlers.online);
      win[method]("pagehide", this.handlers.pagehide);
      win[method]("pageshow", this.handlers.pageshow);
    }
    if (doc && typeof doc[method] === "function") {
      doc[method]("visibilitychange", this.handlers.visibilitychange);
    }
  }
  scheduleHeartbeat() {
    if (this.idleTimer !== null) {
      adapters_default.clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (this.heartbeatInterval > 0) {
      this.idleTimer = adapters_default.setTimeout(() => {
        this.idleTimer = null;
        this.heartbeat();
      }, this.heartbeatInterval);
    }
  }
  heartbeat() {
    if (!this.connection.isWritable()) {
      return;
    }
    this.connection.sendHeartbeat();
    this.startStaleTimer();
  }
  startStaleTimer() {
    if (this.staleTimer === null && this.heartbeatTimeout > 0) {
      this.staleTimer = adapters_default.setTimeout(() => {
        this.staleTimer = null;
        this.connection.stale();
      }, this.heartbeatTimeout);
    }
  }
  clearStaleTimer() {
    if (this.staleTimer !== null) {
      adapters_default.clearTimeout(this.staleTimer);
      this.staleTimer = null;
    }
  }
};

// js/src/errors.js
var RealtimeError = class extends Error {
  /**
   * @param {string} code what went wrong, for programs
   * @param {string} message what went wrong, for people
   * @param {?Record<string, unknown>} [reply] the server's error reply, when
   *   there is one
   */
  constructor(code, message, reply = null) {
    super(message);
    this.name = "RealtimeError";
    this.code = code;
    this.reply = reply;
  }
};
RealtimeError.codes = Object.freeze({
  /** No reply came within the timeout. */
  TIMEOUT: "timeout",
  /** The client is disconnected and its send buffer is full. */
  BUFFER_FULL: "buffer_full",
  /** The message, encoded, is larger than `maxMessageSize`. */
  MESSAGE_TOO_BIG: "message_too_big",
  /** The message cannot be encoded as JSON. */
  INVALID_MESSAGE: "invalid_message",
  /** The connection ended after the message was sent, before its reply. */
  DISCONNECTED: "disconnected",
  /** The client was closed, refused, replaced or ended: it sends nothing more. */
  CLOSED: "closed",
  /** The HTTP request of a fallback call failed (network error). */
  NETWORK: "network"
});
var ENDINGS = Object.freeze({
  closed: "the client was closed",
  refused: "the server refused the page's connection id (close code 4001)",
  replaced: "another socket took the page's connection id (close code 4002)",
  ended: "the session ended, or the app disconnected one of the page's channels (close code 4003)"
});
function closedError(state) {
  const why = ENDINGS[state] ?? `the client is ${state}`;
  return new RealtimeError(RealtimeError.codes.CLOSED, `Nothing more is sent: ${why}.`);
}
function disconnectedError(state) {
  const why = ENDINGS[state];
  return new RealtimeError(
    RealtimeError.codes.DISCONNECTED,
    `The connection closed before the reply came${why === void 0 ? "" : `: ${why}`}.`
  );
}

// js/src/logger.js
var Logger = class {
  constructor() {
    this.enabled = false;
  }
  /**
   * Write a message, prefixed with the time and "[FlaskRealtime]".
   *
   * @param {...unknown} messages
   */
  log(...messages) {
    if (this.enabled) {
      const time = new Date(adapters_default.now()).toISOString();
      adapters_default.logger.log(`[FlaskRealtime] ${time}`, ...messages);
    }
  }
};
var logger_default = new Logger();

// js/src/timer.js
function backoff(tries, { initial = 500, max = 3e4 } = {}) {
  const exponent = Math.max(0, Math.min(tries - 1, 52));
  const ceiling = Math.min(max, initial * 2 ** exponent);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
function spread(span) {
  return Math.round(Math.random() * Math.max(0, span));
}
var Timer = class {
  /**
   * @param {function(): void} callback called when a scheduled delay ends
   * @param {function(number): number} timerCalc the delay in ms for an
   *   attempt number (1 for the first)
   */
  constructor(callback, timerCalc) {
    this.callback = callback;
    this.timerCalc = timerCalc;
    this.tries = 0;
    this.timer = null;
  }
  /** Whether a delay is running. */
  get pending() {
    return this.timer !== null;
  }
  /** Forget the attempts made so far and cancel a running delay. */
  reset() {
    this.tries = 0;
    this.cancel();
  }
  /** Cancel a running delay, keeping the attempt count. */
  cancel() {
    if (this.timer !== null) {
      adapters_default.clearTimeout(this.timer);
      this.timer = null;
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
    this.cancel();
    this.timer = adapters_default.setTimeout(() => {
      this.timer = null;
      this.tries += 1;
      this.callback();
    }, delay);
    return delay;
  }
};

// js/src/connection.js
var OPEN = 1;
var TERMINAL_CLOSES = /* @__PURE__ */ new Map([
  [constants_default.CLOSE_ID_REFUSED, "refused"],
  [constants_default.CLOSE_REPLACED, "replaced"],
  [constants_default.CLOSE_SESSION_ENDED, "ended"]
]);
var Connection = class _Connection {
  /**
   * @param {string} url the socket's ws:// or wss:// URL, with the id
   * @param {Object} delegate told about everything that happens
   * @param {Object} options `reconnectInitial`, `reconnectMax`,
   *   `restartWindow`, `heartbeatInterval`, `heartbeatTimeout` and
   *   `WebSocket` (see `Client.defaults`)
   */
  constructor(url, delegate, options) {
    this.url = url;
    this.delegate = delegate;
    this.WebSocket = options.WebSocket ?? null;
    this.state = "idle";
    this.ws = null;
    this.everOpened = false;
    this.openedAt = null;
    this.attempts = 0;
    this.heartbeats = 0;
    this.closedForPageHide = false;
    this.restartWindow = options.restartWindow;
    const { reconnectInitial: initial, reconnectMax: max } = options;
    this.timer = new Timer(() => this.open(), (tries) => backoff(tries, { initial, max }));
    this.monitor = new ConnectionMonitor(this, options);
  }
  /** Whether messages can be sent now. */
  isOpen() {
    return this.state === "open" && this.isWritable();
  }
  /** Whether the socket's handshake is done and it is not closing. */
  isWritable() {
    return this.ws !== null && this.ws.readyState === OPEN;
  }
  /** Open the socket, unless it is open or opening. */
  open() {
    if (this.ws !== null) {
      return;
    }
    this.timer.cancel();
    this.closedForPageHide = false;
    this.monitor.start();
    this.state = "connecting";
    this.attempts += 1;
    const url = typeof this.delegate.connectionUrl === "function" ? this.delegate.connectionUrl() : this.url;
    if (logger_default.enabled) {
      logger_default.log("connecting to", withoutSocketKey(url));
    }
    let ws;
    try {
      ws = new (this.WebSocket ?? adapters_default.WebSocket)(url);
    } catch (error) {
      this.state = "closed";
      this.monitor.stop();
      this.delegate.connectionError(error);
      this.delegate.connectionClosed({
        code: constants_default.CLOSE_ABNORMAL,
        reason: String(error),
        wasClean: false,
        state: "closed"
      });
      return;
    }
    this.ws = ws;
    this.monitor.connecting();
    ws.onopen = () => this.handleOpen(ws);
    ws.onmessage = (event) => this.handleMessage(ws, event);
    ws.onerror = () => this.handleError(ws);
    ws.onclose = (event) => this.handleClose(ws, event);
  }
  /** Close for good (until `open()`); with code 1000 the server forgets the id. */
  close(code = constants_default.CLOSE_NORMAL, reason = "") {
    this.shutdown(code, reason);
    this.monitor.stop();
  }
  /**
   * Send an encoded message.
   *
   * @param {string} text
   * @returns {boolean} false when the socket is not open
   */
  send(text) {
    if (!this.isOpen()) {
      return false;
    }
    this.ws.send(text);
    return true;
  }
  // Called by the ConnectionMonitor.
  sendHeartbeat() {
    if (this.isWritable()) {
      this.heartbeats += 1;
      this.ws.send(JSON.stringify({ action: "ping", id: `heartbeat-${this.heartbeats}` }));
    }
  }
  stale() {
    logger_default.log("no answer to the heartbeat: dropping the connection");
    const ws = this.detach();
    if (ws !== null) {
      closeQuietly(ws, 4e3, "heartbeat timeout");
    }
    this.afterClose({ code: constants_default.CLOSE_ABNORMAL, reason: "heartbeat timeout", wasClean: false });
  }
  wake(reason) {
    if (this.state === "reconnecting") {
      logger_default.log(`${reason}: reconnecting now`);
      this.open();
    } else if (this.state === "open") {
      this.monitor.check();
    }
  }
  pageHidden() {
    if (["connecting", "open", "reconnecting"].includes(this.state)) {
      this.shutdown(constants_default.CLOSE_NORMAL, "page unload");
      this.closedForPageHide = true;
    }
  }
  pageShown() {
    if (this.closedForPageHide) {
      this.open();
    }
  }
  // Private
  shutdown(code, reason) {
    this.timer.reset();
    const active = ["connecting", "open", "reconnecting"].includes(this.state);
    const ws = this.detach();
    this.state = "closed";
    this.everOpened = false;
    this.openedAt = null;
    this.attempts = 0;
    if (ws !== null) {
      closeQuietly(ws, code, reason);
    }
    if (active) {
      this.delegate.connectionClosed({ code, reason, wasClean: true, state: "closed" });
    }
  }
  detach() {
    const ws = this.ws;
    this.monitor.disconnected();
    if (ws !== null) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      this.ws = null;
    }
    return ws;
  }
  handleOpen(ws) {
    if (ws === this.ws) {
      this.monitor.opened();
    }
  }
  attached() {
    const reconnected = this.everOpened;
    const attempts = this.attempts;
    this.state = "open";
    this.everOpened = true;
    this.openedAt = adapters_default.now();
    this.attempts = 0;
    logger_default.log("open", reconnected ? `again after ${attempts} attempt(s)` : "");
    this.delegate.connectionOpened({ reconnected, attempts });
  }
  handleMessage(ws, event) {
    if (ws !== this.ws) {
      return;
    }
    this.monitor.received();
    if (this.state === "connecting") {
      this.attached();
    }
    if (typeof event.data !== "string") {
      return;
    }
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      frame = void 0;
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      this.delegate.connectionError(new RealtimeError(
        constants_default.ERROR_INVALID_JSON,
        "The server sent a frame that is not a JSON object."
      ));
      return;
    }
    this.delegate.connectionReceived(frame);
  }
  handleError(ws) {
    if (ws === this.ws) {
      this.delegate.connectionError(new RealtimeError("socket_error", "The WebSocket failed."));
    }
  }
  handleClose(ws, event) {
    if (ws !== this.ws) {
      return;
    }
    this.detach();
    this.afterClose({ code: event.code, reason: event.reason || "", wasClean: !!event.wasClean });
  }
  afterClose(info) {
    const now = adapters_default.now();
    if (this.openedAt !== null && now - this.openedAt >= _Connection.stableAfter) {
      this.timer.reset();
    }
    this.openedAt = null;
    const state = TERMINAL_CLOSES.get(info.code) ?? "reconnecting";
    this.state = state;
    if (state !== "reconnecting") {
      this.monitor.stop();
    }
    logger_default.log("closed", info.code, info.reason, "->", state);
    this.delegate.connectionClosed({ ...info, state });
    if (this.state === "reconnecting" && this.ws === null && !this.timer.pending) {
      const attempt = this.timer.tries + 1;
      const delay = this.timer.schedule(this.restartDelay(info.code));
      logger_default.log(`reconnecting in ${delay} ms (attempt ${attempt})`);
      this.delegate.connectionReconnecting({ attempt, delay, code: info.code });
    }
  }
  // A restarting server closes all its sockets at once with 1012. After the
  // usual first delay, thousands of pages would reach the new process within
  // a quarter of a second; a delay drawn over the whole window spreads them.
  // Only when no retry is under way: a 1012 from a server still shutting
  // down, or from one that keeps closing right after opening, is a failed
  // attempt like any other and backs off (undefined: the timer's backoff).
  restartDelay(code) {
    if (code === constants_default.CLOSE_SERVICE_RESTART && this.timer.tries === 0) {
      return spread(this.restartWindow);
    }
    return void 0;
  }
};
Connection.stableAfter = 5e3;
function withoutSocketKey(url) {
  const param = new RegExp(`([?&]${constants_default.SOCKET_KEY_PARAM}=)[^&]*`);
  return url.replace(param, "$1…");
}
function closeQuietly(ws, code, reason) {
  try {
    ws.close(code, reason);
  } catch {
  }
}

// js/src/encoding.js
function encodeMessage(message, maxSize) {
  let text;
  try {
    text = JSON.stringify(message);
  } catch (error) {
    throw new RealtimeError(
      RealtimeError.codes.INVALID_MESSAGE,
      `The message cannot be encoded as JSON: ${error.message}`
    );
  }
  const size = text.length * 3 <= maxSize ? text.length : new TextEncoder().encode(text).length;
  if (size > maxSize) {
    throw new RealtimeError(
      RealtimeError.codes.MESSAGE_TOO_BIG,
      `The message is ${size} bytes, more than the ${maxSize} bytes the server accepts.`
    );
  }
  return text;
}
function routePath(uri, base) {
  if (typeof uri !== "string" || uri === "") {
    throw new TypeError('The uri must be a path such as "/messages".');
  }
  const url = new URL(uri, base);
  if (url.origin !== new URL(base).origin) {
    throw new RealtimeError(constants_default.ERROR_INVALID_CALL, `${uri} is not on this site.`);
  }
  return url.pathname + url.search;
}
var HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
function checkHeaders(headers) {
  const prototype = headers !== null && typeof headers === "object" ? Object.getPrototypeOf(headers) : void 0;
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(
      'The headers must be a plain object of header names and strings, such as { "X-CSRFToken": token }.'
    );
  }
  const copy = {};
  for (const [name, value] of Object.entries(
    /** @type {object} */
    headers
  )) {
    if (!HEADER_NAME.test(name)) {
      throw new TypeError(`"${name}" is not a header name.`);
    }
    if (typeof value !== "string") {
      throw new TypeError(`The header "${name}" must be a string, not ${typeof value}.`);
    }
    copy[name] = value;
  }
  return copy;
}

// js/src/http_fallback.js
async function fetchRoute({ uri, method, input, form, headers: callHeaders }, { connectionId, socketKey = null, origin = "", timeout, id = null }) {
  if (typeof adapters_default.fetch !== "function") {
    throw new RealtimeError(RealtimeError.codes.NETWORK, "fetch is not available.");
  }
  const headers = { ...callHeaders, [constants_default.CONNECTION_ID_HEADER]: connectionId };
  if (socketKey !== null) {
    headers[constants_default.SOCKET_KEY_HEADER] = socketKey;
  }
  let url = origin + uri;
  let body;
  if (method === "GET" || method === "HEAD") {
    if (input !== void 0 && input !== null) {
      url += (url.includes("?") ? "&" : "?") + formEncode(input);
    }
  } else if (form) {
    body = formEncode(input ?? {});
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (input !== void 0) {
    body = JSON.stringify(input);
    headers["Content-Type"] = "application/json";
  }
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  let timedOut = false;
  const timer = adapters_default.setTimeout(() => {
    timedOut = true;
    controller?.abort();
  }, timeout);
  try {
    const response = await adapters_default.fetch(url, {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: controller?.signal
    });
    const text = method === "HEAD" ? "" : await response.text();
    if (timedOut) {
      throw new Error("aborted");
    }
    return {
      id,
      status: response.status,
      headers: headersObject(response.headers),
      body: decodeBody(text, response.headers.get("Content-Type") || "")
    };
  } catch (error) {
    if (timedOut) {
      throw new RealtimeError(RealtimeError.codes.TIMEOUT, `No response within ${timeout} ms.`);
    }
    if (error instanceof RealtimeError) {
      throw error;
    }
    throw new RealtimeError(RealtimeError.codes.NETWORK, `The request failed: ${error.message}`);
  } finally {
    adapters_default.clearTimeout(timer);
  }
}
function formEncode(input) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new RealtimeError(
      constants_default.ERROR_INVALID_CALL,
      "'input' must be an object for a GET, HEAD or form call."
    );
  }
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(input)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (!["string", "number", "boolean"].includes(typeof item)) {
        throw new RealtimeError(
          constants_default.ERROR_INVALID_CALL,
          `'input' field '${name}' must hold text or numbers.`
        );
      }
      params.append(name, String(item));
    }
  }
  return params.toString();
}
function headersObject(headers) {
  const result = {};
  headers.forEach((value, name) => {
    const spelled = name.replace(/(^|-)([a-z])/g, (_, dash, letter) => dash + letter.toUpperCase());
    result[spelled] = value;
  });
  return result;
}
function decodeBody(text, contentType) {
  const mimetype = contentType.split(";")[0].trim().toLowerCase();
  if (mimetype === "application/json" || mimetype.endsWith("+json")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

// js/src/listeners.js
var Listeners = class {
  constructor() {
    this.byName = /* @__PURE__ */ new Map();
  }
  /**
   * Add a listener. The same function added twice is called twice.
   *
   * @param {string} name
   * @param {Function} listener
   * @returns {function(): void} removes this listener; safe to call again
   */
  add(name, listener) {
    if (typeof listener !== "function") {
      throw new TypeError(`The listener for "${name}" must be a function.`);
    }
    const entry = { listener };
    let entries2 = this.byName.get(name);
    if (entries2 === void 0) {
      entries2 = /* @__PURE__ */ new Set();
      this.byName.set(name, entries2);
    }
    entries2.add(entry);
    return () => {
      const current = this.byName.get(name);
      if (current !== void 0 && current.delete(entry) && current.size === 0) {
        this.byName.delete(name);
      }
    };
  }
  /**
   * Call every listener of `name` with `args`, in the order they were added.
   * A listener removed meanwhile is not called; one added is called from the
   * next emit on.
   *
   * @param {string} name
   * @param {...*} args
   * @returns {number} how many listeners were called
   */
  emit(name, ...args) {
    const entries2 = this.byName.get(name);
    if (entries2 === void 0) {
      return 0;
    }
    const snapshot = Array.from(entries2);
    let called = 0;
    for (const entry of snapshot) {
      if (!entries2.has(entry)) {
        continue;
      }
      called += 1;
      try {
        entry.listener(...args);
      } catch (error) {
        adapters_default.reportError(error);
      }
    }
    return called;
  }
  /**
   * How many listeners `name` has.
   *
   * @param {string} name
   * @returns {number}
   */
  count(name) {
    const entries2 = this.byName.get(name);
    return entries2 === void 0 ? 0 : entries2.size;
  }
  /** Remove every listener. */
  clear() {
    this.byName.clear();
  }
};

// js/src/options.js
var defaults = Object.freeze({
  /** ms to wait for a reply to `call()` or `send()`. */
  timeout: 1e4,
  /** ms: the ceiling of the first reconnect delay; it doubles each attempt. */
  reconnectInitial: 500,
  /** ms: the ceiling of every reconnect delay. */
  reconnectMax: 3e4,
  /**
   * ms: after a server restart (close code 1012), the first reconnect waits a
   * random time from 0 to this. 5 s spreads 10,000 pages to about 2,000
   * reconnects a second, where the usual 250-500 ms first retry would bring
   * them all within a quarter of a second; it gives a restarted process the
   * second or two it takes to boot; and it stays far below the server's
   * REALTIME_DISCONNECT_GRACE (120 s), so the page resumes and is replayed
   * what it missed, 2.5 s on average. A site with many more pages per
   * process may raise it.
   */
  restartWindow: 5e3,
  /** ms without any frame before the client pings; 0 turns pings off. */
  heartbeatInterval: 2e4,
  /** ms to wait for any frame after a ping before reconnecting; 0: for ever. */
  heartbeatTimeout: 1e4,
  /** How many messages may wait while disconnected. */
  sendBufferSize: 100,
  /** Largest message, in bytes of UTF-8 (REALTIME_MAX_MESSAGE_SIZE). */
  maxMessageSize: 64 * 1024,
  /** Whether `call()` uses fetch while the socket is not open. */
  httpFallback: false,
  /** Whether to reload the page when the server refuses its id. */
  reloadOnRefused: true,
  /**
   * Whether to reload the page when its session ends (close code 4003),
   * unless the page listens to the "ended" event: then it is the page's call.
   */
  reloadOnEnded: true,
  /** ms: at most one reload (refused or ended) in this period, per tab. */
  reloadInterval: 1e4,
  /** Log to the console. */
  debug: false,
  /**
   * The WebSocket constructor; null: the global `WebSocket`. Node before 22
   * has none: pass one, such as the `ws` package's.
   */
  WebSocket: null,
  /**
   * A socket key the client presents itself, for clients that keep no
   * cookies; null: the session cookie carries it. The server adopts it only
   * for a session that holds no key of its own.
   */
  socketKey: null
});
var events = Object.freeze([
  "open",
  "close",
  "reconnecting",
  "reconnected",
  "missed",
  "error",
  "refused",
  "replaced",
  "ended"
]);

// js/src/page.js
var RELOAD_KEY = "flask-realtime:reloaded-at";
function claimReload(interval) {
  try {
    const storage = adapters_default.window.sessionStorage;
    const now = adapters_default.now();
    const last = Number(storage.getItem(RELOAD_KEY));
    if (Number.isFinite(last) && last > 0 && Math.abs(now - last) < interval) {
      return false;
    }
    storage.setItem(RELOAD_KEY, String(now));
    return true;
  } catch {
    return false;
  }
}
function reloadPage() {
  adapters_default.window.location.reload();
}

// js/src/presence.js
var Presences = class {
  constructor() {
    this.channels = /* @__PURE__ */ new Map();
    this.listeners = new Listeners();
    this.stale = /* @__PURE__ */ new Set();
  }
  /**
   * A channel's members, as a new object.
   *
   * @param {string} channel
   * @returns {PresenceList}
   */
  list(channel) {
    const list = {};
    for (const [key, refs] of this.channels.get(channel) ?? []) {
      define(list, key, Array.from(refs.values()));
    }
    return list;
  }
  /**
   * Call `listener(list, change)` on each state and change of a channel.
   *
   * @param {string} channel
   * @param {Function} listener
   * @returns {() => void} removes the listener
   */
  on(channel, listener) {
    return this.listeners.add(channel, listener);
  }
  /**
   * Take a frame if it is a presence frame.
   *
   * @param {{channel: string, [field: string]: unknown}} frame
   * @returns {boolean} whether it was one
   */
  receive(frame) {
    if (isObject(frame.presence_state)) {
      this.replace(frame.channel, frame.presence_state);
    } else if (isObject(frame.presence)) {
      const { joins, leaves } = (
        /** @type {Record<string, unknown>} */
        frame.presence
      );
      this.change(frame.channel, joins, leaves);
    } else {
      return false;
    }
    return true;
  }
  /** The socket reconnected: every list is stale until the server says. */
  reconnected() {
    this.stale = new Set(this.channels.keys());
  }
  /** The socket is attached: a stale list whose channel got no state is empty. */
  attached() {
    for (const channel of this.stale) {
      this.replace(channel, {});
    }
  }
  // Private
  /** @private */
  replace(channel, state) {
    this.stale.delete(channel);
    const change = { joins: {}, leaves: {} };
    const next = /* @__PURE__ */ new Map();
    for (const [key, ref, meta] of entries(state)) {
      if (!next.has(key)) {
        next.set(key, /* @__PURE__ */ new Map());
      }
      next.get(key).set(ref, meta);
    }
    for (const [key, refs] of this.channels.get(channel) ?? []) {
      for (const [ref, meta] of refs) {
        if (!next.get(key)?.has(ref)) {
          add(change.leaves, key, meta);
        }
      }
    }
    const current = this.channels.get(channel);
    for (const [key, refs] of next) {
      for (const [ref, meta] of refs) {
        if (!sameMeta(current?.get(key), ref, meta)) {
          add(change.joins, key, meta);
        }
      }
    }
    if (next.size > 0) {
      this.channels.set(channel, next);
    } else {
      this.channels.delete(channel);
    }
    this.emit(channel, change);
  }
  /** @private */
  change(channel, joins, leaves) {
    if (this.stale.has(channel)) {
      this.replace(channel, {});
    }
    const change = { joins: {}, leaves: {} };
    const lists = this.channels.get(channel) ?? /* @__PURE__ */ new Map();
    for (const [key, ref, meta] of entries(joins)) {
      if (!lists.has(key)) {
        lists.set(key, /* @__PURE__ */ new Map());
      }
      if (!sameMeta(lists.get(key), ref, meta)) {
        lists.get(key).set(ref, meta);
        add(change.joins, key, meta);
      }
    }
    for (const [key, ref] of entries(leaves)) {
      const refs = lists.get(key);
      if (refs?.has(ref)) {
        add(change.leaves, key, refs.get(ref));
        refs.delete(ref);
        if (refs.size === 0) {
          lists.delete(key);
        }
      }
    }
    if (lists.size > 0) {
      this.channels.set(channel, lists);
    } else {
      this.channels.delete(channel);
    }
    this.emit(channel, change);
  }
  /** @private */
  emit(channel, change) {
    if (this.listeners.count(channel) > 0) {
      this.listeners.emit(channel, this.list(channel), change);
    }
  }
};
function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
function* entries(byKey) {
  if (!isObject(byKey)) {
    return;
  }
  for (const [key, list] of Object.entries(byKey)) {
    if (!Array.isArray(list)) {
      continue;
    }
    for (const entry of list) {
      if (isObject(entry) && typeof entry.ref === "string") {
        yield [key, entry.ref, entry.meta ?? null];
      }
    }
  }
}
function sameMeta(refs, ref, meta) {
  return refs !== void 0 && refs.has(ref) && JSON.stringify(refs.get(ref)) === JSON.stringify(meta);
}
function define(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}
function add(list, key, meta) {
  if (!Object.prototype.hasOwnProperty.call(list, key)) {
    define(list, key, []);
  }
  list[key].push(meta);
}

// js/src/push.js
var Push = class {
  /**
   * @param {number} id the request id, unique within a client
   * @param {string} text the encoded message
   * @param {function(Object): void} resolve
   * @param {function(Error): void} reject
   */
  constructor(id, text, resolve, reject) {
    this.id = id;
    this.text = text;
    this.settled = false;
    this.timer = null;
    this.resolveFn = resolve;
    this.rejectFn = reject;
  }
  /**
   * Reject with a "timeout" error unless settled within `ms`.
   *
   * @param {number} ms
   * @param {function(Push): void} onTimeout called first, to forget the push
   */
  startTimeout(ms, onTimeout) {
    this.timer = adapters_default.setTimeout(() => {
      this.timer = null;
      onTimeout(this);
      this.reject(new RealtimeError(
        RealtimeError.codes.TIMEOUT,
        `No reply within ${ms} ms.`
      ));
    }, ms);
  }
  /**
   * Settle with a reply: reject when it is an error reply, resolve otherwise.
   *
   * @param {Object} reply
   */
  receive(reply) {
    const error = reply.error;
    if (error !== void 0 && error !== null) {
      const code = typeof error.code === "string" ? error.code : "error";
      const message = typeof error.message === "string" ? error.message : code;
      this.reject(new RealtimeError(code, message, reply));
    } else {
      this.resolve(reply);
    }
  }
  /** @param {Object} value */
  resolve(value) {
    if (this.settle()) {
      this.resolveFn(value);
    }
  }
  /** @param {Error} error */
  reject(error) {
    if (this.settle()) {
      this.rejectFn(error);
    }
  }
  // Private
  settle() {
    if (this.settled) {
      return false;
    }
    this.settled = true;
    if (this.timer !== null) {
      adapters_default.clearTimeout(this.timer);
      this.timer = null;
    }
    return true;
  }
};

// js/src/send_buffer.js
var SendBuffer = class {
  /** @param {number} limit how many messages may wait */
  constructor(limit) {
    this.limit = limit;
    this.pushes = [];
  }
  /** How many messages wait. */
  get size() {
    return this.pushes.length;
  }
  /**
   * Queue a push, unless the buffer is full.
   *
   * @param {Push} push
   * @returns {boolean} whether it was queued
   */
  add(push) {
    if (this.pushes.length >= this.limit) {
      return false;
    }
    this.pushes.push(push);
    return true;
  }
  /**
   * Take a push out (it timed out, say).
   *
   * @param {Push} push
   * @returns {boolean} whether it was there
   */
  remove(push) {
    const index = this.pushes.indexOf(push);
    if (index === -1) {
      return false;
    }
    this.pushes.splice(index, 1);
    return true;
  }
  /**
   * Empty the buffer.
   *
   * @returns {Push[]} what it held, oldest first
   */
  drain() {
    const pushes = this.pushes;
    this.pushes = [];
    return pushes;
  }
};

// js/src/client.js
var { codes } = RealtimeError;
var TERMINAL_STATES = ["closed", "refused", "replaced", "ended"];
var Client = class _Client {
  /**
   * @param {string} url the socket's ws:// or wss:// URL, with the
   *   `socket_connection_id` query parameter
   * @param {ClientOptions} [options] see `Client.defaults`
   * @throws {TypeError} for an unknown option, or when there is no WebSocket
   *   implementation
   */
  constructor(url, options = {}) {
    for (const name of Object.keys(options)) {
      if (!Object.prototype.hasOwnProperty.call(_Client.defaults, name)) {
        throw new TypeError(`Unknown option "${name}" for FlaskRealtime.Client.`);
      }
    }
    this.url = url;
    this.options = { ..._Client.defaults, ...options };
    checkEnvironment(this.options);
    if (this.options.debug) {
      logger_default.enabled = true;
    }
    const parsed = new URL(url);
    this.connectionId = parsed.searchParams.get(constants_default.CONNECTION_ID_PARAM);
    this.httpOrigin = `${parsed.protocol === "wss:" ? "https:" : "http:"}//${parsed.host}`;
    this.channels = new Listeners();
    this.events = new Listeners();
    this.presences = new Presences();
    this.pending = /* @__PURE__ */ new Map();
    this.buffer = new SendBuffer(this.options.sendBufferSize);
    this.positions = /* @__PURE__ */ new Map();
    this.attachedBefore = false;
    this.nextId = 1;
    this.connection = new Connection(url, this, this.options);
  }
  /**
   * "idle", "connecting", "open", "reconnecting", "closed", "refused",
   * "replaced" or "ended".
   *
   * @returns {ClientState}
   */
  get state() {
    return this.connection.state;
  }
  /**
   * Open the socket. It reconnects by itself from then on, until `close()`.
   *
   * @returns {Client} this client
   */
  connect() {
    this.connection.open();
    return this;
  }
  /**
   * Close the socket and stop reconnecting. With code 1000 (the default) the
   * server forgets the page's id at once. Pending calls reject.
   *
   * @param {number} [code=1000]
   * @param {string} [reason=""]
   */
  close(code = constants_default.CLOSE_NORMAL, reason = "") {
    this.connection.close(code, reason);
  }
  /**
   * Listen to a channel.
   *
   * @template [T=unknown]
   * @param {string} channel
   * @param {(payload: T, frame: PushFrame<T>) => void} listener gets the
   *   payload and the whole frame (`{channel, payload, ...}`)
   * @returns {() => void} removes the listener
   * @example
   * const off = realtime.on("chat", (payload) => append(payload.text))
   */
  on(channel, listener) {
    return this.channels.add(channel, listener);
  }
  /**
   * Who is on a channel: each key the app tracked pages under (with
   * `g.socket.track()`) and the metas of its sockets, one per tab. Empty for
   * a channel this page is not subscribed to, or that has no members.
   *
   * @template [M=unknown]
   * @param {string} channel
   * @returns {PresenceList<M>} a new object, `{key: [meta, ...]}`
   * @example
   * const people = Object.keys(realtime.presence("room:1"))
   */
  presence(channel) {
    return (
      /** @type {PresenceList<M>} */
      this.presences.list(channel)
    );
  }
  /**
   * Listen to the presence of a channel: `listener(list, change)` gets the
   * channel's members, as `presence()` returns them, and what changed:
   * `{joins, leaves}`, by key. A socket tracked again with a new meta is in
   * `joins` again. Called for each change, and when the server sends the
   * whole list (the socket connected, reconnected or was subscribed to the
   * channel); not when the listener is added.
   *
   * @template [M=unknown]
   * @param {string} channel
   * @param {(list: PresenceList<M>, change: PresenceChange<M>) => void} listener
   * @returns {() => void} removes the listener
   * @example
   * realtime.onPresence("room:1", (list, { joins, leaves }) => {
   *   for (const key of Object.keys(leaves)) {
   *     if (!(key in list)) say(`${key} left`)  // their last tab closed
   *   }
   *   render(list)
   * })
   */
  onPresence(channel, listener) {
    return this.presences.on(channel, listener);
  }
  /**
   * Listen to one of the client's own events: see `Client.events`.
   *
   * @template {keyof ClientEvents} K
   * @param {K} name
   * @param {(detail: ClientEvents[K]) => void} listener
   * @returns {() => void} removes the listener
   * @example
   * realtime.onEvent("close", ({ code, state }) => console.log(code, state))
   */
  onEvent(name, listener) {
    if (!_Client.events.includes(name)) {
      throw new TypeError(`Unknown event "${name}"; the events are ${_Client.events.join(", ")}.`);
    }
    return this.events.add(name, listener);
  }
  /**
   * Call one of the app's routes over the socket (`call-route`).
   *
   * @template [T=unknown]
   * @param {string} uri a path on this site, with a query string if needed;
   *   a same-origin absolute URL (`form.action`) is accepted too
   * @param {CallOptions} [options] `method` ("GET"), `input`, `form`
   *   (false), `timeout`, `headers`
   * @returns {Promise<CallReply<T>>} the reply, `{id, status, headers,
   *   body}`; rejects with a `RealtimeError` on an error reply or a timeout,
   *   with a `TypeError` for a malformed `uri` or `headers`. A 4xx or 5xx
   *   status is a reply, not an error.
   * @example
   * const token = document.querySelector('meta[name="csrf-token"]').content
   * await realtime.call("/messages", {
   *   method: "POST", input: { text: "hi" }, headers: { "X-CSRFToken": token }
   * })
   */
  call(uri, { method = "GET", input, form = false, timeout, headers } = {}) {
    let path;
    try {
      path = routePath(uri, adapters_default.window?.location?.href ?? `${this.httpOrigin}/`);
      if (headers !== void 0) {
        headers = checkHeaders(headers);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const call = { uri: path, method: String(method).toUpperCase(), input, form, headers };
    const message = { action: "call-route", uri: call.uri, method: call.method };
    if (input !== void 0) {
      message.input = input;
    }
    if (form) {
      message.form = true;
    }
    if (headers !== void 0) {
      message.headers = headers;
    }
    return this.request(message, timeout, call);
  }
  /**
   * Send a message for an action of the app (or "ping").
   *
   * @param {string} action
   * @param {Record<string, unknown>} [data] more fields of the message
   * @param {{timeout?: number}} [options] `timeout`: ms;
   *   `Client.defaults.timeout`
   * @returns {Promise<Reply>} the reply; rejects with a `RealtimeError` on
   *   an error reply or a timeout
   * @example
   * const reply = await realtime.send("ping")   // {id: 1, body: "pong"}
   */
  send(action, data = {}, { timeout } = {}) {
    if (typeof action !== "string") {
      return Promise.reject(new TypeError("The action must be a string."));
    }
    return this.request({ ...data, action }, timeout, null);
  }
  // Private: the connection's delegate.
  /** @private */
  connectionUrl() {
    let url = this.url;
    if (this.options.socketKey !== null) {
      url += `&${constants_default.SOCKET_KEY_PARAM}=${encodeURIComponent(this.options.socketKey)}`;
    }
    if (!this.attachedBefore) {
      return url;
    }
    const positions = JSON.stringify(Object.fromEntries(this.positions));
    return `${url}&${constants_default.POSITIONS_PARAM}=${encodeURIComponent(positions)}`;
  }
  /** @private */
  connectionOpened({ reconnected, attempts }) {
    this.attachedBefore = true;
    if (reconnected) {
      this.presences.reconnected();
    }
    for (const push of this.buffer.drain()) {
      this.pending.set(push.id, push);
      this.connection.send(push.text);
    }
    this.events.emit("open", { reconnected });
    if (reconnected) {
      this.events.emit("reconnected", { attempts });
    }
  }
  /** @private */
  connectionReceived(frame) {
    if (Object.prototype.hasOwnProperty.call(frame, "id")) {
      this.presences.attached();
      const push = this.pending.get(frame.id);
      if (push !== void 0) {
        this.pending.delete(frame.id);
        push.receive(frame);
      } else if (frame.error) {
        const { code = "error", message = "Error reply." } = frame.error;
        this.events.emit("error", new RealtimeError(code, message, frame));
      }
    } else if (typeof frame.channel === "string") {
      if (typeof frame.position === "string") {
        this.positions.set(frame.channel, frame.position);
      }
      if (frame.gap === true) {
        this.events.emit("missed", { channel: frame.channel, position: frame.position });
      } else if (frame.payload !== void 0 || !this.presences.receive(frame)) {
        this.channels.emit(frame.channel, frame.payload, frame);
      }
    }
  }
  /** @private */
  connectionClosed(info) {
    const pending = Array.from(this.pending.values());
    this.pending.clear();
    for (const push of pending) {
      push.reject(disconnectedError(info.state));
    }
    if (info.state !== "reconnecting") {
      for (const push of this.buffer.drain()) {
        push.reject(closedError(info.state));
      }
    }
    this.events.emit("close", info);
    if (info.state === "refused") {
      const reload = this.options.reloadOnRefused && claimReload(this.options.reloadInterval);
      this.events.emit("refused", { ...info, reload });
      if (reload) {
        reloadPage();
      }
    } else if (info.state === "replaced") {
      this.events.emit("replaced", info);
    } else if (info.state === "ended") {
      this.sessionEnded(info);
    }
  }
  /** @private */
  connectionReconnecting(info) {
    this.events.emit("reconnecting", info);
  }
  /** @private */
  connectionError(error) {
    this.events.emit("error", error);
  }
  // Private
  // The server forgot the id (logout, or `realtime.disconnect()`), so only a
  // new page can go on. Reloading lets the server answer the logged-out page,
  // usually with a redirect to its login page. A page that listens to
  // "ended" has an answer of its own (`location.assign("/login")`), which a
  // reload would race with, so then the client leaves it to the page.
  /** @private */
  sessionEnded(info) {
    const handled = this.events.count("ended") > 0;
    this.events.emit("ended", info);
    if (!handled && this.options.reloadOnEnded && claimReload(this.options.reloadInterval)) {
      reloadPage();
    }
  }
  /** @private */
  request(message, timeout, call) {
    const ms = timeout ?? this.options.timeout;
    const id = this.nextId++;
    const state = this.connection.state;
    if (call !== null && this.options.httpFallback && state !== "open" && state !== "ended") {
      logger_default.log(`socket ${state}: calling ${call.method} ${call.uri} over HTTP`);
      return fetchRoute(call, {
        connectionId: this.connectionId,
        socketKey: this.options.socketKey,
        // A page's fetch resolves the path against the page; without a page
        // (Node), against the socket's own origin.
        origin: adapters_default.window ? "" : this.httpOrigin,
        timeout: ms,
        id
      });
    }
    let text;
    try {
      text = encodeMessage({ ...message, id }, this.options.maxMessageSize);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const push = new Push(id, text, resolve, reject);
      if (TERMINAL_STATES.includes(state)) {
        push.reject(closedError(state));
        return;
      }
      if (this.connection.send(text)) {
        this.pending.set(id, push);
      } else if (!this.buffer.add(push)) {
        push.reject(new RealtimeError(
          codes.BUFFER_FULL,
          `The client is disconnected and ${this.buffer.limit} messages already wait.`
        ));
        return;
      }
      push.startTimeout(ms, (expired) => {
        this.pending.delete(expired.id);
        this.buffer.remove(expired);
      });
    });
  }
};
Client.defaults = defaults;
Client.events = events;
function checkEnvironment({ WebSocket, socketKey }) {
  if (WebSocket !== null && typeof WebSocket !== "function") {
    throw new TypeError("The WebSocket option must be a WebSocket class, or null for the global one.");
  }
  if (WebSocket === null && typeof adapters_default.WebSocket !== "function") {
    throw new TypeError(
      'There is no global WebSocket (Node before 22 has none): pass an implementation, as in new Client(url, { WebSocket }) with `import WebSocket from "ws"`.'
    );
  }
  if (socketKey !== null && (typeof socketKey !== "string" || socketKey === "")) {
    throw new TypeError("The socketKey option must be a string, or null.");
  }
}

// js/src/index.js
var DEFAULT_PATH = "/_realtime";
function socketUrl(location, path, connectionId) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const absolutePath = path.startsWith("/") ? path : `/${path}`;
  const id = encodeURIComponent(connectionId);
  return `${scheme}//${location.host}${absolutePath}?${constants_default.CONNECTION_ID_PARAM}=${id}`;
}
function getConfig(script = null) {
  const body = adapters_default.document?.body;
  const attribute = (name) => body?.getAttribute(name) || null;
  const options = adapters_default.window?.realtimeOptions;
  return {
    connectionId: attribute(constants_default.BODY_CONNECTION_ID_ATTRIBUTE),
    path: attribute(constants_default.BODY_PATH_ATTRIBUTE) || DEFAULT_PATH,
    connect: script?.getAttribute("data-connect") !== "false",
    options: options !== null && typeof options === "object" ? { ...options } : {}
  };
}
function createClient(options = {}) {
  if (!adapters_default.document) {
    throw new Error(
      "createClient() reads the page's <body>, and there is no page here. Without one (in Node), use new Client(socketUrl(origin, path, connectionId), options)."
    );
  }
  const config = getConfig();
  if (config.connectionId === null) {
    throw new Error(
      `This page has no ${constants_default.BODY_CONNECTION_ID_ATTRIBUTE} attribute on its <body>. Is the Realtime extension registered on the app, with REALTIME_INJECT on?`
    );
  }
  const url = socketUrl(adapters_default.window.location, config.path, config.connectionId);
  return new Client(url, { ...config.options, ...options });
}
function start(script = null) {
  const win = adapters_default.window;
  const doc = adapters_default.document;
  if (!win || !doc) {
    return;
  }
  const { connect } = getConfig(script);
  const run = () => {
    if (win.realtime instanceof Client || getConfig().connectionId === null) {
      return;
    }
    const client = createClient();
    win.realtime = client;
    if (connect) {
      client.connect();
    }
  };
  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", run, { once: true });
  } else {
    run();
  }
}
export {
  Client,
  DEFAULT_PATH,
  RealtimeError,
  Timer,
  adapters_default as adapters,
  backoff,
  constants_default as constants,
  createClient,
  getConfig,
  logger_default as logger,
  socketUrl,
  start
};
