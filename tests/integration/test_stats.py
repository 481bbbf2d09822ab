"""realtime.stats(), the log lines of refusals and closes, and
``flask realtime status``."""

from __future__ import annotations

import json
import logging

import pytest
import websocket

from flask_realtime.identity import digest
from flask_realtime.identity import SESSION_KEY_FIELD

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for

KEY = "k" * 40  # a socket key presented by a client without cookies


@pytest.fixture
def logs(caplog):
    """The records of the "flask_realtime" logger, from INFO up."""
    caplog.set_level(logging.INFO, logger="flask_realtime")
    return lambda: [r for r in caplog.records if r.name == "flask_realtime"]


def refused_upgrade(browser, connection_id=None, **kwargs):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        browser.connect(connection_id, **kwargs)
    return info.value.status_code


def other_session(new_browser):
    """A browser with a session of its own (and so a socket key)."""
    other = new_browser()
    other.open("/")
    return other


def session_key(app, browser):
    cookie = next(c.value for c in browser.cookies if c.name == "session")
    return app.session_interface.get_signing_serializer(app).loads(cookie)[
        SESSION_KEY_FIELD
    ]


def test_an_idle_process_reports_zeros_as_json(realtime):
    stats = realtime.stats()
    assert json.loads(json.dumps(stats)) == stats
    assert stats == {
        "backend": "memory",
        "sockets_open": 0,
        "ids_pending": 0,
        "ids_in_grace": 0,
        "channels": 0,
        "backlog_bytes": 0,
        "pushes": 0,
        "frames_delivered": 0,
        "closes": {},
        "client_closes": {},
        "refusals": {},
        "listener": None,
    }


def test_sockets_ids_channels_pushes_and_frames(browser, realtime):
    browser.open("/?channel=a")  # never connects
    first = browser.open("/?channel=a&channel=b").connect()
    second = browser.open("/?channel=a").connect()
    dropped_page = browser.open("/?channel=c")
    dropped = dropped_page.connect()
    for s in (first, second, dropped):
        s.request("ping")
    dropped.drop()
    wait_for(lambda: realtime.stats()["sockets_open"] == 2)
    realtime.push("one", "a", "b")
    realtime.push("two", "nobody")
    assert first.receive()["payload"] == "one"
    assert first.receive()["payload"] == "one"
    assert second.receive()["payload"] == "one"
    stats = realtime.stats()
    assert stats["ids_pending"] == 1
    assert stats["ids_in_grace"] == 1
    assert stats["channels"] == 2  # a and b; c's socket dropped
    assert stats["pushes"] == 3  # one push to a and b, one to nobody
    assert stats["frames_delivered"] == 3
    assert stats["backlog_bytes"] == 0  # the clients read everything
    # A reconnect gets what it missed: replayed frames count too.
    realtime.push("missed", "c")
    again = dropped_page.reconnect(dropped)
    assert again.receive()["payload"] == "missed"
    stats = realtime.stats()
    assert stats["frames_delivered"] == 4
    assert stats["ids_in_grace"] == 0


def test_refusals_are_counted_and_logged_at_info(app, browser, new_browser, logs):
    realtime = app.extensions["realtime"]
    page = browser.open("/")
    assert (
        refused_upgrade(browser, page.connection_id, origin="http://evil.test") == 403
    )
    assert refused_upgrade(browser, None, query="socket_connection_id=short") == 400
    query = f"socket_connection_id={page.connection_id}&positions=nope"
    assert refused_upgrade(browser, None, query=query) == 400
    # Without the session's cookie: no socket key.
    assert page.connect(cookie="").receive_close().code == 4001
    # Another session's id.
    other = other_session(new_browser)
    assert other.connect(page.connection_id).receive_close().code == 4001
    assert realtime.stats()["refusals"] == {
        "connection_id": 1,
        "no_socket_key": 1,
        "origin": 1,
        "positions": 1,
        "unknown_id": 1,
    }
    assert realtime.stats()["closes"] == {}  # refused sockets were never accepted
    lines = [(r.levelname, r.getMessage()) for r in logs()]
    assert lines == [
        (
            "INFO",
            "Socket refused (403, origin): Origin 'http://evil.test' is not allowed",
        ),
        ("INFO", "Socket refused (400, connection_id): the id is missing or malformed"),
        ("INFO", "Socket refused (400, positions): 'positions' is not valid JSON."),
        (
            "INFO",
            "Socket refused (4001, no_socket_key): the request carries no socket key",
        ),
        (
            "INFO",
            "Socket refused (4001, unknown_id): the id is unknown, expired or"
            " another session's",
        ),
    ]


