"""Graceful restarts: how fast a stopping gunicorn worker drains 1,000 sockets.

``.venv/bin/python benchmarks/drain.py`` (see ``benchmarks/README.md``).

For each case (gunicorn ``-k gthread`` or ``-k gevent``, one worker, on the
memory backend or on Redis), one run:

1. starts the server A (and, on Redis, a redis-server of its own and a second
   instance B on another port against the same Redis);
2. opens 1,000 clients on A: each renders ``GET /`` (which subscribes its
   socket to the channel) and opens its socket with the page's cookie;
3. streams pushes (20 a second, one ``POST /push?n=1`` each, through B on
   Redis, through A on memory) until every client has received some;
4. sends SIGTERM to A's gunicorn master (a graceful stop, as a deploy does)
   and records when each client gets its close frame, and with which code
   (a connection that ends without one counts as 1006), and when A's worker
   and master exit;
5. on Redis: each client, once closed, waits a random time within the
   browser client's ``restartWindow`` (5 s) and reconnects to B with its id
   and the last position it has, as the browser client does; the stream
   goes on through B meanwhile. After every client is back, the stream
   stops and each client must have every push B acknowledged: none lost,
   none twice, no gap frame. On memory there is nothing to reconnect to;
   each client must have had every push acknowledged before the SIGTERM
   before its close frame.

``--before`` adds the same cases with the drain switched off inside the
server process (``BENCH_DRAIN=0``: no watcher of the worker, no exit hook),
which is how the server behaved before it drained.

Every process is started in its own session and stopped at the end of its
run (SIGTERM, then SIGKILL); every wait has a timeout; all traffic is on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import dataclasses
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.request
from urllib.parse import quote

# Run as a script, this file's folder is on sys.path, not the repository's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import aiohttp  # noqa: E402
import psutil  # noqa: E402

from benchmarks import loadgen  # noqa: E402
from benchmarks.processes import _stop_group  # noqa: E402
from benchmarks.processes import free_port  # noqa: E402
from benchmarks.processes import GTHREAD_THREADS  # noqa: E402
from benchmarks.processes import raise_open_files_limit  # noqa: E402
from benchmarks.run import machine  # noqa: E402
from benchmarks.servers.common import CHANNEL  # noqa: E402

#: Close code of a connection that ended without a close frame.
DROPPED = 1006
SERVICE_RESTART = 1012
#: gunicorn's own default, stated on the command line so that it shows.
GRACEFUL_TIMEOUT = 30


# The application -----------------------------------------------------------


def create_app() -> t.Any:
    """The benchmark app of ``servers/realtime_app.py`` with two switches,
    for gunicorn's ``'benchmarks.drain:create_app()'``.

    ``BENCH_HISTORY_SIZE``: each channel's history (100 by default) must hold
    every push made while a client is away, up to ``restartWindow`` plus the
    drain; at 20 pushes a second that is 100 and more, so the benchmark sets
    1,000. ``BENCH_DRAIN=0`` switches the drain off in this process, as the
    server was before it drained: the worker's sockets then hold it until
    ``--graceful-timeout``.
    """
    import atexit

    from flask import Flask
    from flask import g

    from benchmarks.servers.common import add_routes
    from benchmarks.servers.common import PAGE
    from flask_realtime import Realtime
    from flask_realtime import shutdown

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="benchmark",
        REALTIME_PING_INTERVAL=3600,
        REALTIME_MAX_BACKLOG=64 * 1024 * 1024,
        REALTIME_MESSAGE_RATE=1e6,
        REALTIME_MESSAGE_BURST=1_000_000,
        REALTIME_CONNECT_TIMEOUT=600,
        REALTIME_HISTORY_SIZE=int(os.environ.get("BENCH_HISTORY_SIZE", "100")),
        REALTIME_BACKEND=os.environ.get("BENCH_REALTIME_BACKEND", "memory://"),
    )
    if os.environ.get("BENCH_DRAIN", "1") == "0":
        shutdown.watch_server = lambda: None  # type: ignore[assignment]
        atexit.unregister(shutdown.drain_all)
    else:
        _trace_drain()
    # Runs before the library's own exit hook (atexit is last in, first out),
    # after the interpreter has joined the threads it waits for.
    atexit.register(_trace, "atexit")
    realtime = Realtime(app)

    @app.get("/")
    def index() -> str:
        g.socket.subscribe(CHANNEL)
        return PAGE

    add_routes(app, lambda message: realtime.push(message, CHANNEL))
    return app


#: What the server writes to its log, and the run reads back, at each step
#: of its stop: "drain-trace <step> <time.time()>".
TRACE = "drain-trace"


def _trace(step: str, at: float | None = None) -> None:
    sys.stderr.write(f"{TRACE} {step} {time.time() if at is None else at:.6f}\n")
    sys.stderr.flush()


def _trace_drain() -> None:
    """Log when the drain starts, when it has asked the last socket to close
    (each socket's own thread or greenlet then writes its close frame), when
    every socket has ended (the backend is released next), when the backend
    is released, and when the drain ends. The library is not changed, only
    its drain and ``Connection.close`` wrapped."""
    import threading

    from flask_realtime.connection import Connection
    from flask_realtime.state import AppState

    drain = AppState.drain
    if getattr(drain, "traced", False):
        return
    draining = threading.local()
    close_connection = Connection.close

    def traced_close(self: Connection, code: int, reason: str = "") -> None:
        close_connection(self, code, reason)
        if getattr(draining, "closes", None) is not None:
            draining.closes.append(time.time())

    def traced(self: AppState, timeout: float = 10.0) -> None:
        _trace("drain-start")
        backend = self.backend
        release = backend.close

        def close() -> None:
            closes = draining.closes
            draining.closes = None
            _trace("closes-asked", closes[-1] if closes else None)
            _trace("sockets-ended")
            release()
            _trace("backend-released")

        backend.close = close  # type: ignore[method-assign]
        draining.closes = []
        try:
            drain(self, timeout)
        finally:
            draining.closes = None
            del backend.close
            _trace("drain-end")

    traced.traced = True  # type: ignore[attr-defined]
    AppState.drain = traced  # type: ignore[method-assign]
    Connection.close = traced_close  # type: ignore[method-assign]


def read_trace(log_path: str, since: float) -> dict[str, float]:
    """Each step in a server's log, in seconds after ``since`` (a
    ``time.time()``); a step seen again is named ``step#2`` (the exit hook
    drains a second time, with nothing left to close)."""
    steps: dict[str, float] = {}
    with open(log_path, "rb") as f:
        for line in f.read().decode(errors="replace").splitlines():
            if line.startswith(TRACE + " "):
                _, step, at = line.split()
                name, n = step, 1
                while name in steps:
                    n += 1
                    name = f"{step}#{n}"
                steps[name] = round(float(at) - since, 3)
    return steps


# The processes -------------------------------------------------------------


class Redis:
    """A redis-server of the run's own, on a free port, in its own session."""

    def __init__(self, log_path: str) -> None:
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not self._pong():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def _pong(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        _stop_group(self.process, grace=10)
        self._log.close()


class Gunicorn:
    """``create_app()`` under gunicorn, one worker, on a free port."""

    def __init__(
        self, worker: str, env: dict[str, str], log_path: str, graceful: int
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # closed in stop()
        self.log_path = log_path
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            worker,
            "--workers",
            "1",
            # As run.py: a gthread socket holds a thread of the pool for its
            # life; gevent ignores --threads.
            "--threads",
            str(GTHREAD_THREADS),
            "--worker-connections",
            "20000",
            "--timeout",
            "600",
            "--graceful-timeout",
            str(graceful),
            "--bind",
            f"127.0.0.1:{self.port}",
            "benchmarks.drain:create_app()",
        ]
        if _gunicorn_has_control_socket():
            # gunicorn 25.1+ listens on one control socket per user by
            # default, which every gunicorn on the machine would share.
            command.insert(-1, "--no-control-socket")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start: {self.log()}")
            time.sleep(0.1)
        master = psutil.Process(self.process.pid)
        children = master.children()
        if not children:
            self.stop()
            raise RuntimeError("gunicorn started no worker")
        self.worker_pid = children[0].pid

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def log(self, tail: int = 3000) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-tail:]

    def stop(self) -> None:
        _stop_group(self.process, grace=10)
        self._log.close()


