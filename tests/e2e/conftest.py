"""End-to-end fixtures: the example app on a live server that can be stopped
and started again on the same port, and Debian's Chromium driven by
Playwright.

Playwright's own browser downloads (``playwright install``) cannot work on
these machines, so the browser is ``/usr/bin/chromium`` from Debian. A missing
browser or ``playwright`` package skips these tests, except in CI (the ``CI``
environment variable), where it fails them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from example_app import create_app
from example_app import realtime as example_realtime

from ..conftest import require

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import ConsoleMessage
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Milliseconds any single Playwright wait may take.
TIMEOUT = 10_000


def expect(target: t.Any) -> t.Any:
    from playwright.sync_api import expect

    return expect(target)


def connected(page: Page) -> None:
    """Wait until the page's client is attached to its subscriptions."""
    expect(page.locator("#status")).to_have_text("connected", timeout=TIMEOUT)
    assert page.evaluate("realtime.state") == "open"


def connection_id(page: Page) -> str:
    return t.cast(str, page.evaluate("document.body.dataset.socketConnectionId"))


_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


class LiveServer:
    """A threaded Werkzeug server for ``app`` on 127.0.0.1.

    Unlike ``tests.support.LiveServer``, :meth:`stop` also cuts the
    connections it accepted, WebSockets included, without a close frame: what
    a browser sees when the server process dies. :meth:`start` serves again
    on the same port, with the same app or another one.
    """

    def __init__(self, app: Flask) -> None:
        self.port = 0
        self._server: t.Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._accepted: list[socket.socket] = []
        self.start(app)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, app: Flask) -> None:
        assert not self.running
        server = make_server("127.0.0.1", self.port, app, threaded=True)
        accept = server.get_request

        def get_request() -> tuple[socket.socket, t.Any]:
            sock, address = accept()
            with self._lock:
                self._accepted = [s for s in self._accepted if s.fileno() != -1]
                self._accepted.append(sock)
            return sock, address

        server.get_request = get_request
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"e2e-server-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if not self.running:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            accepted, self._accepted = self._accepted, []
        for sock in accepted:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
        assert self._thread is not None
        self._thread.join(5)
        self._server = None


@pytest.fixture(scope="session")
def browser() -> t.Iterator[Browser]:
    """One Chromium for the session; each test makes its own contexts.

    Session-scoped so that Playwright's helper thread exists before the
    autouse ``no_leaked_threads`` fixture takes its first snapshot.
    """
    try:
        from playwright.sync_api import expect
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("the playwright Python package (pip install -e '.[e2e]')")
    expect.set_options(timeout=TIMEOUT)
    if not os.access(CHROMIUM, os.X_OK):
        require(f"{CHROMIUM} (Debian's chromium package: apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def app(request: pytest.FixtureRequest) -> t.Iterator[Flask]:
    """The example app; ``@pytest.mark.app_config(NAME=value)`` adds to its
    configuration.

    Shut down at the end, after the server: its room pages are tracked
    (presence), and the backend's thread that forgets pages that never
    connected, or dropped, would otherwise outlive the test.
    """
    marker = request.node.get_closest_marker("app_config")
    extra = marker.kwargs if marker else {}
    app = create_app({"TESTING": True, "SECRET_KEY": "e2e secret", **extra})
    yield app
    example_realtime.shutdown(app, timeout=1)


@pytest.fixture
def server(app: Flask) -> t.Iterator[LiveServer]:
    live = LiveServer(app)
    yield live
    live.stop()


# A failed WebSocket handshake is logged by Chromium as a console error, and
# no script can prevent it; tests that take the server or the network away
# expect these, and only these.
SOCKET_FAILURE = re.compile(
    r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/_realtime\?"
    r"socket_connection_id=[A-Za-z0-9_-]+(&positions=[^'\s]*)?' failed"
)


class Pages:
    """Opens pages, each in its own browser context (its own cookies, so its
    own session), and records every script error and console error."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []
        #: Whether Chromium's own "WebSocket connection ... failed" console
        #: errors are expected (server stopped, network offline).
        self.socket_failures_expected = False

    def open(
        self,
        path: str = "/rooms/lobby",
        *,
        options: dict[str, t.Any] | None = None,
        javascript: bool = True,
    ) -> Page:
        """A new page in a new context, showing ``path``; ``options`` become
        ``window.realtimeOptions`` before any of the page's scripts run."""
        context = self.browser.new_context(
            base_url=self.server.url, java_script_enabled=javascript
        )
        context.set_default_timeout(TIMEOUT)
        self.contexts.append(context)
        if options is not None:
            context.add_init_script(f"window.realtimeOptions = {json.dumps(options)}")
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)
        page.goto(path)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if self.socket_failures_expected and SOCKET_FAILURE.match(message.text):
            return
        self.errors.append(f"console error: {message.text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, server: LiveServer) -> t.Iterator[Pages]:
    opened = Pages(browser, server)
    yield opened
    opened.close()
    assert opened.errors == [], "errors in the pages:\n" + "\n".join(opened.errors)
