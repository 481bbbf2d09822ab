"""The example chat in a real browser: realtime.js against a live server.

Each test opens its pages in separate browser contexts (separate cookies,
so separate sessions), and the ``pages`` fixture fails the test on any script
error or console error in them.
"""

from __future__ import annotations

import json
import threading
import typing as t

import pytest
import websocket

from example_app import create_app
from flask_realtime.signals import socket_disconnected

from ..support import Closed
from ..support import Socket
from .conftest import connected
from .conftest import connection_id
from .conftest import expect
from .conftest import TIMEOUT

if t.TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Page

    from .conftest import LiveServer
    from .conftest import Pages

#: Short heartbeat and backoff, so that a dead connection is noticed within
#: 3 s and retried at least every second (the defaults are 20 s + 10 s, and
#: 0.5 s doubling to 30 s). Not shorter: a loaded CI machine may take a
#: second to answer a ping.
FAST = {"heartbeatInterval": 1000, "heartbeatTimeout": 2000, "reconnectMax": 1000}


def log_in(page: Page, name: str) -> None:
    """Log in with the page's form; the room is rendered again, for the new
    session, and connected."""
    page.fill("header input[name=name]", name)
    with page.expect_navigation():
        page.click("header button")
    expect(page.locator("#me")).to_have_text(name)
    connected(page)


def post(page: Page, text: str) -> None:
    """Post with the page's form, as a person does."""
    page.fill("input[name=text]", text)
    page.click("#post button")
    expect(page.locator("input[name=text]")).to_have_value("", timeout=TIMEOUT)
    expect(page.locator("#error")).to_have_text("")


def record_reconnects(page: Page) -> None:
    """Keep the page's reconnect attempts in ``window.attempts``."""
    page.evaluate(
        """() => {
            window.attempts = []
            realtime.onEvent("reconnecting", ({ attempt }) => attempts.push(attempt))
        }"""
    )


def wait_for_failed_attempts(page: Page) -> None:
    """Wait until a reconnect attempt has failed: the second is scheduled."""
    page.wait_for_function("window.attempts.includes(2)", timeout=TIMEOUT)


def messages(page: Page) -> t.Any:
    return page.locator("#messages li span")


def push(app: Flask, text: str, room: str = "lobby") -> None:
    """Push a chat message from the server side, as another process would."""
    message = {
        "author": "server",
        "text": text,
        "room": room,
        "at": "2026-01-01T12:00:00+00:00",
    }
    app.extensions["realtime"].push(message, f"room:{room}", app=app)


def test_two_pages_see_each_others_messages(pages: Pages):
    ann = pages.open("/rooms/lobby")
    bob = pages.open("/rooms/lobby")
    elsewhere = pages.open("/rooms/python")
    log_in(ann, "ann")
    log_in(bob, "bob")
    connected(elsewhere)
    assert connection_id(ann) != connection_id(bob)

    post(ann, "hello from ann")
    for page in (ann, bob):
        expect(messages(page)).to_have_text(["hello from ann"])
    post(bob, "hi ann")
    for page in (ann, bob):
        expect(messages(page)).to_have_text(["hello from ann", "hi ann"])
        expect(page.locator("#messages li b")).to_have_text(["ann", "bob"])

    post(elsewhere, "wrong room")
    expect(messages(elsewhere)).to_have_text(["wrong room"])
    # The lobby pages got nothing from #python: a push to the lobby now is
    # the next thing they show.
    post(bob, "still here")
    for page in (ann, bob):
        expect(messages(page)).to_have_text(["hello from ann", "hi ann", "still here"])


def test_a_call_over_the_socket_posts_a_message_the_other_page_sees(
    pages: Pages, app: Flask
):
    ann = pages.open("/rooms/lobby")
    bob = pages.open("/rooms/lobby")
    connected(ann)
    connected(bob)
    http_posts: list[str] = []
    ann.on(
        "request",
        lambda request: (
            http_posts.append(request.url) if request.method == "POST" else None
        ),
    )

    reply = ann.evaluate(
        """() => realtime.call(document.getElementById("post").action, {
            method: "POST", input: { text: "over the socket" }
        })"""
    )
    assert reply["status"] == 201
    assert reply["headers"]["Content-Type"] == "application/json"
    assert reply["body"]["text"] == "over the socket"
    assert reply["body"]["room"] == "lobby"
    expect(messages(bob)).to_have_text(["over the socket"])
    # It went over the socket, not over HTTP.
    assert http_posts == []
    # The route pushed it to everyone but the calling page (which shows its
    # messages from the reply, and this call was not the page's form): the
    # next push is the first thing that page shows.
    push(app, "next")
    expect(messages(ann)).to_have_text(["next"])

    # A route's error is a reply with its status, not a rejection.
    reply = ann.evaluate(
        """() => realtime.call("/rooms/lobby/messages", {
            method: "POST", input: { text: "  " }
        })"""
    )
    assert (reply["status"], reply["body"]) == (400, "The message is empty.")
    # An error reply rejects.
    error = ann.evaluate(
        """() => realtime.call("/_realtime").then(
            () => "resolved", (error) => [error.name, error.code])"""
    )
    assert error == ["RealtimeError", "invalid_call"]