def _gunicorn_has_control_socket() -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)


def _wait_exit(process: subprocess.Popen[t.Any], timeout: float) -> float | None:
    """When (monotonic) ``process`` exited, or None after ``timeout``."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic()


def _wait_pid_exit(pid: int, timeout: float) -> float | None:
    """When (monotonic) the process ``pid``, not a child of this one, exited:
    a zombie has exited (its parent reaps it later), or None after
    ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        process = psutil.Process(pid)
        while process.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)
    except psutil.NoSuchProcess:
        pass
    return time.monotonic()


# The clients ---------------------------------------------------------------


class Socket(loadgen.Client):
    """The load generator's WebSocket client, telling its page about close
    frames."""

    gen: Page

    def _frame(self, head: int, payload: bytes) -> None:
        if head & 0x0F == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.gen.on_close_frame(self, code)
        super()._frame(head, payload)


class Page:
    """One page: its cookie and connection id, the positions it has, and the
    pushes it received, over its first socket (to A) and its reconnects."""

    def __init__(self, run: Run, cookie: str, connection_id: str) -> None:
        self.run = run
        self.cookie = cookie
        self.connection_id = connection_id
        self.positions: dict[str, str] = {}
        #: Push numbers received, and how many came twice.
        self.seen: set[int] = set()
        self.duplicates = 0
        self.gaps = 0
        self.deflate = 0  # loadgen.Client counts negotiated deflate here
        self.socket: Socket | None = None
        self.first: Socket | None = None
        #: The first socket's end: close code (1006 without a close frame)
        #: and when (monotonic).
        self.close_code: int | None = None
        self.closed_at: float | None = None
        self.reconnected_at: float | None = None
        #: Seconds the successful reconnect took, from its TCP connect to
        #: the end of its handshake.
        self.reconnect_seconds: float | None = None
        self.reconnect_failures: list[str] = []
        #: Close codes of sockets after the first (none expected).
        self.later_closes: list[int] = []

    # Called by the sockets.

    def on_message(self, client: Socket, payload: bytes) -> None:
        try:
            frame = json.loads(payload)
        except ValueError:
            return
        if not isinstance(frame, dict) or frame.get("channel") != CHANNEL:
            return
        if isinstance(frame.get("position"), str):
            self.positions[CHANNEL] = frame["position"]
        if frame.get("gap"):
            self.gaps += 1
            return
        kind = str(frame.get("payload", {}).get("k", ""))
        if kind.startswith("d"):
            number = int(kind[1:])
            if number in self.seen:
                self.duplicates += 1
            self.seen.add(number)

    def on_close_frame(self, client: Socket, code: int) -> None:
        self._ended(client, code)

    def on_lost(self, client: Socket) -> None:
        if client.open:
            self._ended(client, DROPPED)

    def _ended(self, client: Socket, code: int) -> None:
        if client is self.first:
            if self.close_code is None:
                self.close_code = code
                self.closed_at = time.monotonic()
                self.run.first_socket_ended(self)
        elif not getattr(client, "counted_end", False):  # a reconnect's socket
            client.counted_end = True  # type: ignore[attr-defined]
            self.later_closes.append(code)


