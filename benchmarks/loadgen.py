"""The load generator: many WebSocket clients in one asyncio process.

``run.py`` starts one or more of these with ``python -m benchmarks.loadgen``.
Each reads one JSON command per line on stdin and answers each with one JSON
line on stdout:

- ``connect``: open ``n`` clients (for flask-realtime: render a page first to
  get the session cookie and the connection id, then open the socket);
- ``arm``: start counting the messages of one kind (``k`` in the payload);
- ``wait``: wait until every client has ``expected`` of them, or a timeout;
- ``close``: close every client; ``exit``: close and end the process.

The WebSocket client is a plain ``asyncio.Protocol`` that parses frames
itself, because the generator must stay well below one core while the server
delivers hundreds of thousands of messages a second. It offers
permessage-deflate as browsers do, and inflates what comes compressed.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import json
import os
import re
import resource
import sys
import time
import typing as t
import zlib

import aiohttp

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CONNECTION_ID = re.compile(r'data-socket-connection-id="([^"]+)"')
_DEFLATE_TAIL = b"\x00\x00\xff\xff"
_KIND = b'"k":"'
_TIME = b'"t":"'
_TIME_WIDTH = 17  # f"{time.time():.6f}"

#: The WebSocket path and how to reach it, per protocol.
PROTOCOLS = ("realtime", "socketio", "naive")


class HandshakeError(Exception):
    pass


class Client(asyncio.Protocol):
    """One WebSocket client.

    Socket.IO clients also speak enough Engine.IO v4: they answer the open
    packet with a namespace connect (``40``) and pings (``2``) with pongs
    (``3``), and count only event packets (``42``).
    """

    def __init__(self, gen: Generator, request: bytes, key: bytes, socketio: bool):
        self.gen = gen
        self.request = request
        self.accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        self.socketio = socketio
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.closed = False
        self.inflater: t.Any = None
        self.inflate_reset = False
        self.fragments: list[bytes] = []
        self.fragment_head = 0
        # Counting, reset by each "arm".
        self.count = 0
        self.last_at = 0.0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = t.cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(HandshakeError("closed before ready"))
        self.gen.on_lost(self)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).decode("latin-1")
            del buffer[: end + 4]
            self._handshake(head)
            if not self.open:
                return
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            head, length = buffer[pos], buffer[pos + 1]
            start = pos + 2
            if length & 0x80:  # a masked frame: a server never sends one
                self._fail("masked frame from the server")
                return
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            self._frame(head, bytes(buffer[start:end]))
            pos = end
        del buffer[:pos]

    # Frames

    def _handshake(self, head: str) -> None:
        lines = head.split("\r\n")
        if " 101 " not in lines[0] + " ":
            self._fail(f"handshake answered {lines[0]!r}")
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("sec-websocket-accept", "").encode() != self.accept:
            self._fail("wrong Sec-WebSocket-Accept")
            return
        extensions = headers.get("sec-websocket-extensions", "")
        if "permessage-deflate" in extensions:
            self.inflater = zlib.decompressobj(-15)
            self.inflate_reset = "server_no_context_takeover" in extensions
            self.gen.deflate += 1
        self.open = True
        if not self.socketio:
            self.ready.set_result(None)

    def _frame(self, head: int, payload: bytes) -> None:
        opcode = head & 0x0F
        if opcode == 0:  # continuation
            self.fragments.append(payload)
            if not head & 0x80:
                return
            payload = b"".join(self.fragments)
            self.fragments = []
            head = self.fragment_head
            opcode = head & 0x0F
        elif opcode in (1, 2) and not head & 0x80:
            self.fragments = [payload]
            self.fragment_head = head
            return
        if opcode == 1 or opcode == 2:
            if head & 0x40:  # RSV1: compressed
                payload = self.inflater.decompress(payload + _DEFLATE_TAIL)
                if self.inflate_reset:
                    self.inflater = zlib.decompressobj(-15)
            if self.socketio:
                self._engineio(payload)
            else:
                self.gen.on_message(self, payload)
        elif opcode == 9:
            self.send(10, payload)
        elif opcode == 8:
            if not self.closed:
                self.send(8, payload[:2])
            if self.transport is not None:
                self.transport.close()

    def _engineio(self, payload: bytes) -> None:
        if payload[:2] == b"42":
            self.gen.on_message(self, payload)
        elif payload == b"2":
            self.send(1, b"3")
        elif payload[:2] == b"40":
            if not self.ready.done():
                self.ready.set_result(None)
        elif payload[:1] == b"0":
            self.send(1, b"40")
        elif payload[:2] == b"44":
            self._fail(f"Socket.IO refused: {payload[:80]!r}")

    def send(self, opcode: int, payload: bytes) -> None:
        """Write one masked frame (clients must mask)."""
        if self.transport is None or self.transport.is_closing():
            return
        length = len(payload)
        mask = os.urandom(4)
        if length < 126:
            header = bytes((0x80 | opcode, 0x80 | length))
        else:
            header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        keys = (mask * (length // 4 + 1))[:length]
        masked = (
            int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")
        ).to_bytes(length, "big")
        self.transport.write(header + mask + masked)

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(HandshakeError(reason))
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        """Send a close frame; the server answers and ends the connection."""
        self.send(8, (1000).to_bytes(2, "big"))


class Generator:
    """The clients of this process and what they have received."""

    def __init__(self, url: str, protocol: str) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}")
        self.url = url
        self.host, port = url.split("//", 1)[1].split(":")
        self.port = int(port)
        self.protocol = protocol
        self.clients: list[Client] = []
        self.deflate = 0
        self.lost = 0
        self._reset("", 0, False)

    def _reset(self, kind: str, expected: int, latency: bool) -> None:
        self.kind = kind.encode()[:1] or b"\0"
        self.kind_byte = self.kind[0]
        self.expected = expected
        self.latency = latency
        self.samples: list[float] = []
        self.complete = 0
        self.first = 0.0
        self.armed_at = time.time()
        self.cpu_at_arm = _cpu()
        self.cpu_at_done = (0.0, 0.0)
        self.all_done = asyncio.Event()

    # Called by clients.

    def on_message(self, client: Client, payload: bytes) -> None:
        at = payload.find(_KIND)
        if at < 0 or payload[at + 5] != self.kind_byte:
            return
        now = time.time()
        if not self.first:
            self.first = now
        if self.latency:
            at = payload.find(_TIME)
            sent = float(payload[at + 5 : at + 5 + _TIME_WIDTH])
            self.samples.append(now - sent)
        client.count += 1
        client.last_at = now
        if client.count == self.expected:
            self.complete += 1
            if self.complete == len(self.clients):
                self.cpu_at_done = _cpu()
                self.all_done.set()

    def on_lost(self, client: Client) -> None:
        if client.open:
            self.lost += 1

    # Commands.

    async def connect(
        self, n: int, concurrency: int, timeout: float, budget: float, storm: bool
    ) -> dict[str, t.Any]:
        """Open ``n`` clients, ``concurrency`` at a time (all at once for a
        storm, where each page is fetched on its own connection).

        Each client has ``timeout`` seconds to get ready; none starts after
        ``budget`` seconds.
        """
        connector = aiohttp.TCPConnector(limit=0 if storm else concurrency)
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        gate = asyncio.Semaphore(n if storm else concurrency)
        errors: collections.Counter[str] = collections.Counter()
        durations: list[float] = []

        deadline = time.monotonic() + budget

        async def one() -> None:
            async with gate:
                started = time.monotonic()
                if started > deadline:
                    errors["not started: over the time budget"] += 1
                    return
                stage = ["page"]
                try:
                    client = await asyncio.wait_for(
                        self._open(session, storm, stage), timeout
                    )
                except Exception as e:  # every failure is counted
                    errors[f"{stage[0]}: {type(e).__name__}: {e}"[:120]] += 1
                    return
                durations.append(time.monotonic() - started)
                self.clients.append(client)

        started = time.monotonic()
        try:
            await asyncio.gather(*(one() for _ in range(n)))
        finally:
            await session.close()
        durations.sort()
        return {
            "connected": len(durations),
            "failed": n - len(durations),
            "errors": dict(errors.most_common(5)),
            "seconds": time.monotonic() - started,
            "handshake_p50": _quantile(durations, 0.5),
            "handshake_max": durations[-1] if durations else None,
            "total": len(self.clients),
            "deflate": self.deflate,
        }

    async def _open(
        self, session: aiohttp.ClientSession, storm: bool, stage: list[str]
    ) -> Client:
        """Render the page if the protocol needs one, then open the socket;
        ``stage[0]`` tells how far it got (for the error counts)."""
        cookie = ""
        path = "/ws"
        if self.protocol == "realtime":
            headers = {"Connection": "close"} if storm else {}
            async with session.get(self.url + "/", headers=headers) as response:
                html = await response.text()
                if response.status != 200:
                    raise HandshakeError(f"page answered {response.status}")
                cookie = "; ".join(
                    f"{name}={morsel.value}"
                    for name, morsel in response.cookies.items()
                )
            match = _CONNECTION_ID.search(html)
            if match is None:
                raise HandshakeError("no connection id in the page")
            path = f"/_realtime?socket_connection_id={match.group(1)}"
        elif self.protocol == "socketio":
            path = "/socket.io/?EIO=4&transport=websocket"
        key = base64.b64encode(os.urandom(16))
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
            # What browsers offer; each server decides whether to accept.
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            f"Origin: http://{self.host}:{self.port}",
        ]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        stage[0] = "tcp connect"
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: Client(self, request, key, self.protocol == "socketio"),
            self.host,
            self.port,
        )
        stage[0] = "websocket handshake"
        try:
            await client.ready
        except BaseException:
            if client.transport is not None:
                client.transport.abort()
            raise
        return client

    def arm(self, kind: str, expected: int, latency: bool) -> dict[str, t.Any]:
        self._reset(kind, expected, latency)
        for client in self.clients:
            client.count = 0
            client.last_at = 0.0
        return {"armed": time.time(), "clients": len(self.clients)}

    async def wait(self, timeout: float) -> dict[str, t.Any]:
        if self.clients and not self.all_done.is_set():
            try:
                await asyncio.wait_for(self.all_done.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        user, system = self.cpu_at_done if self.all_done.is_set() else _cpu()
        counts = [client.count for client in self.clients]
        last = max((client.last_at for client in self.clients), default=0.0)
        reply: dict[str, t.Any] = {
            "clients": len(self.clients),
            "complete": self.complete,
            "received": sum(counts),
            "armed": self.armed_at,
            "first": self.first or None,
            "last": last or None,
            "cpu_user": user - self.cpu_at_arm[0],
            "cpu_system": system - self.cpu_at_arm[1],
            "lost": self.lost,
        }
        if self.latency:
            reply["samples"] = [round(s * 1e6) for s in self.samples]
        return reply

    async def close(self, timeout: float) -> dict[str, t.Any]:
        for client in self.clients:
            client.close()
        deadline = time.monotonic() + timeout
        while any(not c.closed for c in self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = 0
        for client in self.clients:
            if not client.closed and client.transport is not None:
                left += 1
                client.transport.abort()
        closed = len(self.clients)
        self.clients = []
        self.lost = 0
        return {"closed": closed, "aborted": left}


def _cpu() -> tuple[float, float]:
    """This process's user and system CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


async def serve(url: str, protocol: str) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    gen = Generator(url, protocol)
    while line := await reader.readline():
        command = json.loads(line)
        name = command.pop("cmd")
        if name == "connect":
            reply = await gen.connect(**command)
        elif name == "arm":
            reply = gen.arm(**command)
        elif name == "wait":
            reply = await gen.wait(**command)
        elif name == "close":
            reply = await gen.close(**command)
        elif name == "exit":
            await gen.close(2.0)
            break
        else:
            reply = {"error": f"unknown command {name!r}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main() -> None:
    url, protocol = sys.argv[1], sys.argv[2]
    try:
        import uvloop  # fewer system calls per message than asyncio's own loop
    except ImportError:
        uvloop = None
    if uvloop is not None and os.environ.get("BENCH_LOOP") != "asyncio":
        uvloop.run(serve(url, protocol))
    else:
        asyncio.run(serve(url, protocol))


if __name__ == "__main__":
    main()
