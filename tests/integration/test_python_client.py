"""flask_realtime.client.Client against a real server: pushes, calls,
reconnects with replay, and the close codes that stop it."""

from __future__ import annotations

import threading
import typing as t

import pytest
from flask import abort

from flask_realtime import HandlerError
from flask_realtime.client import CallError
from flask_realtime.client import Client
from flask_realtime.client import ClientClosed

from ..conftest import create_app
from ..support import LiveServer
from ..support import wait_for

KEY = "a-key-of-the-client's-own-0123456789"
# Quick retries, so that the tests do not wait for the default backoff.
FAST = {"reconnect_initial": 0.05, "reconnect_max": 0.2, "restart_window": 0.2}


class Recorder:
    """Collects what a client's listeners get, and its events."""

    def __init__(self, client: Client, *channels: str) -> None:
        self.payloads: list[t.Any] = []
        self.events: list[tuple[str, dict[str, t.Any]]] = []
        for channel in channels:
            client.on(channel, self.payloads.append)
        for name in ("open", "close", "reconnecting", "reconnected", "missed"):
            client.on_event(
                name, lambda detail, name=name: self.events.append((name, detail))
            )
        for name in ("refused", "replaced", "ended"):
            client.on_event(
                name, lambda detail, name=name: self.events.append((name, detail))
            )

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


def start(url: str, *channels: str, **options: t.Any) -> tuple[Client, Recorder]:
    """A client with its listeners in place before it connects."""
    client = Client(url, connect=False, **options)
    seen = Recorder(client, *channels)
    client.connect()
    return client, seen


def test_a_page_client_receives_what_the_page_subscribed_to(server, realtime):
    with Client(f"{server.url}/?channel=news&channel=sport", connect=False) as client:
        seen = Recorder(client, "news", "sport")
        realtime.push("before connecting", "news")  # replayed on the first open
        client.connect()
        assert client.state == "open"
        for n in range(3):
            realtime.push(n, "news")
        realtime.push("goal", "sport")
        wait_for(lambda: len(seen.payloads) == 5)
        assert seen.payloads == ["before connecting", 0, 1, 2, "goal"]
        assert seen.events == [("open", {"reconnected": False})]


def test_an_id_client_presents_its_own_key(server, realtime, browser):
    connection_id = browser.issue_with_key(KEY, "alerts")
    with Client(server.url, connection_id=connection_id, socket_key=KEY) as client:
        seen = Recorder(client, "alerts", "more")
        realtime.push("one", "alerts")
        # A route called over the socket sees this socket as g.socket.
        response = client.call("/subscribe", "POST", {"channel": "more"}, form=True)
        assert response.body == {"connection_id": connection_id}
        realtime.push("two", "more")
        wait_for(lambda: seen.payloads == ["one", "two"])


def test_call_returns_the_routes_response(server, browser):
    with Client(f"{server.url}/") as client:
        response = client.call("/subscribe", "POST", {"channel": "x"}, form=True)
        assert response.status == 200
        assert response.headers["content-type"] == "application/json"
        assert response.body == {"connection_id": client.connection_id}
        missing = client.call("/missing")
        assert missing.status == 404  # a status is a response, not an error
        assert isinstance(missing.body, str)


def test_error_replies_raise_call_error(server, realtime):
    @realtime.handler("full")
    def full(message: dict[str, t.Any]) -> None:
        raise HandlerError("room_full", f"Room {message['room']} is full.")

    @realtime.handler("forbidden")
    def forbidden(message: dict[str, t.Any]) -> None:
        abort(403)

    with Client(f"{server.url}/") as client:
        with pytest.raises(CallError) as caught:
            client.request("subscribe", channel="secret")
        assert caught.value.code == "unknown_action"
        with pytest.raises(CallError) as caught:
            client.request("full", room="lobby")
        assert (caught.value.code, caught.value.message) == (
            "room_full",
            "Room lobby is full.",
        )
        with pytest.raises(CallError) as caught:
            client.request("forbidden")
        assert (caught.value.code, caught.value.status) == ("http_error", 403)
        with pytest.raises(CallError) as caught:
            client.call("//elsewhere")
        assert caught.value.code == "invalid_call"
        assert client.request("ping") == "pong"  # the connection stays open


def test_a_route_the_socket_may_not_call_raises_call_error():
    app = create_app(REALTIME_CALL_ENDPOINTS=["subscribe"])
    server = LiveServer(app)
    try:
        with Client(f"{server.url}/") as client:
            with pytest.raises(CallError) as caught:
                client.call("/push", "POST", {"text": "hi"}, form=True)
            assert caught.value.code == "route_not_callable"
            response = client.call("/subscribe", "POST", {"channel": "a"}, form=True)
            assert response.status == 200
    finally:
        server.stop()


