// The wire protocol's names and numbers, mirrored from
// flask_realtime/protocol.py, the source of truth. Keep this file a single
// `export default` of a JSON object: tests/unit/test_js_bundle.py reads it as
// JSON and fails when it differs from protocol.py.
//
//   import constants from "./constants.js"
//   if (event.code === constants.CLOSE_ID_REFUSED) location.reload()
export default {
  "PROTOCOL_VERSION": 1,
  "CONNECTION_ID_PARAM": "socket_connection_id",
  "POSITIONS_PARAM": "positions",
  "SOCKET_KEY_PARAM": "socket_key",
  "SOCKET_KEY_HEADER": "X-Realtime-Socket-Key",
  "CONNECTION_ID_HEADER": "X-Socket-Connection-Id",
  "BODY_CONNECTION_ID_ATTRIBUTE": "data-socket-connection-id",
  "BODY_PATH_ATTRIBUTE": "data-socket-path",
  "CLOSE_NORMAL": 1000,
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
  "CLEAN_CLOSE_CODES": [1000, 1001, 1005],
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
}
