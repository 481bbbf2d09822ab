"""A graceful server restart in a real browser: realtime.js on a page served
by one gunicorn process, pushes streaming through another on the same Redis,
and the first restarted as in a deploy (SIGTERM, then a new process on the
same port).

The stopping process closes the page's socket with 1012 after what it had
queued; the client reconnects within ``restartWindow`` with its id and
positions, and the new process replays what it missed from Redis. The page
ends up with every push, in order, once each.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t

import pytest

from ..servers.test_gunicorn import Gunicorn
from ..support import Browser as HttpClient
from .conftest import connected
from .conftest import connection_id
from .conftest import SOCKET_FAILURE
from .conftest import TIMEOUT

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import ConsoleMessage
    from playwright.sync_api import Page

pytestmark = [pytest.mark.servers, pytest.mark.redis]

#: The most pushes the stream sends; it is stopped well before, once the
#: page has received more after its reconnect. Within the history kept in
#: Redis, so that a replay never falls short of it.
PUSHES = 4000
#: A short restart window, and retries at least every second while the new
#: process starts (the defaults: 5 s, and backoff up to 30 s).
OPTIONS = {"restartWindow": 1000, "reconnectMax": 1000}


def wait_for(page: Page, expression: str, arg: t.Any = None) -> None:
    """Wait until ``expression`` (a function of ``arg``) holds in the page.
    On a timeout, return: the assertions after it say what went wrong."""
    from playwright.sync_api import TimeoutError

    try:
        page.wait_for_function(expression, arg=arg, timeout=TIMEOUT)
    except TimeoutError:
        pass


def received(page: Page) -> list[int]:
    return [int(payload["text"]) for payload in page.evaluate("window.received")]


def differences(got: list[int], sent: list[int]) -> str:
    """What is wrong with ``got``, in a few lines rather than two long
    lists."""
    missing = sorted(set(sent) - set(got))
    duplicated = sorted({n for n in got if got.count(n) > 1})
    unexpected = sorted(set(got) - set(sent))
    disorder = next((i for i in range(1, len(got)) if got[i] <= got[i - 1]), None)
    return (
        f"sent {len(sent)}, received {len(got)}; "
        f"missing {missing[:20]}{'...' if len(missing) > 20 else ''} "
        f"({len(missing)}); duplicated {duplicated[:20]} ({len(duplicated)}); "
        f"never sent {unexpected[:20]}; first out of order at index {disorder}"
        + (f": {got[max(0, disorder - 3) : disorder + 3]}" if disorder else "")
    )


def stop_all(servers: list[Gunicorn | None]) -> list[str]:
    """Stop every server still running, killing one that does not stop;
    return what they logged."""
    logs = []
    for server in servers:
        if server is None or server.process.poll() is not None:
            continue
        try:
            logs.append(server.stop())
        except Exception:
            server.kill()
            raise
    return logs


@pytest.mark.parametrize("worker", ["gthread", "gevent"])
def test_a_graceful_restart_loses_nothing_in_the_browser(
    browser: Browser, redis_server: t.Any, worker: str
):
    env = {
        "TEST_REALTIME_BACKEND": redis_server.url,
        # Pings far apart, as in tests/servers: the page answers them, but
        # they are not what this test is about.
        "TEST_REALTIME_PING_INTERVAL": "20",
        "TEST_REALTIME_HISTORY_SIZE": "5000",
    }
    errors: list[str] = []
    sent: list[int] = []
    failures: list[str] = []
    stop = threading.Event()
    logs: list[str] = []
    a: Gunicorn | None = None
    b: Gunicorn | None = None
    streamer: threading.Thread | None = None
    context = None

    def console(message: ConsoleMessage) -> None:
        # A reconnect attempt while the new process is not listening yet
        # fails, and Chromium logs that; nothing else may be logged.
        if message.type == "error" and not SOCKET_FAILURE.match(message.text):
            errors.append(f"console error: {message.text}")

    try:
        a = Gunicorn(worker, env)
        b = Gunicorn("gthread", env)
        pusher = HttpClient(b.url)

        def stream() -> None:
            for n in range(PUSHES):
                if stop.is_set():
                    return
                try:
                    status, body = pusher.request(
                        "/push", method="POST", data={"text": str(n), "channel": "chat"}
                    )
                except Exception as e:  # a timeout: pushed or not, unknown
                    failures.append(f"push {n}: {e!r}")
                    return
                if status != 204:
                    failures.append(f"push {n}: {status} {body[:200]}")
                    return
                sent.append(n)
                time.sleep(0.002)  # a stream, not a flood

        streamer = threading.Thread(target=stream, name="e2e-restart-pushes")

        context = browser.new_context(base_url=a.url)
        context.set_default_timeout(TIMEOUT)
        context.add_init_script(f"window.realtimeOptions = {json.dumps(OPTIONS)}")
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
        page.on("console", console)
        page.goto("/live")
        connected(page)
        page.evaluate("window.notReloaded = true")
        first_id = connection_id(page)

        streamer.start()
        wait_for(page, "() => window.received.length >= 20")
        assert len(received(page)) >= 20, "no pushes reach the page before the restart"

        # The deploy: a.restart(), keeping the old process's log.
        logs.append(a.stop())
        a = Gunicorn(a.worker, a.env, a.port)

        wait_for(page, "() => window.closes.length > 0")
        closes = page.evaluate("window.closes")
        assert closes[:1] == [1012], f"the page's closes: {closes}"
        wait_for(page, "() => window.reconnects > 0 && realtime.state === 'open'")
        assert page.evaluate("window.reconnects") > 0, (
            f"no reconnect; state {page.evaluate('realtime.state')}, "
            f"closes {page.evaluate('window.closes')}"
        )
        # What it missed, and more after it, while the stream goes on.
        wanted = min(len(sent) + 50, PUSHES)
        wait_for(page, "(n) => window.received.length >= n", wanted)
        stop.set()
        streamer.join(30)
        assert not streamer.is_alive(), "the pushes did not stop"
        assert failures == []
        wait_for(page, "(n) => window.received.length >= n", len(sent))

        got = received(page)
        assert got == sent, differences(got, sent)
        assert len(got) >= wanted, "the stream ended before the page caught up"
        # The same page and id throughout: no refusal, no reload, and
        # nothing the server could not replay.
        assert page.evaluate("window.notReloaded") is True
        assert connection_id(page) == first_id
        assert page.evaluate("window.missed") == []
        assert page.evaluate("realtime.state") == "open"
        assert errors == [], "errors in the page:\n" + "\n".join(errors)
    finally:
        stop.set()
        if streamer is not None and streamer.is_alive():
            streamer.join(30)
        if context is not None:
            context.close()
        logs += stop_all([a, b])
    for log in logs:
        assert "Traceback" not in log, log
