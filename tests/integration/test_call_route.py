"""call-route: the application's routes over the socket."""

from __future__ import annotations

import functools
import json

import pytest
from flask import abort
from flask import Blueprint
from flask import g
from flask import jsonify
from flask import redirect
from flask import request
from flask import Response
from flask import session

from ..conftest import create_app


@pytest.fixture
def app():
    app = create_app()
    api = Blueprint("api", __name__, url_prefix="/api")

    def login_required(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            if "user" not in session:
                return redirect("/login")
            return view(**kwargs)

        return wrapped

    @api.get("/items/<int:item_id>")
    def item(item_id):
        return {"id": item_id, "q": request.args.get("q"), "before": g.before}

    @api.post("/items")
    @login_required
    def create_item():
        return {"created": request.get_json(), "by": session["user"]}, 201

    app.register_blueprint(api)

    @app.before_request
    def before():
        g.before = True

    @app.after_request
    def after(response):
        response.headers["X-After"] = "yes"
        return response

    @app.errorhandler(418)
    def teapot(error):
        return {"error": "teapot"}, 418

    @app.get("/teapot")
    def make_tea():
        abort(418)

    @app.post("/login")
    def login():
        session["user"] = request.form["name"]
        return "", 204

    @app.post("/logout")
    def logout():
        # Not session.clear(): that also drops the socket key, which ends
        # the socket (4003); the session end tests cover that.
        session.pop("user", None)
        return "", 204

    @app.get("/whoami")
    def whoami():
        return {"user": session.get("user")}

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo():
        return {
            "method": request.method,
            "args": request.args.to_dict(flat=False),
            "form": request.form.to_dict(flat=False),
            "json": request.get_json(silent=True),
            "cookie_names": sorted(request.cookies),
            "authorization": request.headers.get("Authorization"),
            "x_custom": request.headers.get("X-Custom"),
            "connection_id_header": request.headers.get("X-Socket-Connection-Id"),
            "connection_id": g.socket.connection_id,
        }

    @app.get("/subscribe-me")
    def subscribe_me():
        g.socket.subscribe("via-call")
        return {"connection_id": g.socket.connection_id}

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret")

    @app.get("/go")
    def go():
        return redirect("/target")

    @app.get("/text")
    def text():
        return Response("plain ☃", mimetype="text/plain")

    @app.get("/stream")
    def stream():
        def forever():
            while True:
                yield "data: x\n\n" * 100

        return Response(forever(), mimetype="text/event-stream")

    @app.get("/control-bytes")
    def control_bytes():
        # Just under the backlog's 1 MiB, and six times that in JSON.
        return Response("\x01" * 1_000_000, mimetype="text/plain")

    @app.get("/page")
    def page():
        return "<body>hello</body>"

    @app.get("/bad-json")
    def bad_json():
        return Response("{not json", mimetype="application/json")

    @app.get("/jsonify-list")
    def jsonify_list():
        return jsonify([1, 2, 3])

    return app


@pytest.fixture
def socket(browser):
    page = browser.open("/")
    socket = page.connect()
    socket.page = page
    return socket


@pytest.fixture
def rt(realtime, app):
    """A connected socket of the test client: where the transport is not the
    point, no server is needed."""
    client = realtime.test_client(app)
    client.get("/")
    client.connect()
    return client


def call(socket, uri, **fields):
    return socket.request("call-route", uri=uri, **fields)


def test_get_with_query_string_through_a_blueprint(socket):
    reply = call(socket, "/api/items/5?q=hello")
    assert reply["status"] == 200
    assert reply["body"] == {"id": 5, "q": "hello", "before": True}
    assert reply["headers"]["Content-Type"] == "application/json"
    assert reply["headers"]["X-After"] == "yes"


def test_input_becomes_the_json_body_or_the_form_or_the_query(socket):
    body = call(socket, "/echo", method="post", input={"a": [1, {"b": None}]})["body"]
    assert body["method"] == "POST" and body["json"] == {"a": [1, {"b": None}]}
    body = call(socket, "/echo", method="PUT", input={"a": "1", "n": 2}, form=True)[
        "body"
    ]
    assert body["form"] == {"a": ["1"], "n": ["2"]} and body["json"] is None
    body = call(socket, "/echo?x=1", input={"y": ["2", "3"], "z": True})["body"]
    assert body["method"] == "GET"
    assert body["args"] == {"x": ["1"], "y": ["2", "3"], "z": ["true"]}


def test_the_route_sees_this_socket_and_the_handshake_cookies(socket):
    body = call(socket, "/echo")["body"]
    assert body["connection_id"] == socket.page.connection_id
    assert body["cookie_names"] == ["session"]
    # Through the environ, not a header the route could be fooled by.
    assert body["connection_id_header"] is None


def test_a_route_that_subscribes_does_so_at_once(socket, realtime):
    assert call(socket, "/subscribe-me")["body"]["connection_id"] == (
        socket.page.connection_id
    )
    realtime.push("now", "via-call")
    assert socket.receive() == {"channel": "via-call", "payload": "now"}


def test_login_required_redirects_then_a_session_change_carries_over(socket):
    reply = call(socket, "/api/items", method="POST", input={"name": "x"})
    assert reply["status"] == 302 and reply["headers"]["Location"] == "/login"
    login = call(socket, "/login", method="POST", input={"name": "ada"}, form=True)
    assert login["status"] == 204
    assert "Set-Cookie" not in login["headers"]  # never handed to page scripts
    reply = call(socket, "/api/items", method="POST", input={"name": "x"})
    assert reply["status"] == 201
    assert reply["body"] == {"created": {"name": "x"}, "by": "ada"}
    call(socket, "/logout", method="POST")
    assert call(socket, "/whoami")["body"] == {"user": None}


def test_errors_come_back_as_replies(socket):
    assert call(socket, "/nowhere")["status"] == 404
    assert call(socket, "/page", method="POST")["status"] == 405
    teapot = call(socket, "/teapot")
    assert teapot["status"] == 418 and teapot["body"] == {"error": "teapot"}
    reply = call(socket, "/boom")
    assert reply["status"] == 500 and "secret" not in json.dumps(reply)
    assert socket.request("ping")["body"] == "pong"


def test_redirects_are_not_followed(rt):
    reply = rt.call("/go")
    assert reply["status"] == 302
    assert reply["headers"]["Location"] == "/target"


def test_bodies_are_text_unless_json(rt):
    assert rt.call("/text")["body"] == "plain ☃"
    assert rt.call("/bad-json")["body"] == "{not json"
    assert rt.call("/jsonify-list")["body"] == [1, 2, 3]
    assert rt.call("/page")["body"].startswith("<body data-socket-connection-id")
    head = rt.call("/page", method="HEAD")
    assert head["status"] == 200 and head["body"] == ""


def test_an_endless_response_is_cut_off_with_an_error(socket):
    reply = call(socket, "/stream")
    assert reply["error"]["code"] == "reply_too_large"
    assert socket.request("ping")["body"] == "pong"


def test_a_reply_larger_than_the_backlog_once_encoded_is_an_error(socket):
    # Else a client that never reads held six times the backlog.
    reply = call(socket, "/control-bytes")
    assert reply["error"]["code"] == "reply_too_large"
    assert socket.request("ping")["body"] == "pong"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"uri": None},
        {"uri": 5},
        {"uri": ["/echo"]},
        {"uri": "echo"},
        {"uri": "http://evil.example/echo"},
        {"uri": "//evil.example/echo"},
        {"uri": "/%2F%2Fevil.example"},
        {"uri": "/\\evil.example"},
        {"uri": "/echo\r\nX-Injected: yes"},
        {"uri": "/echo%0d%0aX-Injected:%20yes"},
        {"uri": "/echo\x00"},
        {"uri": "/" + "a" * 5000},
        {"uri": "/_realtime"},
        {"uri": "/_realtime/?socket_connection_id=x"},
        {"uri": "/echo", "method": "TRACE"},
        {"uri": "/echo", "method": "GET\r\nX: y"},
        {"uri": "/echo", "method": 5},
        {"uri": "/echo", "input": [1, 2]},
        {"uri": "/echo", "input": {"a": {"nested": 1}}},
        {"uri": "/echo", "method": "POST", "form": True, "input": "text"},
    ],
)
def test_hostile_calls_get_a_clear_error(rt, fields):
    reply = rt.send("call-route", **fields)
    assert reply["error"]["code"] == "invalid_call", reply
    assert rt.send("ping")["body"] == "pong"