def test_closes_are_counted_and_all_but_clean_ones_logged(browser, realtime, logs):
    clean = browser.open("/?channel=clean").connect()
    clean.request("ping")
    clean.close()
    replaced_page = browser.open("/?channel=replaced")
    replaced = replaced_page.connect()
    replaced.request("ping")
    replaced_page.connect().request("ping")
    assert replaced.receive_close().code == 4002
    replaced.close()
    ended = browser.open("/?channel=ended").connect()
    ended.request("ping")
    realtime.disconnect("ended")
    assert ended.receive_close().code == 4003
    ended.close()
    lost = browser.open("/?channel=lost").connect()
    lost.request("ping")
    lost.drop()
    too_big = browser.open("/?channel=big").connect()
    too_big.send('{"action":"ping","pad":"' + "x" * 70_000 + '"}')
    assert too_big.receive_close().code == 1009
    too_big.close()
    leaving = browser.open("/?channel=leaving").connect()
    leaving.request("ping")
    leaving.close(4000)
    expected = {"1006": 1, "1009": 1, "4002": 1, "4003": 1}
    by_client = {"1000": 1, "other": 1}
    wait_for(
        lambda: (
            realtime.stats()["closes"] == expected
            and realtime.stats()["client_closes"] == by_client
        )
    )
    lines = sorted((r.levelname, r.getMessage()) for r in logs())
    assert lines == [
        ("INFO", "Socket closed by the client with 4000 ('')"),
        ("INFO", "Socket closed with 1006 ('connection lost')"),
        ("INFO", "Socket closed with 4002 ('replaced by a newer socket')"),
        ("INFO", "Socket closed with 4003 ('session ended')"),
        ("WARNING", "Socket closed with 1009 ('Message is too big')"),
    ]


def test_codes_a_client_picks_neither_grow_the_counts_nor_pass_for_ours(
    browser, realtime, logs
):
    # A client may close with any of about 2,000 codes, with any reason: as
    # a server failure (1011), a rate limit (4029), an oversized message
    # (1009), with a forged log line in the reason.
    forged = "x\n2026-12-01 CRITICAL flask_realtime: ADMIN PASSWORD RESET OK\x1b[0m"
    codes = [1011, 4029, 1009, *range(3000, 3040)]
    for code in codes:
        socket = browser.open("/?channel=c").connect()
        socket.request("ping")
        socket.ws.close(status=code, reason=forged.encode(), timeout=5)
    wait_for(lambda: sum(realtime.stats()["client_closes"].values()) == len(codes))
    stats = realtime.stats()
    assert stats["client_closes"] == {"other": len(codes)}
    assert stats["closes"] == {}
    records = logs()
    assert {r.levelname for r in records} == {"INFO"}
    for record in records:
        assert "\n" not in record.getMessage() and "\x1b" not in record.getMessage()