def test_a_page_that_goes_offline_reconnects_and_receives_again(
    pages: Pages, app: Flask
):
    pages.socket_failures_expected = True
    # A reconnect delay of 15 to 30 s: only the browser's "online" event can
    # bring it back within the test's timeouts.
    slow_retries = {**FAST, "reconnectInitial": 30_000, "reconnectMax": 30_000}
    page = pages.open("/rooms/lobby", options=slow_retries)
    connected(page)
    page.evaluate(
        """() => {
            window.seen = []
            for (const name of ["close", "reconnecting", "reconnected"]) {
                realtime.onEvent(name, () => window.seen.push(name))
            }
        }"""
    )
    first_id = connection_id(page)

    page.context.set_offline(True)
    # Chromium may keep the existing socket open but silent; the heartbeat
    # notices that nothing arrives any more.
    page.wait_for_function("realtime.state !== 'open'", timeout=TIMEOUT)
    expect(page.locator("#status")).to_contain_text("disconnected")
    # Back online: the client reconnects at once, without waiting out the
    # backoff delay.
    page.context.set_offline(False)
    connected(page)
    assert page.evaluate("window.seen.slice(0, 2)") == ["close", "reconnecting"]
    assert page.evaluate("window.seen.at(-1)") == "reconnected"
    # The same page, the same id: the server kept its subscriptions.
    assert connection_id(page) == first_id

    push(app, "after the outage")
    expect(messages(page)).to_have_text(["after the outage"])


def test_what_was_pushed_during_an_outage_is_replayed_after_it(
    pages: Pages, app: Flask
):
    pages.socket_failures_expected = True
    page = pages.open("/rooms/lobby", options=FAST)
    connected(page)
    push(app, "before")
    expect(messages(page)).to_have_text(["before"])

    page.context.set_offline(True)
    page.wait_for_function("realtime.state !== 'open'", timeout=TIMEOUT)
    push(app, "during")
    page.context.set_offline(False)
    connected(page)
    # The client sent the last position it had; the server replayed what
    # came after it, once.
    expect(messages(page)).to_have_text(["before", "during"])
    push(app, "after")
    expect(messages(page)).to_have_text(["before", "during", "after"])


@pytest.mark.app_config(REALTIME_HISTORY_SIZE=1)
def test_a_page_away_longer_than_the_history_is_told_what_it_missed(
    pages: Pages, app: Flask
):
    pages.socket_failures_expected = True
    page = pages.open("/rooms/lobby", options=FAST)
    connected(page)
    page.evaluate(
        """() => {
            window.missed = []
            realtime.onEvent("missed", ({ channel }) => missed.push(channel))
        }"""
    )
    push(app, "before")
    expect(messages(page)).to_have_text(["before"])

    page.context.set_offline(True)
    page.wait_for_function("realtime.state !== 'open'", timeout=TIMEOUT)
    push(app, "one")
    push(app, "two")  # the history holds one message: "one" is gone
    page.context.set_offline(False)
    page.wait_for_function("window.missed.length > 0", timeout=TIMEOUT)
    assert page.evaluate("window.missed") == ["room:lobby"]
    expect(page.locator("#status")).to_contain_text("some messages were missed")
    # Never a partial replay: "two" is not shown without "one".
    push(app, "after")
    expect(messages(page)).to_have_text(["before", "after"])


def test_a_restarted_server_that_forgot_the_page_makes_it_reload(
    pages: Pages, server: LiveServer
):
    pages.socket_failures_expected = True
    page = pages.open("/rooms/lobby", options=FAST)
    connected(page)
    old_id = connection_id(page)

    record_reconnects(page)

    server.stop()
    expect(page.locator("#status")).to_contain_text("disconnected")
    wait_for_failed_attempts(page)
    # A new process: the same code and secret key, but it knows no page.
    new_app = create_app({"TESTING": True, "SECRET_KEY": "e2e secret"})
    with page.expect_event("load", timeout=TIMEOUT):
        server.start(new_app)
    connected(page)
    new_id = connection_id(page)
    assert new_id != old_id

    push(new_app, "from the new server")
    expect(messages(page)).to_have_text(["from the new server"])
    other = pages.open("/rooms/lobby")
    connected(other)
    post(other, "and from a new page")
    expect(messages(page)).to_have_text(["from the new server", "and from a new page"])