def test_a_reply_that_does_not_come_in_time_raises_timeout_error(server, realtime):
    release = threading.Event()

    @realtime.handler("slow")
    def slow(message: dict[str, t.Any]) -> str:
        release.wait(10)
        return "late"

    with Client(f"{server.url}/") as client:
        with pytest.raises(TimeoutError):
            client.request("slow", timeout=0.2)
        release.set()
        # The late reply is dropped; the next reply is the next request's.
        assert client.request("ping") == "pong"


def test_off_removes_one_listener_and_a_raising_listener_harms_no_other(
    server, realtime, caplog
):
    first: list[t.Any] = []
    second: list[t.Any] = []

    def broken(payload: t.Any) -> None:
        raise RuntimeError("a bug in a listener")

    with Client(f"{server.url}/") as client:
        off_first = client.on("chat", first.append)
        client.on("chat", broken)
        client.on("chat", second.append)
        realtime.push(1, "chat")
        wait_for(lambda: second == [1])
        off_first()
        off_first()  # twice is harmless
        realtime.push(2, "chat")
        wait_for(lambda: second == [1, 2])
        assert first == [1]
    assert "A listener of 'chat' raised" in caplog.text


def test_the_context_manager_closes_and_the_server_forgets_the_id(server, realtime):
    with Client(f"{server.url}/") as client:
        seen = Recorder(client)
        assert realtime.stats()["sockets_open"] == 1
    assert client.state == "closed"
    assert seen.events[-1] == ("close", {"code": 1000, "reason": "", "state": "closed"})
    wait_for(lambda: realtime.stats()["sockets_open"] == 0)
    assert realtime.stats()["ids_in_grace"] == 0  # a clean close: forgotten
    with pytest.raises(ClientClosed) as caught:
        client.call("/")
    assert caught.value.state == "closed"
    client.close()  # twice is harmless


def test_a_dropped_connection_reconnects_and_gets_what_it_missed_in_order(
    server, realtime
):
    client, seen = start(f"{server.url}/", "chat", **FAST)
    with client:
        realtime.push(1, "chat")
        wait_for(lambda: seen.payloads == [1])

        def push_while_down(detail: dict[str, t.Any]) -> None:
            # On the client's thread, before it reconnects.
            for n in range(2, 6):
                realtime.push(n, "chat")

        off = client.on_event("close", push_while_down)
        server.drop_connections()
        wait_for(lambda: "reconnected" in seen.names())
        off()
        realtime.push(6, "chat")
        wait_for(lambda: len(seen.payloads) >= 6)
        assert seen.payloads == [1, 2, 3, 4, 5, 6]  # in order, no duplicates
        assert seen.names()[:4] == ["open", "close", "reconnecting", "open"]
        assert seen.events[1][1]["code"] == 1006


def test_a_reconnect_that_history_cannot_cover_gets_a_gap():
    app = create_app(REALTIME_HISTORY_SIZE=2)
    realtime = app.extensions["test_realtime"]
    server = LiveServer(app)
    try:
        client, seen = start(f"{server.url}/", "chat", **FAST)
        with client:
            realtime.push(1, "chat")
            wait_for(lambda: seen.payloads == [1])
            client.on_event(
                "close", lambda detail: [realtime.push(n, "chat") for n in range(2, 7)]
            )
            server.drop_connections()
            wait_for(lambda: "missed" in seen.names())
            missed = dict(seen.events)["missed"]
            assert missed["channel"] == "chat"
            realtime.push(7, "chat")
            wait_for(lambda: 7 in seen.payloads)
            assert seen.payloads == [1, 7]  # never part of what was missed
    finally:
        server.stop()


def test_a_server_restart_on_the_same_port_replays_what_was_missed(app, realtime):
    server = LiveServer(app)
    client, seen = start(f"{server.url}/", "chat", **FAST)
    with client:
        realtime.push(1, "chat")
        wait_for(lambda: seen.payloads == [1])
        server.stop()
        server.drop_connections()
        wait_for(lambda: "reconnecting" in seen.names())
        realtime.push(2, "chat")
        realtime.push(3, "chat")
        restarted = LiveServer(app, port=server.port)
        try:
            wait_for(lambda: "reconnected" in seen.names())
            realtime.push(4, "chat")
            wait_for(lambda: len(seen.payloads) >= 4)
            assert seen.payloads == [1, 2, 3, 4]
        finally:
            client.close()
            restarted.stop()