async def open_socket(
    url: str, page: Page, positions: dict[str, str] | None, timeout: float
) -> Socket:
    """Open ``page``'s socket on the server at ``url``; with ``positions``,
    as a reconnect that asks for what it missed."""
    host, port = url.split("//", 1)[1].split(":")
    query = f"socket_connection_id={page.connection_id}"
    if positions is not None:
        query += "&positions=" + quote(json.dumps(positions, separators=(",", ":")))
    key = base64.b64encode(os.urandom(16))
    lines = [
        f"GET /_realtime?{query} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        f"Origin: http://{host}:{port}",
        f"Cookie: {page.cookie}",
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(
            lambda: Socket(page, request, key, False),  # type: ignore[arg-type]
            host,
            int(port),
        ),
        timeout,
    )
    try:
        await asyncio.wait_for(client.ready, timeout)
    except BaseException:
        if client.transport is not None:
            client.transport.abort()
        raise
    return client


# One run -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    worker: str  # gthread or gevent
    backend: str  # memory or redis
    drain: bool = True

    @property
    def name(self) -> str:
        name = f"{self.worker}-{self.backend}"
        return name if self.drain else name + "-nodrain"


CASES = {
    case.name: case
    for case in (
        Case("gthread", "memory"),
        Case("gevent", "memory"),
        Case("gthread", "redis"),
        Case("gevent", "redis"),
        Case("gthread", "memory", drain=False),
        Case("gevent", "memory", drain=False),
    )
}


