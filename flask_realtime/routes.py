"""The built-in ``call-route`` action: the app's routes over the socket."""

from __future__ import annotations

import json
import logging
import typing as t
from urllib.parse import unquote
from urllib.parse import urlencode

from flask import abort
from flask import request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder
from werkzeug.test import run_wsgi_app

from .cookie_jar import request_path
from .live_socket import LIVE_SOCKET_ENVIRON_KEY
from .messages import MessageError
from .protocol import ERROR_INVALID_CALL
from .protocol import ERROR_REPLY_TOO_LARGE
from .protocol import ERROR_ROUTE_NOT_CALLABLE

if t.TYPE_CHECKING:
    from flask import Flask

    from .live_socket import LiveSocket
    from .settings import Settings

logger = logging.getLogger("flask_realtime")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_URI_LENGTH = 2048
#: Longest value of a header a call sets (a CSRF token is under 100).
MAX_HEADER_LENGTH = 4096
_SCALARS = (str, int, float, bool)

#: Attribute that marks a view function as not callable over the socket, as
#: Flask marks views with ``required_methods`` and ``provide_automatic_options``.
HTTP_ONLY_ATTRIBUTE = "realtime_http_only"

ViewT = t.TypeVar("ViewT", bound=t.Callable[..., t.Any])


def http_only(view: ViewT) -> ViewT:
    """Mark a view as not callable over the socket; see
    :meth:`Realtime.http_only <flask_realtime.Realtime.http_only>`."""
    # The function itself is marked, not its endpoint, so the decorator works
    # above or below @app.route (which registers and returns the same
    # function), and functools.wraps carries the mark to outer decorators.
    setattr(view, HTTP_ONLY_ATTRIBUTE, True)
    return view


def endpoint_allowed(endpoint: str, allowed: t.AbstractSet[str]) -> bool:
    """Whether ``REALTIME_CALL_ENDPOINTS`` lets ``endpoint`` be called:
    named exactly, or in a blueprint named by ``"bp.*"`` (nested blueprints
    included: ``"bp.*"`` covers ``"bp.child.view"``)."""
    if endpoint in allowed:
        return True
    return any(
        entry.endswith(".*") and endpoint.startswith(entry[:-1]) for entry in allowed
    )


#: WSGI environ key of a list that the app, dispatching a call, appends to
#: when it finds the view not callable after all (middleware changed the
#: method or the path). A list, since run_wsgi_app copies the environ.
REFUSED_ENVIRON_KEY = "flask_realtime.call_refused"


def is_callable(
    app: Flask, allowed: t.AbstractSet[str] | None, endpoint: str | None, method: str
) -> bool:
    """Whether a call over the socket may run ``endpoint``'s view.

    No endpoint (no rule matches: 404, 405, a redirect to add a slash):
    without a list, the app answers as it would over HTTP. With one, refuse:
    nothing shows the URL is allowed, and middleware around wsgi_app
    (another app mounted there, say) could serve it past the URL map.
    """
    if endpoint is None:
        return allowed is None
    if _marked_http_only(app.view_functions.get(endpoint), method):
        return False
    return allowed is None or endpoint_allowed(endpoint, allowed)


def _marked_http_only(view: t.Any, method: str) -> bool:
    if getattr(view, HTTP_ONLY_ATTRIBUTE, False):
        return True
    # A class-based view: the class, or the method that handles this request.
    view_class = getattr(view, "view_class", None)
    return view_class is not None and (
        getattr(view_class, HTTP_ONLY_ATTRIBUTE, False)
        or getattr(
            getattr(view_class, method.lower(), None), HTTP_ONLY_ATTRIBUTE, False
        )
    )


def refuse_if_not_callable(app: Flask, allowed: t.AbstractSet[str] | None) -> None:
    """Check again, in the request a call became, the view Flask is about to
    run: middleware around ``wsgi_app`` may have changed the method (method
    override) or the path after :func:`call_route` checked them."""
    if not is_callable(app, allowed, request.endpoint, request.method):
        request.environ.setdefault(REFUSED_ENVIRON_KEY, []).append(request.endpoint)
        abort(403)


