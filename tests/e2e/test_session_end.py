"""Close code 4003 in a real browser: a socket whose session ended (logout,
``session.clear()``) or whose channel the app disconnected
(``realtime.disconnect()``) is not reconnected with its old id; the page
reloads once, unless it listens to the client's ``ended`` event.

The app is this module's own (it overrides the e2e ``app`` fixture): a page
subscribed to a channel, an app route that disconnects a channel, and a
login and logout kept in Flask's session. The ``pages`` fixture fails a test
on any script error or console error in the pages it opened; tabs opened
here report theirs to it too.
"""

from __future__ import annotations

import re
import typing as t
import urllib.request

import pytest
from flask import Flask
from flask import g
from flask import redirect
from flask import render_template_string
from flask import request
from flask import session
from flask import url_for

from flask_realtime import Realtime

from .conftest import connected
from .conftest import connection_id
from .conftest import expect
from .conftest import TIMEOUT

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

    from .conftest import LiveServer
    from .conftest import Pages

#: A page subscribed to ``channel``. ``?handle=1`` makes it listen to
#: ``ended``, which tells the client that the page handles the end itself.
#: Every close is kept in sessionStorage, so that it survives a reload.
CHANNEL_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ channel }}</title>
<link rel="icon" href="data:,"></head>
<body>
  <p id="status">not connected</p>
  {{ realtime_script() }}
  <script type="module">
    const status = document.getElementById("status")
    window.closes = JSON.parse(sessionStorage.getItem("closes") || "[]")
    realtime.onEvent("open", () => { status.textContent = "connected" })
    realtime.onEvent("close", ({ code, state }) => {
      window.closes.push({ code, state })
      sessionStorage.setItem("closes", JSON.stringify(window.closes))
    })
    if ({{ handle | tojson }}) {
      realtime.onEvent("ended", (info) => {
        window.ended = info
        status.textContent = "ended"
      })
    }
  </script>
</body></html>
"""

#: Pages that never use ``g.socket``: no connection id, so no client.
PLAIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="icon" href="data:,"></head>
<body>
  <h1>{{ title }}</h1>
  {% if session.user %}
    <form method="post" action="{{ url_for('logout') }}"><button>Log out</button></form>
  {% endif %}
</body></html>
"""


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="e2e session end")
    realtime = Realtime(app)

    @app.get("/channels/<channel>")
    def channel_page(channel: str) -> t.Any:
        if request.args.get("login") and "user" not in session:
            return redirect(url_for("signin"))
        g.socket.subscribe(channel)
        return render_template_string(
            CHANNEL_PAGE, channel=channel, handle=bool(request.args.get("handle"))
        )

    @app.post("/admin/disconnect/<channel>")
    def disconnect(channel: str) -> tuple[str, int]:
        realtime.disconnect(channel)
        return "", 204

    @app.get("/login")
    def login() -> t.Any:
        session["user"] = "ann"
        return redirect(url_for("account"))

    @app.get("/account")
    def account() -> str:
        return render_template_string(PLAIN_PAGE, title="account")

    @app.post("/logout")
    def logout() -> t.Any:
        session.clear()
        return redirect(url_for("signin"))

    @app.get("/signin")
    def signin() -> str:
        return render_template_string(PLAIN_PAGE, title="sign in")

    return app


@pytest.fixture
def app() -> Flask:
    return create_app()


def record_sockets(page: Page) -> list[str]:
    """The URL of every WebSocket the page opens from now on, reloads
    included."""
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    return urls


def opened_with(urls: list[str], id_: str) -> list[str]:
    return [url for url in urls if f"socket_connection_id={id_}" in url]