class Run:
    """One server A with its clients, stopped once, measured."""

    def __init__(self, case: Case, args: argparse.Namespace, log_dir: str) -> None:
        self.case = case
        self.args = args
        self.log_dir = log_dir
        self.pages: list[Page] = []
        #: (push number, acknowledged, monotonic time of the answer)
        self.pushes: list[tuple[int, bool, float]] = []
        self.push_errors: collections.Counter[str] = collections.Counter()
        self.second_url: str | None = None
        self._reconnects: set[asyncio.Task[None]] = set()

    def first_socket_ended(self, page: Page) -> None:
        if self.second_url is None:
            return
        delay = random.uniform(0, self.args.restart_window)
        task = asyncio.get_running_loop().create_task(self._reconnect(page, delay))
        self._reconnects.add(task)
        task.add_done_callback(self._reconnects.discard)

    async def _reconnect(self, page: Page, delay: float) -> None:
        """As the browser client after a 1012: a random first delay within
        ``restartWindow``, then its backoff (0.5-1 s, 1-2 s ...)."""
        assert self.second_url is not None
        await asyncio.sleep(delay)
        for attempt in range(1, 6):
            started = time.monotonic()
            try:
                page.socket = await open_socket(
                    self.second_url, page, dict(page.positions), 10
                )
            except Exception as e:  # counted, then retried
                page.reconnect_failures.append(f"{type(e).__name__}: {e}"[:100])
                backoff = 0.5 * 2 ** (attempt - 1)
                await asyncio.sleep(random.uniform(backoff / 2, backoff))
                continue
            page.reconnected_at = time.monotonic()
            page.reconnect_seconds = page.reconnected_at - started
            return

    async def _stream(self, url: str, stop: asyncio.Event) -> None:
        """``--rate`` pushes a second, each a ``POST /push?n=1`` numbered in
        its ``k`` (``d<n>``)."""
        # On time whatever each answer takes: up to 10 pushes in flight.
        in_flight = asyncio.Semaphore(10)
        pending: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(force_close=True)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:

            async def push(number: int) -> None:
                query = f"n=1&size=100&kind=d{number}"
                try:
                    async with s.post(f"{url}/push?{query}") as response:
                        await response.read()
                        ok = response.status == 200
                        if not ok:
                            self.push_errors[f"HTTP {response.status}"] += 1
                except Exception as e:  # a stopping server refuses pushes
                    ok = False
                    self.push_errors[type(e).__name__] += 1
                finally:
                    in_flight.release()
                self.pushes.append((number, ok, time.monotonic()))

            started = time.monotonic()
            number = 0
            while not stop.is_set():
                delay = started + number / self.args.rate - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(stop.wait(), delay)
                        break
                    except asyncio.TimeoutError:
                        pass
                await in_flight.acquire()
                task = asyncio.create_task(push(number))
                pending.add(task)
                task.add_done_callback(pending.discard)
                number += 1
            if pending:
                await asyncio.wait(pending, timeout=15)

    async def _connect(self, url: str) -> dict[str, t.Any]:
        errors: collections.Counter[str] = collections.Counter()
        gate = asyncio.Semaphore(50)
        connector = aiohttp.TCPConnector(limit=50)
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=30),
        )

        async def one() -> None:
            async with gate:
                try:
                    async with session.get(url + "/") as response:
                        html = await response.text()
                        cookie = "; ".join(
                            f"{name}={morsel.value}"
                            for name, morsel in response.cookies.items()
                        )
                    match = loadgen._CONNECTION_ID.search(html)
                    if match is None:
                        raise loadgen.HandshakeError("no connection id in the page")
                    page = Page(self, cookie, match.group(1))
                    page.first = page.socket = await open_socket(url, page, None, 30)
                except Exception as e:  # counted
                    errors[f"{type(e).__name__}: {e}"[:100]] += 1
                    return
                self.pages.append(page)

        started = time.monotonic()
        try:
            await asyncio.gather(*(one() for _ in range(self.args.clients)))
        finally:
            await session.close()  # no kept-alive connection to A at the stop
        return {"seconds": time.monotonic() - started, "errors": dict(errors)}

    async def _until(
        self, done: t.Callable[[], bool], timeout: float, step: float = 0.02
    ) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(step)
        return True

    async def measure(self) -> dict[str, t.Any]:
        case, args = self.case, self.args
        env = {
            "BENCH_HISTORY_SIZE": str(args.history),
            "BENCH_DRAIN": "1" if case.drain else "0",
        }
        tag = f"{case.name}-{os.getpid()}-{int(time.time() * 1000)}"
        redis: Redis | None = None
        second: Gunicorn | None = None
        first: Gunicorn | None = None
        stream: asyncio.Task[None] | None = None
        stop_stream = asyncio.Event()
        try:
            if case.backend == "redis":
                redis = Redis(os.path.join(self.log_dir, f"{tag}-redis.log"))
                env["BENCH_REALTIME_BACKEND"] = redis.url
                second = Gunicorn(
                    case.worker,
                    env,
                    os.path.join(self.log_dir, f"{tag}-B.log"),
                    args.graceful_timeout,
                )
                self.second_url = second.url
            else:
                env["BENCH_REALTIME_BACKEND"] = "memory://"
            first = Gunicorn(
                case.worker,
                env,
                os.path.join(self.log_dir, f"{tag}-A.log"),
                args.graceful_timeout,
            )
            connect = await self._connect(first.url)
            pages = self.pages
            if not pages:
                raise RuntimeError(f"no client connected: {connect['errors']}")

            # Pushes through B on Redis (they keep going through the restart),
            # through A itself on memory. Every page has some before the stop.
            stream = asyncio.create_task(
                self._stream(second.url if second else first.url, stop_stream)
            )
            warmed = await self._until(lambda: all(p.seen for p in pages), 30)
            await asyncio.sleep(1.0)
            load = os.getloadavg()[0]

            loop = asyncio.get_running_loop()
            threads = psutil.Process(first.worker_pid).num_threads()
            sigterm_at = time.monotonic()
            sigterm_wall = time.time()
            os.kill(first.process.pid, signal.SIGTERM)
            limit = args.graceful_timeout + 20
            master_exit = loop.run_in_executor(None, _wait_exit, first.process, limit)
            worker_exit = loop.run_in_executor(
                None, _wait_pid_exit, first.worker_pid, limit
            )
            acked_before = {n for n, ok, at in self.pushes if ok and at <= sigterm_at}

            all_ended = await self._until(
                lambda: all(p.closed_at is not None for p in pages), limit
            )
            if second is None:
                stop_stream.set()
            reconnected = True
            if second is not None:
                reconnected = await self._until(
                    lambda: all(
                        p.reconnected_at is not None or len(p.reconnect_failures) >= 5
                        for p in pages
                        if p.closed_at is not None
                    ),
                    args.restart_window + 60,
                )
            master_at = await master_exit
            worker_at = await worker_exit

            if second is not None:
                # A little more through B after the last reconnect, then every
                # page must have every push B acknowledged.
                await asyncio.sleep(1.0)
            stop_stream.set()
            await asyncio.wait_for(stream, 20)
            acked = {n for n, ok, _ in self.pushes if ok}
            expected = acked if second is not None else acked_before
            complete = await self._until(
                lambda: all(expected <= p.seen for p in pages), 30, step=0.2
            )
            last_back = max(
                (p.reconnected_at for p in pages if p.reconnected_at), default=None
            )

            def since(at: float | None) -> float | None:
                return None if at is None else at - sigterm_at

            closes = sorted(p.closed_at - sigterm_at for p in pages if p.closed_at)
            framed = sorted(
                p.closed_at - sigterm_at
                for p in pages
                if p.closed_at and p.close_code != DROPPED
            )
            codes = collections.Counter(str(p.close_code) for p in pages)
            missing = [len(expected - p.seen) for p in pages]
            failures: collections.Counter[str] = collections.Counter()
            for p in pages:
                failures.update(p.reconnect_failures)
            return {
                "case": case.name,
                "worker": case.worker,
                "backend": case.backend,
                "drain": case.drain,
                "clients": args.clients,
                "sockets": len(pages),
                "connect": connect,
                "warmed": warmed,
                "load_average_1m": load,
                "all_ended": all_ended,
                "close_codes": dict(codes),
                "close_frames": sum(p.close_code not in (None, DROPPED) for p in pages),
                "service_restart": codes.get(str(SERVICE_RESTART), 0),
                # SIGTERM to the last close frame, and to the end of the last
                # socket, close frame or not.
                "last_close_frame_s": framed[-1] if framed else None,
                "first_close_frame_s": framed[0] if framed else None,
                "median_close_frame_s": statistics.median(framed) if framed else None,
                "all_closed_s": closes[-1] if closes else None,
                "close_frame_spread_s": _spread(framed),
                "worker_exit_s": since(worker_at),
                "master_exit_s": since(master_at),
                "reconnected": sum(p.reconnected_at is not None for p in pages),
                "all_reconnected": reconnected if second else None,
                "last_reconnect_s": since(last_back),
                "reconnect_failures": dict(failures.most_common(5)),
                "reconnect_handshake_s": _spread(
                    [p.reconnect_seconds for p in pages if p.reconnect_seconds]
                ),
                "later_close_codes": dict(
                    collections.Counter(str(c) for p in pages for c in p.later_closes)
                ),
                "pushes_acked": len(acked),
                "pushes_acked_before_sigterm": len(acked_before),
                "pushes_acked_during_restart": sum(
                    1
                    for _, ok, at in self.pushes
                    if ok and sigterm_at < at <= (last_back or sigterm_at)
                ),
                "push_errors": dict(self.push_errors),
                "expected_per_page": len(expected),
                "complete": complete,
                "lost": sum(missing),
                "pages_with_loss": sum(1 for m in missing if m),
                "duplicates": sum(p.duplicates for p in pages),
                "gaps": sum(p.gaps for p in pages),
                "worker_threads": threads,
                # From the server's log: when its drain started, when its
                # sockets had all ended, when it released the backend, and
                # when the worker's interpreter ran its exit hooks.
                "server_steps_s": read_trace(first.log_path, sigterm_wall),
                "server_log_A": first.log_path,
            }
        finally:
            stop_stream.set()
            if stream is not None and not stream.done():
                try:
                    await asyncio.wait_for(stream, 15)
                except (asyncio.TimeoutError, Exception):
                    stream.cancel()
            for task in list(self._reconnects):
                task.cancel()
            for page in self.pages:
                for client in (page.first, page.socket):
                    if client is not None and client.transport is not None:
                        client.transport.abort()
            for server in (first, second):
                if server is not None:
                    server.stop()
            if redis is not None:
                redis.stop()


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    values = sorted(values)

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(len(values) * q))], 3)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": values[-1]}