def test_a_restarted_server_that_remembers_the_page_resumes_it(
    pages: Pages, server: LiveServer, app: Flask
):
    pages.socket_failures_expected = True
    page = pages.open("/rooms/lobby", options=FAST)
    connected(page)
    old_id = connection_id(page)
    page.evaluate("window.notReloaded = true")

    record_reconnects(page)

    server.stop()
    expect(page.locator("#status")).to_contain_text("disconnected")
    wait_for_failed_attempts(page)
    # The same app: its subscriptions outlive the connection for
    # REALTIME_DISCONNECT_GRACE.
    server.start(app)
    connected(page)
    assert page.evaluate("window.notReloaded") is True
    assert connection_id(page) == old_id

    push(app, "welcome back")
    expect(messages(page)).to_have_text(["welcome back"])


def test_a_refreshed_page_gets_a_new_id_and_the_old_one_is_refused(
    pages: Pages, server: LiveServer, app: Flask
):
    page = pages.open("/rooms/lobby")
    connected(page)
    old_id = connection_id(page)
    ended = threading.Event()
    clean: list[bool] = []

    def on_disconnect(sender: t.Any, **kwargs: t.Any) -> None:
        if kwargs["connection_id"] == old_id:
            clean.append(kwargs["clean"])
            ended.set()

    with socket_disconnected.connected_to(on_disconnect, app):
        page.reload()
        connected(page)
        assert ended.wait(TIMEOUT / 1000)
    # The page closed its socket cleanly (code 1000 on pagehide), so the
    # server forgot the old id at once.
    assert clean == [True]
    new_id = connection_id(page)
    assert new_id != old_id

    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    for connection_id_, refused in ((old_id, True), (new_id, False)):
        ws = websocket.WebSocket(enable_multithread=True)
        ws.connect(
            f"ws://127.0.0.1:{server.port}/_realtime"
            f"?socket_connection_id={connection_id_}",
            cookie=cookies,
            origin=server.url,
            timeout=TIMEOUT / 1000,
        )
        socket = Socket(ws)
        try:
            if refused:
                closed = socket.receive_close()
                assert isinstance(closed, Closed)
                assert closed.code == 4001
            else:
                # The same id as the live page: this socket replaces it.
                assert socket.request("ping")["body"] == "pong"
        finally:
            socket.close()
    # The page's socket was replaced by the one with its id: it stays closed
    # rather than take the id back.
    expect(page.locator("#status")).to_have_text("this page is open in another tab")
    assert page.evaluate("realtime.state") == "replaced"


def test_the_form_works_over_http_while_the_socket_is_down(
    pages: Pages, server: LiveServer, app: Flask
):
    pages.socket_failures_expected = True
    watcher = pages.open("/rooms/lobby")
    connected(watcher)
    page = pages.open(
        "/rooms/lobby", options={"reconnectInitial": 60_000, "reconnectMax": 60_000}
    )
    connected(page)
    # Take this page's socket down, and keep it down for a minute: the page
    # closes it with a code that means "reconnect later".
    page.evaluate("realtime.connection.ws.close(4000, 'test')")
    page.wait_for_function("realtime.state === 'reconnecting'", timeout=TIMEOUT)
    with page.expect_request("**/rooms/lobby/messages") as request:
        post(page, "sent over http")
    assert request.value.headers["x-socket-connection-id"] == connection_id(page)
    assert json.loads(request.value.post_data or "") == {"text": "sent over http"}
    expect(messages(watcher)).to_have_text(["sent over http"])
    # The page shows it from the reply, as over the socket.
    expect(messages(page)).to_have_text(["sent over http"])


def test_without_javascript_the_form_still_posts(pages: Pages):
    watcher = pages.open("/rooms/lobby")
    connected(watcher)
    page = pages.open("/rooms/lobby", javascript=False)
    expect(page.locator("#status")).to_have_text("not connected")
    page.fill("input[name=text]", "plain old form")
    with page.expect_navigation():
        page.click("#post button")
    # The post redirected back to the room, which shows the message...
    assert page.url.endswith("/rooms/lobby")
    expect(messages(page)).to_have_text(["plain old form"])
    # ...and it was pushed to the pages that have the client.
    expect(messages(watcher)).to_have_text(["plain old form"])
