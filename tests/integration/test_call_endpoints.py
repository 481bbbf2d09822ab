"""Which routes the socket may call: REALTIME_CALL_ENDPOINTS and
@realtime.http_only. Calls over the socket pass no proxy rule, so a refused
call must not run anything of the route."""

from __future__ import annotations

import functools

import pytest
from flask import Blueprint
from flask import request
from flask.views import MethodView

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


def make_app(**config):
    app = create_app(**config)
    realtime = app.extensions["realtime"]
    app.config["RAN"] = ran = []

    @app.before_request
    def record():
        # A side effect of every request that reaches the app's pipeline.
        if request.path != "/" and request.endpoint != "realtime.socket":
            ran.append(request.path)

    def audited(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            return view(**kwargs)

        return wrapped

    @app.get("/public")
    def public():
        return {"ok": True}

    @app.post("/admin/delete-everything")
    def delete_everything():
        return {"deleted": True}

    @app.get("/marked-below")
    @realtime.http_only
    def marked_below():
        return {"ran": True}

    @realtime.http_only
    @app.get("/marked-above")
    def marked_above():
        return {"ran": True}

    @app.get("/marked-inside")
    @audited
    @realtime.http_only
    def marked_inside():
        return {"ran": True}

    @app.get("/slash/")
    def slash():
        return {"ok": True}

    api = Blueprint("api", __name__, url_prefix="/api")
    v2 = Blueprint("v2", __name__, url_prefix="/v2")

    @api.get("/items")
    def items():
        return {"items": []}

    @api.post("/secret")
    @realtime.http_only
    def api_secret():
        return {"ran": True}

    @v2.get("/items")
    def items_v2():
        return {"items": [], "v": 2}

    api.register_blueprint(v2)
    app.register_blueprint(api)
    apis = Blueprint("apis", __name__, url_prefix="/apis")

    @apis.get("/x")
    def x():
        return {"x": True}

    app.register_blueprint(apis)

    class Report(MethodView):
        def get(self):
            return {"report": True}

        @realtime.http_only
        def post(self):
            return {"ran": True}

    @realtime.http_only
    class Secret(MethodView):
        def get(self):
            return {"secret": True}

    app.add_url_rule("/report", view_func=Report.as_view("report"))
    app.add_url_rule("/secret", view_func=Secret.as_view("secret"))
    return app


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def connect():
    """Serves an app with the given config; returns a connected socket."""
    servers, browsers = [], []

    def make(**config):
        app = make_app(**config)
        servers.append(LiveServer(app))
        browsers.append(Browser(servers[-1].url))
        socket = browsers[-1].open("/").connect()
        socket.app = app
        socket.browser = browsers[-1]
        return socket

    yield make
    for browser in browsers:
        browser.close_all()
    for server in servers:
        server.stop()


def call(socket, uri, **fields):
    return socket.request("call-route", uri=uri, **fields)


def assert_refused(socket, uri, **fields):
    ran = list(socket.app.config["RAN"])
    reply = call(socket, uri, **fields)
    assert reply["error"]["code"] == "route_not_callable", reply
    assert "status" not in reply and "body" not in reply
    assert socket.app.config["RAN"] == ran  # not even before_request ran


def test_by_default_every_route_can_be_called(connect):
    socket = connect()
    assert call(socket, "/public")["body"] == {"ok": True}
    assert call(socket, "/admin/delete-everything", method="POST")["status"] == 200
    assert call(socket, "/api/v2/items")["status"] == 200
    # URLs no rule matches get the app's answer, as over HTTP.
    assert call(socket, "/nowhere")["status"] == 404
    assert call(socket, "/public", method="POST")["status"] == 405
    assert call(socket, "/slash")["status"] == 308


def test_http_only_views_are_refused_and_do_not_run(connect):
    socket = connect()
    for uri in ("/marked-below", "/marked-above", "/marked-inside"):
        assert_refused(socket, uri)
    assert_refused(socket, "/api/secret", method="POST")
    assert_refused(socket, "/marked-below", method="HEAD")
    assert_refused(socket, "/marked-below?x=1", input={"y": "2"})
    # Over HTTP they run as before, and the socket goes on.
    assert socket.browser.request("/marked-below") == (200, '{"ran":true}\n')
    assert socket.request("ping")["body"] == "pong"


def test_the_allow_list_names_endpoints_and_blueprints(connect):
    socket = connect(REALTIME_CALL_ENDPOINTS=["public", "api.*", "marked_below"])
    assert call(socket, "/public")["body"] == {"ok": True}
    assert call(socket, "/api/items")["status"] == 200
    assert call(socket, "/api/v2/items")["body"]["v"] == 2  # nested in api
    assert_refused(socket, "/admin/delete-everything", method="POST")
    assert_refused(socket, "/apis/x")  # "api.*" is not a prefix of "apis"
    assert_refused(socket, "/static/x.js")
    # http_only wins over the list, whether it names the view or its blueprint.
    assert_refused(socket, "/marked-below")
    assert_refused(socket, "/api/secret", method="POST")
    assert socket.browser.request("/admin/delete-everything", method="POST")[0] == 200


def test_with_an_allow_list_urls_no_rule_matches_are_refused(connect):
    socket = connect(REALTIME_CALL_ENDPOINTS=["public", "slash"])
    assert_refused(socket, "/nowhere")  # 404
    assert_refused(socket, "/public", method="POST")  # 405
    assert_refused(socket, "/slash")  # a redirect to /slash/
    assert call(socket, "/slash/")["status"] == 200
    assert socket.request("ping")["body"] == "pong"


def test_an_empty_allow_list_refuses_every_call(connect):
    socket = connect(REALTIME_CALL_ENDPOINTS=[])
    assert_refused(socket, "/public")
    assert_refused(socket, "/api/items")
    assert socket.request("ping")["body"] == "pong"


def test_middleware_that_changes_the_method_cannot_reach_a_refused_view():
    # Flask's docs' method-override middleware, and an attacker who sends the
    # header on their own socket's handshake: the call passes the first check
    # as a POST, and Flask would dispatch a DELETE to an http_only view.
    app = make_app(REALTIME_CALL_ENDPOINTS=["update"])
    realtime = app.extensions["realtime"]
    deleted = []

    @app.post("/account")
    def update():
        return {"updated": True}

    @app.delete("/account")
    @realtime.http_only
    def delete():
        deleted.append(True)
        return {"deleted": True}

    inner = app.wsgi_app

    def method_override(environ, start_response):
        override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").upper()
        if environ["REQUEST_METHOD"] == "POST" and override in ("PUT", "DELETE"):
            environ["REQUEST_METHOD"] = override
        return inner(environ, start_response)

    app.wsgi_app = method_override
    server = LiveServer(app)
    browser = Browser(server.url)
    try:
        page = browser.open("/")
        socket = browser.connect(
            page.connection_id, header=["X-HTTP-Method-Override: DELETE"]
        )
        reply = call(socket, "/account", method="POST")
        assert reply["error"]["code"] == "route_not_callable", reply
        assert deleted == []
        assert socket.request("ping")["body"] == "pong"
    finally:
        browser.close_all()
        server.stop()


def test_http_only_on_a_class_based_view_or_its_method(connect):
    socket = connect()
    assert call(socket, "/report")["body"] == {"report": True}
    assert_refused(socket, "/report", method="POST")
    assert_refused(socket, "/secret")
