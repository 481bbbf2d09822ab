"""The server and generator processes: start, measure, command, stop.

Every wait here has a timeout, and every process is started in its own
session so that stopping it also stops what it started (gunicorn's worker).
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
import urllib.request

import psutil

from tests.redis_server import RedisServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Target:
    """One library under one server."""

    name: str
    #: How a client connects: "realtime", "socketio" or "naive" (a bare
    #: WebSocket at ``/ws``: the naive loop and the measuring stick).
    protocol: str
    #: The WSGI application, as module:attribute.
    app: str
    #: "werkzeug" (threaded, as ``app.run()``), or a gunicorn worker class,
    #: "gthread" or "gevent", with one worker.
    server: str
    env: tuple[tuple[str, str], ...] = ()
    #: Whether the app runs on the Redis backend, with a redis-server of its
    #: own that the run starts beside it.
    redis: bool = False
    #: gunicorn worker processes. With more than one, the clients spread over
    #: them as the kernel hands out connections, and each push reaches every
    #: worker through Redis.
    workers: int = 1
    #: Run only when ``--targets`` names it, not in a whole run.
    on_request: bool = False


TARGETS = (
    Target(
        "flask-realtime-threaded",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "werkzeug",
    ),
    Target(
        "flask-realtime-gevent",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "gevent",
    ),
    # The threaded server for production: gunicorn's gthread worker.
    Target(
        "flask-realtime-gthread",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "gthread",
    ),
    # The same, on the Redis backend: each push goes through Redis and back.
    Target(
        "flask-realtime-redis-threaded",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "werkzeug",
        redis=True,
    ),
    Target(
        "flask-realtime-redis-gevent",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "gevent",
        redis=True,
    ),
    # Two workers on Redis against one: what a push costs per delivered
    # message once every process hears it (issue 14's "many workers").
    Target(
        "flask-realtime-redis-gevent-2w",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "gevent",
        redis=True,
        workers=2,
        on_request=True,
    ),
    Target(
        "flask-realtime-redis-gthread",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "gthread",
        redis=True,
        on_request=True,
    ),
    Target(
        "flask-realtime-redis-gthread-2w",
        "realtime",
        "benchmarks.servers.realtime_app:app",
        "gthread",
        redis=True,
        workers=2,
        on_request=True,
    ),
    Target(
        "socketio-threading",
        "socketio",
        "benchmarks.servers.socketio_app:app",
        "werkzeug",
        (("BENCH_ASYNC_MODE", "threading"),),
    ),
    Target(
        "socketio-gevent",
        "socketio",
        "benchmarks.servers.socketio_app:app",
        "gevent",
        (("BENCH_ASYNC_MODE", "gevent"),),
    ),
    Target(
        "naive-threaded",
        "naive",
        "benchmarks.servers.naive_app:app",
        "werkzeug",
    ),
    Target(
        "naive-gevent",
        "naive",
        "benchmarks.servers.naive_app:app",
        "gevent",
    ),
    # The measuring stick: one frame per push, one sendall per subscriber.
    # Its clients connect as the naive loop's do.
    Target(
        "stick-threaded",
        "naive",
        "benchmarks.servers.stick_app:app",
        "werkzeug",
    ),
    Target(
        "stick-gevent",
        "naive",
        "benchmarks.servers.stick_app:app",
        "gevent",
    ),
)


#: The gthread worker's pool.
GTHREAD_THREADS = 2500


def cpu_seconds(pids: t.Iterable[int]) -> tuple[float, float]:
    """User and system CPU time so far of processes and their children."""
    user = system = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            user += times.user
            system += times.system
    return user, system


def busy_cores_seconds() -> float:
    """CPU seconds the whole machine has spent busy so far."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def wait_for_quiet(
    own: t.Iterable[int], max_wait: float, threshold: float = 0.2
) -> float:
    """Wait (at most ``max_wait`` s) until processes other than ``own`` use
    less than ``threshold`` of a core; return what they used last."""
    own = list(own)
    deadline = time.monotonic() + max_wait
    while True:
        busy0, mine0 = busy_cores_seconds(), sum(cpu_seconds(own))
        time.sleep(1.0)
        others = busy_cores_seconds() - busy0 - (sum(cpu_seconds(own)) - mine0)
        if others < threshold or time.monotonic() > deadline:
            return max(0.0, others)


