"""The Python client against a fake server that sends what a real one never
would: malformed frames, frames glued to the handshake, silence."""

from __future__ import annotations

import json
import queue
import socket
import threading
import typing as t

import pytest
from wsproto import ConnectionType
from wsproto import WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection
from wsproto.events import BytesMessage
from wsproto.events import CloseConnection
from wsproto.events import Message
from wsproto.events import Request
from wsproto.events import TextMessage

from flask_realtime.client import CallError
from flask_realtime.client import Client
from flask_realtime.client import ClientClosed
from flask_realtime.client_connection import backoff
from flask_realtime.client_connection import socket_url

from ..support import wait_for

CONNECTION_ID = "i" * 43
KEY = "k" * 43


class FakeServer:
    """A WebSocket server on loopback that plays a script for each
    connection: ``script(peer)`` runs in the connection's thread."""

    def __init__(self, script: t.Callable[[Peer], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so that stop() ends accept()
        self._stopped = False
        #: Set when the server stops.
        self.stopped = threading.Event()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._script = script
        #: The target of each upgrade request, in order.
        self.targets: list[str] = []
        self.peers: list[Peer] = []
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            peer = Peer(sock, self)
            self.peers.append(peer)
            thread = threading.Thread(target=peer.run, args=(self._script,))
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stopped = True
        self.stopped.set()
        self._thread.join(5)
        self._listener.close()
        for peer in self.peers:
            peer.end()
        for thread in self._threads:
            thread.join(5)


class Peer:
    """The server's end of one connection."""

    def __init__(self, sock: socket.socket, server: FakeServer) -> None:
        self.sock = sock
        self.server = server
        self.ws = WSConnection(ConnectionType.SERVER)
        self.messages: queue.Queue[t.Any] = queue.Queue()
        self.close_code: int | None = None

    def run(self, script: t.Callable[[Peer], None]) -> None:
        try:
            script(self)
        except OSError:
            pass
        finally:
            self.end()

    def accept(self, *frames: str | bytes) -> None:
        """Complete the handshake; send ``frames`` in the same write."""
        while True:
            self.ws.receive_data(self.sock.recv(65536))
            for event in self.ws.events():
                if isinstance(event, Request):
                    self.server.targets.append(event.target)
                    data = self.ws.send(AcceptConnection())
                    for frame in frames:
                        data += self._frame(frame)
                    self.sock.sendall(data)
                    return

    def send(self, *frames: str | bytes) -> None:
        self.sock.sendall(b"".join(self._frame(f) for f in frames))

    def _frame(self, frame: str | bytes) -> bytes:
        if isinstance(frame, bytes):
            return self.ws.send(BytesMessage(data=frame))
        return self.ws.send(TextMessage(data=frame))

    def serve(
        self, answer: t.Callable[[dict[str, t.Any]], t.Any] | None = None
    ) -> None:
        """Read messages until the client closes; reply to each with
        ``answer(message)`` (a dict merged into the reply), or pong."""
        while self.close_code is None:
            data = self.sock.recv(65536)
            if not data:
                return
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, CloseConnection):
                    self.close_code = event.code
                    if self.ws.state is not ConnectionState.CLOSED:  # we began
                        self.sock.sendall(self.ws.send(event.response()))
                elif isinstance(event, Message):
                    message = json.loads(event.data)
                    self.messages.put(message)
                    if message.get("id") == "open" and answer is None:
                        continue
                    reply = answer(message) if answer else {"body": "pong"}
                    if reply is not None:
                        self.send(json.dumps({"id": message.get("id"), **reply}))

    def close(self, code: int) -> None:
        self.sock.sendall(self.ws.send(CloseConnection(code=code)))

    def end(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@pytest.fixture
def fake() -> t.Iterator[t.Callable[..., FakeServer]]:
    made: list[FakeServer] = []

    def make(script: t.Callable[[Peer], None]) -> FakeServer:
        made.append(FakeServer(script))
        return made[-1]

    yield make
    for server in made:
        server.stop()


def connect(server: FakeServer, **options: t.Any) -> Client:
    options.setdefault("timeout", 5)
    return Client(server.url, connection_id=CONNECTION_ID, socket_key=KEY, **options)


HOSTILE_FRAMES = [
    "not json",
    "[1, 2]",
    "null",
    "[" * 100_000,  # deeper than the JSON decoder goes
    "9" * 5000,  # longer than int() takes
    b"\x00\x01binary",
    '{"channel": 5, "payload": 1}',
    '{"id": [1], "body": "unhashable id"}',
    '{"id": 12345, "body": "a reply to nothing"}',
    '{"id": null, "error": "not an object"}',
    '{"channel": "c", "gap": "yes"}',
    '{"channel": "c", "position": 7, "payload": "bad position"}',
    '{"channel": "c", "position": "e:' + "1" * 100 + '", "payload": "long"}',
    '{"channel": "c", "position": "no colon", "payload": "malformed"}',
    '{"channel": "' + "c" * 300 + '", "position": "e:3", "payload": "long"}',
    '{"channel": "c", "payload": "boom"}',
    '{"nothing": "useful"}',
]


def test_malformed_frames_do_not_stop_the_client(fake, caplog):
    def script(peer: Peer) -> None:
        peer.accept()
        peer.send('{"channel": "c", "payload": "first", "position": "e:1"}')
        peer.send(*HOSTILE_FRAMES)
        peer.send('{"channel": "c", "payload": "last", "position": "e:2"}')
        peer.serve()

    server = fake(script)
    received = []

    def listener(payload: t.Any) -> None:
        if payload == "boom":
            raise ValueError("a listener's own bug")
        received.append(payload)

    with connect(server, connect=False) as client:
        client.on("c", listener)
        client.connect()
        wait_for(lambda: "last" in received)
        assert received == ["first", "last"]
        assert client._positions == {"c": "e:2"}  # what the reconnect URL sends
        assert client.request("ping") == "pong"  # the thread lives on
        assert client.state == "open"
    assert "A listener of 'c' raised" in caplog.text
    assert "Ignored a frame that is not JSON" in caplog.text


def test_a_malformed_reply_to_a_call_is_a_call_error(fake):
    def script(peer: Peer) -> None:
        peer.accept()
        peer.serve(lambda message: {"status": "200", "headers": []})

    with connect(fake(script)) as client:
        with pytest.raises(CallError) as caught:
            client.call("/")
        assert caught.value.code == "invalid_reply"


def test_frames_that_come_with_the_handshake_are_read_at_once(fake):
    # The fake never answers the client's first ping: only the frames sent
    # together with the 101 response can open the client.
    def script(peer: Peer) -> None:
        peer.accept('{"channel": "c", "payload": 1, "position": "e:1"}')
        peer.serve(lambda message: None)

    received = []
    with connect(fake(script), connect=False) as client:
        client.on("c", received.append)
        client.connect()
        wait_for(lambda: received == [1])


def test_a_close_that_comes_with_the_handshake_is_read_at_once(fake):
    def script(peer: Peer) -> None:
        peer.accept()
        peer.close(4001)
        peer.serve()

    server = fake(script)
    with pytest.raises(ClientClosed) as caught:
        connect(server, timeout=5)
    assert caught.value.state == "refused"
    # The client answered the close, as RFC 6455 asks.
    wait_for(lambda: server.peers[0].close_code == 4001)


def test_a_silent_connection_is_dropped_and_opened_again_with_positions(fake):
    def script(peer: Peer) -> None:
        peer.accept()
        peer.send('{"channel": "c", "payload": 1, "position": "e:1"}')
        if len(peer.server.peers) == 1:
            peer.server.stopped.wait(10)  # neither pings nor answers
        else:
            peer.serve()

    server = fake(script)
    reconnected = threading.Event()
    with connect(server, ping_interval=0.2, reconnect_initial=0.05) as client:
        client.on_event("reconnected", lambda detail: reconnected.set())
        assert reconnected.wait(5)
        assert server.targets[1].endswith("&positions=%7B%22c%22%3A%20%22e%3A1%22%7D")


def test_socket_url_stays_on_the_page_host():
    url = socket_url("https://example.com/app/page?x=1", "/app/_realtime", replace=True)
    assert url == "wss://example.com/app/_realtime"
    assert (
        socket_url("http://h:5000/root/", "/_realtime") == "ws://h:5000/root/_realtime"
    )
    for path in ["//evil.example/x", "_realtime", "/a?b", "/a#b", "/a\\b", "/a b"]:
        with pytest.raises(ValueError):
            socket_url("http://example.com/", path, replace=True)


def test_backoff_doubles_with_jitter_up_to_its_ceiling():
    for tries, low, high in [(1, 0.25, 0.5), (2, 0.5, 1), (3, 1, 2), (20, 15, 30)]:
        for _ in range(50):
            assert low <= backoff(tries, 0.5, 30) <= high


def test_an_endless_frame_is_closed_with_1009_and_the_client_reconnects(fake):
    def script(peer: Peer) -> None:
        peer.accept()
        if len(peer.server.peers) > 1:
            peer.serve(lambda message: {"body": "pong"})  # opens the client
            return
        peer.send('{"channel": "c", "payload": "first"}')
        # A text frame that announces 2**40 bytes, sent until the client
        # closes; the client would otherwise keep it all in memory.
        peer.sock.sendall(b"\x81\x7f" + (2**40).to_bytes(8, "big"))
        while not peer.server.stopped.is_set():
            peer.sock.sendall(b"x" * 65536)

    server = fake(script)
    closes = []
    with connect(server, connect=False, reconnect_initial=0.05) as client:
        client.on_event("close", closes.append)
        client.connect()
        wait_for(lambda: len(server.peers) == 2 and client.state == "open")
        assert closes[0]["code"] == 1009
        assert closes[0]["state"] == "reconnecting"


def test_a_slow_listener_makes_the_server_wait_not_the_client_queue(fake):
    # The fake pushes until TCP pushes back (a write that cannot go on):
    # that is the client no longer reading, as the server's backlog limit
    # (4008) needs. Without the bound, the client reads everything.
    pushed_back = threading.Event()
    release = threading.Event()

    def script(peer: Peer) -> None:
        peer.accept()
        peer.sock.settimeout(1)
        try:
            for seq in range(1, 50_001):
                frame = {"channel": "c", "payload": "x" * 1000, "position": f"e:{seq}"}
                peer.send(json.dumps(frame))
        except TimeoutError:
            pushed_back.set()
        peer.server.stopped.wait(10)

    def listener(payload: t.Any) -> None:
        release.wait(10)

    with connect(fake(script), connect=False, max_pending_messages=100) as client:
        client.on("c", listener)
        client.connect()
        try:
            assert pushed_back.wait(30)
            ws = client._connection.ws
            assert ws is not None
            # One read of 4096 bytes may bring a few frames past the bound.
            assert len(ws.input_buffer) <= 100 + 4096 // 1000 + 1
        finally:
            release.set()