def open_tab(pages: Pages, context: BrowserContext, path: str) -> Page:
    """Another tab in ``context`` (so the same session), whose errors fail
    the test as those of ``pages.open()`` do."""
    tab = context.new_page()
    tab.on("pageerror", lambda error: pages.errors.append(f"pageerror: {error}"))
    tab.on(
        "console",
        lambda message: (
            pages.errors.append(f"console error: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    tab.goto(path)
    return tab


def disconnect_channel(server: LiveServer, channel: str) -> None:
    """Ask the app to disconnect a channel, as an admin's request would."""
    req = urllib.request.Request(
        f"{server.url}/admin/disconnect/{channel}", method="POST"
    )
    with urllib.request.urlopen(req, timeout=TIMEOUT / 1000) as response:
        assert response.status == 204


def test_disconnect_reloads_a_page_once_unless_it_listens_to_ended(
    pages: Pages, server: LiveServer
):
    plain = pages.open("/channels/news")
    handled = pages.open("/channels/news?handle=1")
    bystander = pages.open("/channels/sport")
    for page in (plain, handled, bystander):
        connected(page)
        page.evaluate("window.notReloaded = true")
    plain_id = connection_id(plain)
    handled_id = connection_id(handled)
    plain_sockets = record_sockets(plain)
    handled_sockets = record_sockets(handled)

    # The page without an ended listener: the client reloads it, and the
    # server renders it with a new id, which connects.
    with plain.expect_event("load", timeout=TIMEOUT):
        disconnect_channel(server, "news")
    connected(plain)
    assert plain.evaluate("window.notReloaded") is None
    assert plain.evaluate("window.closes") == [{"code": 4003, "state": "ended"}]
    new_id = connection_id(plain)
    assert new_id != plain_id
    # It never tried the old id again.
    assert opened_with(plain_sockets, plain_id) == []
    assert len(opened_with(plain_sockets, new_id)) == 1

    # The page that listens to ended got the close info and stays as it is:
    # no reload, no reconnect.
    expect(handled.locator("#status")).to_have_text("ended", timeout=TIMEOUT)
    ended = handled.evaluate("window.ended")
    assert (ended["code"], ended["state"]) == (4003, "ended")
    assert handled.evaluate("realtime.state") == "ended"
    # A call now rejects at once, without waiting for a socket.
    error = handled.evaluate(
        """() => realtime.send("ping", {}, { timeout: 60000 })
            .then(() => "resolved", (error) => error.code)"""
    )
    assert error == "closed"
    # Give a wrong reload or reconnect the time to show: the plain page did
    # both within this time above.
    handled.wait_for_timeout(1000)
    assert handled.evaluate("window.notReloaded") is True
    assert connection_id(handled) == handled_id
    assert handled_sockets == []

    # The page on another channel was not touched.
    assert bystander.evaluate("realtime.state") == "open"
    assert bystander.evaluate("window.closes") == []
    assert bystander.evaluate("window.notReloaded") is True


def test_logout_in_one_tab_ends_the_sockets_of_the_others(pages: Pages):
    account = pages.open("/login")
    assert account.url.endswith("/account")
    context = account.context
    # Two more tabs of the same browser, so of the same session: one listens
    # to ended, the other leaves it to the client.
    handled = open_tab(pages, context, "/channels/news?login=1&handle=1")
    plain = open_tab(pages, context, "/channels/news?login=1")
    for page in (handled, plain):
        connected(page)
    handled_sockets = record_sockets(handled)

    # The plain tab reloads, and the server answers the logged-out browser
    # with its redirect to the sign-in page.
    with plain.expect_event("load", timeout=TIMEOUT):
        account.click("text=Log out")
    expect(account).to_have_url(re.compile(r"/signin$"), timeout=TIMEOUT)
    expect(plain).to_have_url(re.compile(r"/signin$"), timeout=TIMEOUT)

    expect(handled.locator("#status")).to_have_text("ended", timeout=TIMEOUT)
    ended = handled.evaluate("window.ended")
    assert (ended["code"], ended["state"]) == (4003, "ended")
    assert handled.evaluate("realtime.state") == "ended"
    assert handled.url.endswith("/channels/news?login=1&handle=1")
    handled.wait_for_timeout(1000)
    assert handled_sockets == []