def kernel_counters() -> dict[str, int]:
    """TCP counters of the whole machine: segments sent, and connections the
    listen queues had no room for."""
    counters = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        with open(path) as f:
            lines = f.read().splitlines()
        for names, values in zip(lines[::2], lines[1::2], strict=True):
            prefix, _, names = names.partition(":")
            for name, value in zip(names.split(), values.split()[1:], strict=True):
                counters[f"{prefix}.{name}"] = int(value)
    return {
        "tcp_out_segments": counters.get("Tcp.OutSegs", 0),
        "listen_overflows": counters.get("TcpExt.ListenOverflows", 0),
        "listen_drops": counters.get("TcpExt.ListenDrops", 0),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Raise RLIMIT_NOFILE for this process and so for every child it starts
    (as root the hard limit can be raised too)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in (max(wanted, hard), hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
            return limit
        except (ValueError, OSError):
            continue
    return soft


def _stop_group(process: subprocess.Popen[t.Any], grace: float) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass


class Server:
    """A benchmark application served on a free port, in its own process."""

    def __init__(
        self, target: Target, log_path: str, env: dict[str, str] | None = None
    ) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: The redis-server of a Redis target, or None.
        self.redis = RedisServer() if target.redis else None
        env = dict(env or {})
        if self.redis is not None:
            env["BENCH_REALTIME_BACKEND"] = self.redis.url
        if target.server == "werkzeug":
            command = [
                sys.executable,
                "-m",
                "benchmarks.servers.werkzeug_serve",
                str(self.port),
                target.app,
            ]
        else:
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "--worker-class",
                target.server,
                "--workers",
                str(target.workers),
                # gthread: each socket holds a thread of the pool for its
                # life, so the pool covers the storm's 2,000 sockets and the
                # pages rendered meanwhile. gevent ignores it.
                "--threads",
                str(GTHREAD_THREADS),
                # The default of 1,000 would cap every run at 1,000 sockets.
                "--worker-connections",
                "20000",
                # A push loop that holds the hub for long must not get the
                # worker killed for a missed heartbeat.
                "--timeout",
                "600",
                "--graceful-timeout",
                "3",
                "--bind",
                f"127.0.0.1:{self.port}",
                target.app,
            ]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **dict(target.env), **env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_healthy(30)
        self.master = psutil.Process(self.process.pid)
        self.worker = self._find_worker()

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.target.name} did not start: {self.log()}")
            time.sleep(0.1)

    def _find_worker(self) -> psutil.Process:
        """The process that holds the sockets: gunicorn's worker, or the
        Werkzeug server itself."""
        if self.target.server == "werkzeug":
            return self.master
        deadline = time.monotonic() + 10
        while not (children := self.master.children()):
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn started no worker")
            time.sleep(0.05)
        return children[0]

    def log(self, tail: int = 3000) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-tail:]

    def cpu_seconds(self) -> tuple[float, float]:
        """User and system CPU time of the server's processes so far."""
        return cpu_seconds([self.master.pid])

    def rss(self) -> int:
        """Resident memory of the process that holds the sockets, in bytes."""
        return int(self.worker.memory_info().rss)

    def threads(self) -> int:
        return int(self.worker.num_threads())

    def push(
        self,
        n: int,
        size: int,
        kind: str,
        interval: float = 0.0,
        timeout: float = 300,
        **extra: t.Any,
    ) -> dict[str, t.Any]:
        """Have the server push ``n`` messages; returns when it has."""
        query = f"n={n}&size={size}&kind={kind}&interval={interval}"
        query += "".join(f"&{name}={value}" for name, value in extra.items())
        request = urllib.request.Request(f"{self.url}/push?{query}", method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return t.cast(dict[str, t.Any], json.loads(response.read()))

    def get(self, path: str) -> None:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            response.read()

    def redis_cpu_seconds(self) -> float:
        """User and system CPU time of the redis-server so far (0 without)."""
        if self.redis is None:
            return 0.0
        return sum(cpu_seconds([self.redis.pid]))

    def stop(self) -> None:
        _stop_group(self.process, grace=10)
        self._log.close()
        if self.redis is not None:
            self.redis.stop()


class Generators:
    """One or more load generator processes, driven as one.

    Commands go to every process; replies are merged. ``connect`` splits the
    clients between the processes.
    """

    def __init__(self, url: str, protocol: str, processes: int, log_path: str):
        self._log = open(log_path, "ab")  # closed in stop()
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.loadgen", url, protocol],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                text=True,
                start_new_session=True,
            )
            for _ in range(processes)
        ]
        self._replies: list[queue.Queue[str]] = []
        for process in self.processes:
            replies: queue.Queue[str] = queue.Queue()
            threading.Thread(
                target=_read_lines, args=(process.stdout, replies), daemon=True
            ).start()
            self._replies.append(replies)

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _call(self, commands: list[dict[str, t.Any]], timeout: float) -> list[t.Any]:
        for process, command in zip(self.processes, commands, strict=True):
            assert process.stdin is not None
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        deadline = time.monotonic() + timeout
        replies = []
        for process, replies_queue in zip(self.processes, self._replies, strict=True):
            try:
                line = replies_queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"generator {process.pid} did not answer {commands[0]['cmd']!r}"
                    f" within {timeout} s"
                ) from None
            if not line:
                raise RuntimeError(f"generator {process.pid} ended")
            replies.append(json.loads(line))
        return replies

    def call(self, command: dict[str, t.Any], within: float) -> list[t.Any]:
        """Send ``command`` to every process; their replies, in order."""
        return self._call([command] * len(self.processes), within)

    def connect(
        self,
        n: int,
        *,
        concurrency: int,
        timeout: float,
        budget: float,
        storm: bool = False,
    ) -> dict[str, t.Any]:
        count = len(self.processes)
        shares = [n // count + (i < n % count) for i in range(count)]
        commands = [
            {
                "cmd": "connect",
                "n": share,
                "concurrency": max(1, concurrency // count),
                "timeout": timeout,
                "budget": budget,
                "storm": storm,
            }
            for share in shares
        ]
        replies = self._call(commands, budget + timeout + 30)
        errors: dict[str, int] = {}
        for reply in replies:
            for error, times in reply["errors"].items():
                errors[error] = errors.get(error, 0) + times
        return {
            "connected": sum(r["connected"] for r in replies),
            "failed": sum(r["failed"] for r in replies),
            "total": sum(r["total"] for r in replies),
            "errors": errors,
            "seconds": max(r["seconds"] for r in replies),
            "handshake_p50": max(r["handshake_p50"] or 0 for r in replies),
            "handshake_max": max(r["handshake_max"] or 0 for r in replies),
            "deflate": sum(r["deflate"] for r in replies),
        }

    def arm(self, kind: str, expected: int, latency: bool = False) -> None:
        self.call(
            {"cmd": "arm", "kind": kind, "expected": expected, "latency": latency},
            10,
        )

    def wait(self, timeout: float) -> dict[str, t.Any]:
        replies = self.call({"cmd": "wait", "timeout": timeout}, timeout + 30)
        firsts = [r["first"] for r in replies if r["first"]]
        lasts = [r["last"] for r in replies if r["last"]]
        samples: list[int] = []
        for reply in replies:
            samples += reply.get("samples", [])
        return {
            "clients": sum(r["clients"] for r in replies),
            "complete": sum(r["complete"] for r in replies),
            "received": sum(r["received"] for r in replies),
            "first": min(firsts) if firsts else None,
            "last": max(lasts) if lasts else None,
            "cpu_user": [r["cpu_user"] for r in replies],
            "cpu_system": [r["cpu_system"] for r in replies],
            "lost": sum(r["lost"] for r in replies),
            "samples": samples,
        }

    def close(self, timeout: float = 10) -> None:
        self.call({"cmd": "close", "timeout": timeout}, timeout + 10)

    def stop(self) -> None:
        for process in self.processes:
            try:
                assert process.stdin is not None
                process.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
                process.stdin.close()
            except OSError:
                pass
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                _stop_group(process, grace=2)
        self._log.close()


def _read_lines(stream: t.IO[str] | None, into: queue.Queue[str]) -> None:
    assert stream is not None
    for line in stream:
        into.put(line)
    into.put("")