def call_route(live: LiveSocket, message: dict[str, t.Any]) -> t.Mapping[str, t.Any]:
    """Run a route through the whole application, as an HTTP request would.

    The request carries the handshake's headers and cookies (never any the
    client names in the message), and ``g.socket`` in the route is this live
    socket. The reply has ``status``, ``headers`` and ``body``: the
    body parsed when the response is JSON, text otherwise.
    """
    request_id = message.get("id")
    environ = _build_environ(live, message, request_id)
    _check_callable(live, environ, request_id)
    # Before the app runs: middleware may change the environ's paths.
    path = request_path(environ)
    environ["HTTP_COOKIE"] = live.cookies.header(path)
    refused: list[str | None] = []
    environ[REFUSED_ENVIRON_KEY] = refused
    try:
        app_iter, status, headers = run_wsgi_app(live.app.wsgi_app, environ)
        body = _read_limited(app_iter, live.state.settings.max_backlog, request_id)
        if refused:
            raise _not_callable(request_id)
    except MessageError:
        raise
    except Exception:
        # With PROPAGATE_EXCEPTIONS (testing, debug) Flask re-raises; the
        # client still gets the 500 an HTTP client would.
        logger.exception(
            "The route %s %s failed", environ["REQUEST_METHOD"], message["uri"]
        )
        return {"status": 500, "headers": {}, "body": "Internal Server Error"}
    live.cookies.update(path, headers.getlist("Set-Cookie"))
    return {
        "status": int(status.split(" ", 1)[0]),
        "headers": _reply_headers(headers),
        "body": _decode_body(body, headers, environ["REQUEST_METHOD"]),
    }


def _build_environ(
    live: LiveSocket, message: dict[str, t.Any], request_id: t.Any
) -> dict[str, t.Any]:
    def invalid(reason: str) -> MessageError:
        return MessageError(ERROR_INVALID_CALL, reason, request_id)

    uri = _check_uri(message.get("uri"), live.state.settings.path, invalid)
    method = message.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise invalid(f"'method' must be one of {', '.join(sorted(METHODS))}.")
    method = method.upper()

    base = live.environ
    headers = Headers()
    for key, value in base.items():
        if key.startswith("HTTP_"):
            headers.add(key[5:].replace("_", "-").title(), value)
    origin = base.get("HTTP_ORIGIN")
    if origin and origin != "null" and "HTTP_REFERER" not in base:
        # Browsers send no Referer with a WebSocket handshake, and CSRF
        # checks of HTTPS requests (Flask-WTF's) want one. The page's
        # Origin, checked before the handshake, is where the call comes from.
        headers.set("Referer", origin.rstrip("/") + "/")
    for name, value in _call_headers(message, live.state.settings, invalid).items():
        headers.set(name, value)
    body: dict[str, t.Any] = {}
    payload = message.get("input")
    if method in ("GET", "HEAD"):
        if payload is not None:
            uri += ("&" if "?" in uri else "?") + _form_encode(payload, invalid)
    elif message.get("form"):
        body["data"] = _form_encode(payload or {}, invalid)
        body["content_type"] = "application/x-www-form-urlencoded"
    elif payload is not None:
        body["data"] = json.dumps(payload)
        body["content_type"] = "application/json"
    scheme = base.get("wsgi.url_scheme", "http")
    host = base.get("HTTP_HOST") or base.get("SERVER_NAME", "localhost")
    builder = EnvironBuilder(
        path=uri,
        method=method,
        headers=headers,
        base_url=f"{scheme}://{host}{base.get('SCRIPT_NAME', '')}",
        environ_overrides={
            **{key: base[key] for key in ("REMOTE_ADDR", "REMOTE_PORT") if key in base},
            LIVE_SOCKET_ENVIRON_KEY: live,
        },
        **body,
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _check_callable(
    live: LiveSocket, environ: dict[str, t.Any], request_id: t.Any
) -> None:
    """Refuse, before anything of the app runs, a call to a view marked
    ``http_only`` or left out of ``REALTIME_CALL_ENDPOINTS``.

    Calls go straight to the app, past the proxy's rules for the route's
    path; this is the app's own say in which routes the socket reaches.
    """
    endpoint = _endpoint(live.app, environ)
    method = environ["REQUEST_METHOD"]
    if not is_callable(live.app, live.state.settings.call_endpoints, endpoint, method):
        raise _not_callable(request_id)


def _not_callable(request_id: t.Any) -> MessageError:
    return MessageError(
        ERROR_ROUTE_NOT_CALLABLE,
        "This URL cannot be called over the socket; make an HTTP request.",
        request_id,
    )


def _endpoint(app: Flask, environ: dict[str, t.Any]) -> str | None:
    """The endpoint Flask would dispatch the request to, or None."""
    try:
        # As Flask matches requests: SERVER_NAME, TRUSTED_HOSTS, subdomains.
        adapter = app.create_url_adapter(app.request_class(environ))
        if adapter is None:
            return None
        endpoint, _ = adapter.match()
    except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect, ...
        return None
    return str(endpoint)


def _check_uri(
    uri: t.Any, socket_path: str, invalid: t.Callable[[str], MessageError]
) -> str:
    if not isinstance(uri, str) or not uri.startswith("/") or len(uri) > MAX_URI_LENGTH:
        raise invalid(
            "'uri' must be a path starting with '/', of at most"
            f" {MAX_URI_LENGTH} characters."
        )
    path = unquote(uri.partition("?")[0])
    # Scheme-relative and backslash paths name other hosts in browsers;
    # control characters could end up in headers such as Location.
    if path.startswith("//") or "\\" in path or not uri.isprintable():
        raise invalid("'uri' must be a path on this application.")
    if not path.isprintable():
        raise invalid("'uri' must not contain control characters.")
    if path.rstrip("/") == socket_path.rstrip("/"):
        raise invalid("'uri' cannot name the socket endpoint itself.")
    return uri


def _call_headers(
    message: dict[str, t.Any],
    settings: Settings,
    invalid: t.Callable[[str], MessageError],
) -> dict[str, str]:
    """The headers the message sets, each one REALTIME_CALL_HEADERS allows
    (a CSRF token, say), replacing the handshake's."""
    given = message.get("headers")
    if given is None:
        return {}
    allowed = settings.call_headers
    names = ", ".join(allowed.values()) or "none"
    if not isinstance(given, dict):
        raise invalid("'headers' must be an object of header names and values.")
    headers: dict[str, str] = {}
    for name, value in given.items():
        allowed_name = allowed.get(name.lower())
        if allowed_name is None:
            raise invalid(
                f"'headers' may set only the headers REALTIME_CALL_HEADERS"
                f" allows ({names}), not {name!r:.70}."
            )
        if (
            not isinstance(value, str)
            or len(value) > MAX_HEADER_LENGTH
            or not value.isprintable()
            or not value.isascii()
        ):
            raise invalid(
                f"The header {allowed_name!r} must be printable ASCII text of at"
                f" most {MAX_HEADER_LENGTH} characters."
            )
        headers[allowed_name] = value
    return headers


def _form_encode(payload: t.Any, invalid: t.Callable[[str], MessageError]) -> str:
    if not isinstance(payload, dict):
        raise invalid("'input' must be an object for a GET, HEAD or form call.")
    pairs: list[tuple[str, str]] = []
    for name, value in payload.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, _SCALARS):
                raise invalid(f"'input' field {name!r:.40} must hold text or numbers.")
            pairs.append(
                (name, str(item).lower() if isinstance(item, bool) else str(item))
            )
    return urlencode(pairs)