def test_no_log_line_holds_an_id_a_key_or_a_digest(app, browser, new_browser, logs):
    """Refusals and closes of every kind, each with its secrets; then none of
    them appears in any log record."""
    realtime = app.extensions["realtime"]
    secrets = []
    pages = [browser.open("/?channel=s") for _ in range(4)]
    key = session_key(app, browser)
    secrets.append(key)
    for page in pages:
        secrets += [page.connection_id, digest(key, page.connection_id)]
    keyless = new_browser()  # a client that presents its own key
    presented_id = keyless.issue_with_key(KEY, "s")
    secrets += [KEY, presented_id, digest(KEY, presented_id)]

    refused_upgrade(browser, pages[0].connection_id, origin="http://evil.test")
    refused_upgrade(
        browser,
        None,
        query=f"socket_connection_id={pages[0].connection_id}&positions=x",
    )
    refused_upgrade(browser, None, query=f"socket_connection_id={KEY}!")
    pages[0].connect(cookie="").receive_close()
    other_session(new_browser).connect(pages[0].connection_id).receive_close()
    by_key = keyless.connect(
        None, cookie="", query=f"socket_connection_id={presented_id}&socket_key={KEY}"
    )
    by_key.request("ping")
    first = pages[1].connect()
    first.request("ping")
    second = pages[1].connect()
    second.request("ping")
    first.receive_close()  # replaced
    first.close()
    lost = pages[2].connect()
    lost.request("ping")
    lost.drop()
    too_big = pages[3].connect()
    too_big.send("x" * 70_000)
    too_big.receive_close()
    too_big.close()
    realtime.disconnect("s")
    for ended in (by_key, second):
        ended.receive_close()
        ended.close()
    wait_for(
        lambda: (
            sum(realtime.stats()["closes"].values())
            + sum(realtime.stats()["client_closes"].values())
            == 5
        )
    )
    # A close is counted before it is logged.
    wait_for(lambda: len(logs()) == 10)
    records = logs()
    for record in records:
        text = " ".join([record.getMessage(), repr(record.args), record.exc_text or ""])
        for secret in secrets:
            assert secret not in text, (secret, text)


def test_status_on_the_memory_backend_says_it_cannot_see(app):
    result = app.test_cli_runner().invoke(args=["realtime", "status"])
    assert result.exit_code == 1
    assert "inside the web server's process" in result.output
    assert "realtime.stats()" in result.output


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["redis", "cluster"])
def test_on_redis_stats_hold_the_listener_and_status_what_redis_holds(kind, request):
    if kind == "cluster":
        redis_server = request.getfixturevalue("redis_cluster")
        redis_server.flush()
    else:
        redis_server = request.getfixturevalue("redis_server")
    app = create_app(REALTIME_BACKEND=redis_server.url)
    realtime = app.extensions["realtime"]
    assert realtime.stats()["listener"] == {
        "state": "stopped",
        "restarts": 0,
        "last_error": None,
    }
    # The CLI's process has no socket: it reads what Redis holds.
    runner = create_app(REALTIME_BACKEND=redis_server.url).test_cli_runner()
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        browser.open("/?channel=waiting")  # never connects
        socket = browser.open("/?channel=a&channel=b").connect()
        socket.request("ping")
        realtime.push("hi", "a")
        assert socket.receive()["payload"] == "hi"
        stats = realtime.stats()
        assert stats["backend"] == "redis"
        assert stats["listener"]["state"] == "connected"
        assert stats["sockets_open"] == 1
        assert stats["channels"] == 2
        assert stats["pushes"] == 1
        assert stats["frames_delivered"] == 1
        assert stats["ids_pending"] is None  # every process's, in Redis

        result = runner.invoke(args=["realtime", "status", "--json"])
        assert result.exit_code == 0, result.output
        shared = json.loads(result.output)
        assert shared["processes_listening"] == 1
        assert shared["channels_listened"] == 2
        assert shared["socket_records"] == {
            "connected": 1,
            "in_grace": 0,
            "pending": 1,
        }
        # A key of the prefix that is not a socket record is skipped.
        redis_server.client().set("realtime:{sockets}:socket:not-a-hash", "x")
        result = runner.invoke(args=["realtime", "status"])
        assert result.exit_code == 0, result.output
        assert "Processes with sockets: 1" in result.output
        assert "1 connected, 0 waiting to reconnect, 1 issued" in result.output
        browser.close_all()
    finally:
        server.stop()
        realtime._state(app).backend.close()
    redis_server.stop()
    result = runner.invoke(args=["realtime", "status"])
    assert result.exit_code == 1 and "unavailable" in result.output