def test_a_client_cannot_supply_headers_or_cookies(socket):
    refused = call(
        socket,
        "/echo",
        headers={"Authorization": "Bearer stolen", "Cookie": "session=forged"},
    )
    assert refused["error"]["code"] == "invalid_call"
    body = call(socket, "/echo", cookies={"session": "forged"})["body"]
    assert body["authorization"] is None and body["x_custom"] is None
    assert body["cookie_names"] == ["session"]


def test_huge_input_is_refused_by_the_message_size_limit(socket):
    socket.send(
        json.dumps(
            {"action": "call-route", "id": 1, "uri": "/echo", "input": "x" * 70_000}
        )
    )
    assert socket.receive_close().code == 1009


def test_a_client_presented_key_carries_over_to_route_calls(server, realtime):
    from ..support import Browser

    key = "k" * 40
    connection_id = Browser(server.url).issue_with_key(key, "x")
    socket = Browser(server.url).connect(
        None,
        cookie="",
        origin=None,
        query=f"socket_connection_id={connection_id}&socket_key={key}",
    )
    try:
        assert call(socket, "/subscribe-me")["body"]["connection_id"] == connection_id
        realtime.push("yes", "via-call")
        assert socket.receive() == {"channel": "via-call", "payload": "yes"}
    finally:
        socket.close()


def test_the_connection_id_header_cannot_redirect_a_route_call(socket, browser):
    other = browser.open("/")
    refused = call(
        socket, "/echo", headers={"X-Socket-Connection-Id": other.connection_id}
    )
    assert refused["error"]["code"] == "invalid_call"
    body = call(socket, "/echo")["body"]
    assert body["connection_id"] == socket.page.connection_id