def _read_limited(app_iter: t.Iterable[bytes], limit: int, request_id: t.Any) -> bytes:
    # A route may stream without end (server-sent events, say); read no more
    # than the socket's backlog could hold.
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in app_iter:
            size += len(chunk)
            if size > limit:
                raise MessageError(
                    ERROR_REPLY_TOO_LARGE,
                    f"The route's response is larger than {limit} bytes.",
                    request_id,
                )
            chunks.append(chunk)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return b"".join(chunks)


def _reply_headers(headers: Headers) -> dict[str, str]:
    # Set-Cookie stays on the server: it would hand HttpOnly cookies, the
    # session among them, to the page's scripts.
    reply: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() == "set-cookie":
            continue
        reply[name] = f"{reply[name]}, {value}" if name in reply else value
    return reply


def _decode_body(body: bytes, headers: Headers, method: str) -> t.Any:
    if method == "HEAD":
        return ""
    content_type = headers.get("Content-Type", "")
    mimetype = content_type.split(";", 1)[0].strip().lower()
    charset = "utf-8"
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            # NaN and Infinity are not JSON, and the reply could not carry
            # them; nesting too deep could not be encoded again either.
            return json.loads(text, parse_constant=_not_json)
        except (ValueError, RecursionError):
            pass
    return text


def _not_json(constant: str) -> t.NoReturn:
    raise ValueError(f"{constant} is not JSON")