@pytest.mark.redis
def test_a_deploy_closes_with_1012_and_the_new_process_replays(redis_server):
    old_app = create_app(REALTIME_BACKEND=redis_server.url)
    old_server = LiveServer(old_app)
    new_app = create_app(REALTIME_BACKEND=redis_server.url)
    new_realtime = new_app.extensions["test_realtime"]
    client, seen = start(f"{old_server.url}/", "chat", **FAST)
    with client:
        new_realtime.push(1, "chat")
        wait_for(lambda: seen.payloads == [1])
        old_app.extensions["test_realtime"].shutdown()
        old_server.stop()
        wait_for(lambda: "close" in seen.names())
        close = dict(seen.events)["close"]
        assert (close["code"], close["reason"]) == (1012, "service restart")
        new_realtime.push(2, "chat")
        new_realtime.push(3, "chat")
        new_server = LiveServer(new_app, port=old_server.port)
        try:
            wait_for(lambda: "reconnected" in seen.names())
            new_realtime.push(4, "chat")
            wait_for(lambda: len(seen.payloads) >= 4)
            assert seen.payloads == [1, 2, 3, 4]
        finally:
            client.close()
            new_server.stop()


def test_another_socket_with_the_same_id_replaces_the_client(server, browser):
    connection_id = browser.issue_with_key(KEY, "chat")
    client, seen = start(
        server.url, connection_id=connection_id, socket_key=KEY, **FAST
    )
    other = browser.connect(
        connection_id, cookie="", header=[f"X-Realtime-Socket-Key: {KEY}"]
    )
    other.request("ping")
    wait_for(lambda: client.state == "replaced")
    assert "replaced" in seen.names()
    with pytest.raises(ClientClosed) as caught:
        client.request("ping")
    assert caught.value.state == "replaced"
    assert "reconnecting" not in seen.names()
    client.close()


def test_a_disconnect_ends_the_client(server, realtime):
    client, seen = start(f"{server.url}/", **FAST)
    realtime.disconnect("chat")
    wait_for(lambda: client.state == "ended")
    assert seen.names() == ["open", "close", "ended"]
    assert seen.events[1][1] == {
        "code": 4003,
        "reason": "session ended",
        "state": "ended",
    }
    with pytest.raises(ClientClosed):
        client.call("/")
    client.close()


def test_a_refused_page_client_loads_its_page_again_once():
    # No grace: a dropped socket's id is forgotten at once, and its
    # reconnect is refused with 4001.
    app = create_app(REALTIME_DISCONNECT_GRACE=0)
    realtime = app.extensions["test_realtime"]
    server = LiveServer(app)
    try:
        client, seen = start(f"{server.url}/", "chat", **FAST)
        with client:
            first_id = client.connection_id
            server.drop_connections()
            # A new page, so "open" and not "reconnected".
            wait_for(lambda: seen.names().count("open") == 2)
            refused = dict(seen.events)["refused"]
            assert (refused["code"], refused["reload"]) == (4001, True)
            assert client.connection_id != first_id
            realtime.push("on the new id", "chat")
            wait_for(lambda: seen.payloads == ["on the new id"])
            # Refused again within reload_interval: it stops, no reload loop.
            server.drop_connections()
            wait_for(lambda: client.state == "refused")
            assert seen.events[-1][0] == "refused"
            assert seen.events[-1][1]["reload"] is False
    finally:
        server.stop()


def test_an_id_client_whose_id_is_refused_stops(server):
    with pytest.raises(ClientClosed) as caught:
        Client(server.url, connection_id="x" * 43, socket_key=KEY)
    assert caught.value.state == "refused"


def test_a_page_without_an_id_is_an_error(server):
    with pytest.raises(ValueError, match="no <body data-socket-connection-id>"):
        Client(f"{server.url}/plain")


def test_threads_calling_at_once_each_get_their_own_replies(server, realtime):
    @realtime.handler("echo")
    def echo(message: dict[str, t.Any]) -> t.Any:
        return message["n"]

    failures: list[str] = []

    with Client(f"{server.url}/") as client:

        def work(thread: int) -> None:
            for n in range(10):
                reply = client.request("echo", n=[thread, n])
                if reply != [thread, n]:
                    failures.append(f"{thread}/{n} got {reply}")
                response = client.call(f"/missing-{thread}-{n}")
                if response.status != 404:
                    failures.append(f"call {thread}/{n} got {response.status}")

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert failures == []


def test_a_listener_cannot_wait_for_a_reply(server, realtime):
    errors: list[BaseException] = []

    def listener(payload: t.Any) -> None:
        try:
            client.request("ping")
        except RuntimeError as e:
            errors.append(e)

    with Client(f"{server.url}/") as client:
        client.on("chat", listener)
        realtime.push(1, "chat")
        wait_for(lambda: errors)
        assert "Call from another thread" in str(errors[0])