# The report ----------------------------------------------------------------


def _median(runs: list[dict[str, t.Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(results: dict[str, list[dict[str, t.Any]]]) -> str:
    header = (
        "case",
        "runs",
        "sockets",
        "1012",
        "other codes",
        "last close s",
        "all ended s",
        "server ended s",
        "worker exit s",
        "master exit s",
        "reconnected",
        "pushes",
        "lost",
        "dup",
        "gaps",
    )
    rows = [header]
    for name, runs in results.items():
        if not runs:
            continue
        others: collections.Counter[str] = collections.Counter()
        for r in runs:
            others.update(
                {c: n for c, n in r["close_codes"].items() if c != str(SERVICE_RESTART)}
            )
        redis = runs[0]["backend"] == "redis"
        rows.append(
            (
                name,
                str(len(runs)),
                "/".join(str(r["sockets"]) for r in runs),
                "/".join(str(r["service_restart"]) for r in runs),
                ", ".join(f"{c}: {n}" for c, n in sorted(others.items())) or "none",
                _seconds(_median(runs, "last_close_frame_s")),
                _seconds(_median(runs, "all_closed_s")),
                _seconds(
                    _median(
                        [{"s": r["server_steps_s"].get("sockets-ended")} for r in runs],
                        "s",
                    )
                ),
                _seconds(_median(runs, "worker_exit_s")),
                _seconds(_median(runs, "master_exit_s")),
                "/".join(str(r["reconnected"]) for r in runs) if redis else "n/a",
                "/".join(str(r["expected_per_page"]) for r in runs),
                "/".join(str(r["lost"]) for r in runs),
                "/".join(str(r["duplicates"]) for r in runs),
                "/".join(str(r["gaps"]) for r in runs),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_cases = [name for name, case in CASES.items() if case.drain]
    parser.add_argument(
        "--cases",
        default=",".join(default_cases),
        help=f"from {','.join(CASES)}",
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="also run the memory cases with the drain switched off",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per case")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="pushes a second")
    parser.add_argument(
        "--restart-window",
        type=float,
        default=5.0,
        help="the browser client's restartWindow, in seconds",
    )
    parser.add_argument("--history", type=int, default=1000, help="history size")
    parser.add_argument(
        "--graceful-timeout", type=int, default=GRACEFUL_TIMEOUT, help="gunicorn's"
    )
    parser.add_argument("--output", help="where to write the results as JSON")
    args = parser.parse_args(argv)
    args.cases = [name for name in args.cases.split(",") if name]
    if args.before:
        args.cases += [
            name for name, c in CASES.items() if not c.drain and name not in args.cases
        ]
    for name in args.cases:
        if name not in CASES:
            parser.error(f"unknown case {name!r}; cases: {', '.join(CASES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_open_files_limit()
    log_dir = tempfile.mkdtemp(prefix="flask-realtime-drain-")
    output = args.output or os.path.join(log_dir, "drain.json")
    print(f"open files limit {limit}; logs in {log_dir}", flush=True)
    results: dict[str, list[dict[str, t.Any]]] = {name: [] for name in args.cases}
    # The machine, the package versions, the commit and any uncommitted
    # change to flask_realtime/, as run.py records them.
    document = {"machine": machine(), "args": vars(args), "results": results}
    failures: list[str] = []
    for repeat in range(args.repeats):
        for name in args.cases:
            run = Run(CASES[name], args, log_dir)
            try:
                result = _run(run.measure())
            except Exception as e:  # reported, the other runs go on
                failures.append(f"{name} run {repeat + 1}: {type(e).__name__}: {e}")
                print(f"{name} run {repeat + 1}: FAILED {failures[-1]}", flush=True)
                continue
            results[name].append(result)
            print(
                f"{name} run {repeat + 1}: {result['sockets']} sockets,"
                f" codes {result['close_codes']}, last close frame"
                f" {_seconds(result['last_close_frame_s'])} s, all ended"
                f" {_seconds(result['all_closed_s'])} s, worker exit"
                f" {_seconds(result['worker_exit_s'])} s, master exit"
                f" {_seconds(result['master_exit_s'])} s, reconnected"
                f" {result['reconnected']}, pushes {result['expected_per_page']},"
                f" lost {result['lost']}, dup {result['duplicates']},"
                f" gaps {result['gaps']}, after the reconnect"
                f" {result['later_close_codes'] or 'no close'}, load"
                f" {result['load_average_1m']:.1f}",
                flush=True,
            )
            with open(output, "w") as f:
                json.dump(document, f, indent=1)
    print()
    print(table(results))
    print(
        "\nSeconds after the SIGTERM to gunicorn's master, medians of the runs;"
        " counts per run (run 1/run 2/...). 'last close': the last close frame"
        " a client received; 'all ended': the last socket to end, close frame or"
        " not; 'server ended': the server's drain saw its last socket end;"
        " 'pushes': the pushes each page had to get; 'lost': pushes missing,"
        " summed over the pages."
    )
    for failure in failures:
        print("FAILED", failure)
    print(f"Results in {output}")
    return 1 if failures else 0


def _run(coroutine: t.Coroutine[t.Any, t.Any, dict[str, t.Any]]) -> dict[str, t.Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    sys.exit(main())
