"""The soak: a server under steady churn for a long time, to show that what it
holds stays flat. ``.venv/bin/python benchmarks/soak.py``; see ``README.md``.

For each backend in turn (memory, then Redis with a redis-server of its own on
a free port), the soak app (``servers/soak_app.py``) runs in its own process,
under Werkzeug's threaded server (or gunicorn's gthread worker), with short
lifetimes: ids expire after 2 s, grace periods after 3 s, histories after
10 s. Meanwhile:

- tabs render pages (about 20 a second) that subscribe to 8 of 200 channels;
  most open their socket, live a few seconds and close cleanly (1000) or drop
  (no close frame); a dropped one mostly reconnects with its positions and
  checks that it got what it missed, in order, or a gap frame; some never
  connect, so their ids expire, and some come back too late and must be
  refused (4001);
- one pusher pushes about 50 messages a second to random channels, each
  carrying its channel's sequence number, so that every tab can check order;
- a sampler reads the server's resident memory (VmRSS of its processes), its
  threads, open files, Python objects and the entries of the backend's
  containers, and on Redis the key count and the redis-server's memory.

At the end it prints a summary and exits non-zero if memory or keys grew past
a generous bound, if any message came out of order, was lost or duplicated,
or if anything failed. Only the standard library and the test extra's
packages (websocket-client, redis) are needed, so the test suite can run a
short version (``tests/soak``). All traffic is on 127.0.0.1; every process it
starts is stopped at the end; every wait has a timeout.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import http.cookiejar
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.error
import urllib.request
from urllib.parse import quote

# Run as a script, this file's folder is on sys.path, not the repository's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import websocket  # noqa: E402

from tests.redis_server import free_port  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.support import Closed  # noqa: E402
from tests.support import Socket  # noqa: E402

APP = "benchmarks.servers.soak_app:app"
#: How long any one page request, handshake or reply may take: long, as the
#: machine may be shared.
STEP_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one backend's run does, and the bounds it is judged by."""

    seconds: float
    server: str = "werkzeug"
    pages_per_second: float = 20
    pushes_per_second: float = 50
    channels: int = 200
    channels_per_page: int = 8
    payload_size: int = 60
    connect_timeout: float = 2
    disconnect_grace: float = 3
    history_ttl: float = 10
    ping_interval: float = 10
    #: Tabs alive at once, at most; pages beyond are skipped and counted.
    max_tabs: int = 400
    sample_every: float = 10
    print_every: float = 60
    #: Idle time after the run, before the leftovers are counted (by default
    #: the longest lifetime of anything the backend keeps, plus 2 s).
    drain_seconds: float | None = None
    #: Fitted RSS growth over the second half that fails the run, in MB.
    max_rss_growth_mb: float = 20
    #: A key count (or backend entry count) in the second half above the
    #: first half's maximum times this, plus ``margin``, fails the run.
    growth_factor: float = 1.25
    margin: int = 100
    #: Entries (keys) left after the drain that fail the run.
    max_leftovers: int = 20
    #: Python objects (after ``gc.collect()``, idle) above those at the start
    #: that fail the run.
    max_object_growth: int = 20000
    seed: int = 1

    @property
    def longest_lifetime(self) -> float:
        """The longest anything the backend keeps may live unused: a
        history, a pending id, or the Redis lease of a live socket (grace
        plus two ping intervals), which outlives the socket in Redis's
        indexes."""
        return max(
            self.connect_timeout,
            self.history_ttl,
            self.disconnect_grace + 2 * self.ping_interval,
        )

    @property
    def drain(self) -> float:
        if self.drain_seconds is not None:
            return self.drain_seconds
        return self.longest_lifetime + 2


class Counts:
    """Thread-safe counters: what happened, errors, order violations (a push
    lost, repeated or out of order) and lifetime violations (an id accepted
    after it should have ended)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.violations: collections.Counter[str] = collections.Counter()
        self.lifetimes: collections.Counter[str] = collections.Counter()
        #: A few examples of each kind of violation.
        self.examples: dict[str, list[str]] = collections.defaultdict(list)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.events[name] += n

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind[:160]] += 1

    def violation(self, kind: str, detail: str) -> None:
        with self.lock:
            self.violations[kind] += 1
            if len(self.examples[kind]) < 5:
                self.examples[kind].append(detail)

    def lifetime(self, kind: str, detail: str) -> None:
        with self.lock:
            self.lifetimes[kind] += 1
            if len(self.examples[kind]) < 5:
                self.examples[kind].append(detail)


class Pushes:
    """Each channel's last sequence number handed to a push, and the last
    one the server has acknowledged (pushed)."""

    def __init__(self, names: list[str]) -> None:
        self.lock = threading.Lock()
        self.assigned = dict.fromkeys(names, 0)
        self.acked = dict.fromkeys(names, 0)

    def snapshot(self, which: str, names: t.Iterable[str]) -> dict[str, int]:
        with self.lock:
            table = self.assigned if which == "assigned" else self.acked
            return {name: table[name] for name in names}


class ServerProcess:
    """The soak app in its own process (and session), on a free port."""

    def __init__(self, plan: Plan, backend_url: str, log_path: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if plan.server == "werkzeug":
            command = ["-m", "benchmarks.servers.werkzeug_serve", str(self.port), APP]
        else:
            command = [
                "-m",
                "gunicorn",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                str(2 * plan.max_tabs + 100),
                "--timeout",
                "600",
                "--graceful-timeout",
                "3",
                "--bind",
                f"127.0.0.1:{self.port}",
                APP,
            ]
        env = {
            **os.environ,
            "BENCH_REALTIME_BACKEND": backend_url,
            "SOAK_CONNECT_TIMEOUT": str(plan.connect_timeout),
            "SOAK_DISCONNECT_GRACE": str(plan.disconnect_grace),
            "SOAK_HISTORY_TTL": str(plan.history_ttl),
            "SOAK_PING_INTERVAL": str(plan.ping_interval),
        }
        self.log_path = log_path
        self._log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the soak server did not start: {self.log()}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def log(self, tail: int = 3000) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-tail:]

    def pids(self) -> list[int]:
        """The server and its descendants (gunicorn's worker)."""
        return [self.process.pid, *descendants(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            except ProcessLookupError:
                pass
        self._log.close()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    parents: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # The name is in parentheses and may hold spaces.
                ppid = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents[ppid].append(int(entry))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (in kB), threads and open files of one process; zeros if gone."""
    result = {"rss_kb": 0, "threads": 0, "fds": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name == "VmRSS":
                    result["rss_kb"] = int(value.split()[0])
                elif name == "Threads":
                    result["threads"] = int(value)
        result["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, ValueError):
        pass
    return result


def get_json(url: str, data: t.Any = None) -> t.Any:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=STEP_TIMEOUT) as response:
        return json.loads(response.read())


class Browser:
    """One browser session: its cookies, shared by its tabs."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.cookies = http.cookiejar.CookieJar()  # thread-safe
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self._opener.open(
                self.server_url + path, timeout=STEP_TIMEOUT
            ) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""

    def open_socket(self, query: str) -> Socket:
        """A WebSocket to the app, as the page's script opens it (with the
        session's cookies and the page's origin)."""
        ws = websocket.WebSocket(enable_multithread=True, skip_utf8_validation=True)
        ws.connect(
            f"ws{self.server_url[4:]}/_realtime?{query}",
            cookie="; ".join(f"{c.name}={c.value}" for c in self.cookies),
            origin=self.server_url,
            timeout=STEP_TIMEOUT,
        )
        return Socket(ws)


def connection_id_of(html: str) -> str | None:
    marker = 'data-socket-connection-id="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0]


class Tab:
    """One browser tab: renders a page, then runs its socket's life.

    It checks every push it receives against what it received before on that
    channel: the next sequence number, or any later one after a gap frame.
    """

    def __init__(
        self, soak: Soak, browser: Browser, rng: random.Random, new: bool
    ) -> None:
        self.soak = soak
        self.counts = soak.counts
        self.browser = browser
        self.new_browser = new
        self.rng = rng
        self.channels = rng.sample(soak.channel_names, soak.plan.channels_per_page)
        self.last: dict[str, int] = {}
        #: Channels whose next push may skip ahead: a gap frame came.
        self.jump: set[str] = set()
        self.socket: Socket | None = None
        #: The positions the tab has, kept across its sockets.
        self.positions: dict[str, str] = {}
        self.connection_id = ""
        self.before: dict[str, int] = {}  # acknowledged before the render
        self.rendered: dict[str, int] = {}  # handed out when it was rendered
        self.rendered_at = 0.0
        self.sockets = 0  # how many it opened
        self.replaying = False
        #: Off for a socket that should have been refused: what it receives
        #: (live pushes only, as it sends no positions) proves nothing.
        self.checking = True

    # Frames.

    def violation(self, kind: str, detail: str) -> None:
        """Count an order violation, with what is needed to understand it:
        which socket of the tab, whether in a replay, and the server's
        events for the id."""
        context = (
            f"{detail}; socket {self.sockets} of the tab,"
            f" {'in the replay' if self.replaying else 'live'},"
            f" {time.monotonic() - self.rendered_at:.2f} s after the render;"
            f" server: {describe(self.server_events())}"
        )
        self.counts.violation(kind, context)

    def handle(self, message: t.Any, reply_id: str | None) -> bool:
        """Check one message; True if it is the reply awaited."""
        counts = self.counts
        if "id" in message:
            if "error" in message:
                counts.error(f"error reply: {message['error'].get('code')}")
            return bool(message["id"] == reply_id)
        channel = message.get("channel")
        if not self.checking:
            return False
        if channel not in self.rendered:
            counts.violation("push to a channel not subscribed", repr(message)[:120])
            return False
        if message.get("gap"):
            counts.add("gaps received")
            self.jump.add(channel)
            return False
        seq = int(message["payload"]["s"])
        last = self.last.get(channel)
        where = f"{self.connection_id[:8]} {channel} got {seq} after {last}"
        if last is None:
            if seq <= self.before[channel]:
                where += f", pushed before the render ({self.before[channel]})"
                self.violation("replayed from before the subscription", where)
            elif seq > self.rendered[channel] + 1 and channel not in self.jump:
                where += f", first after the render {self.rendered[channel] + 1}"
                self.violation("missed after the subscription", where)
        elif seq <= last:
            self.violation("duplicate or out of order", where)
        elif seq > last + 1 and channel not in self.jump:
            self.violation("hole without a gap frame", where)
        self.jump.discard(channel)
        self.last[channel] = seq
        counts.add("delivered")
        if self.replaying:
            counts.add("delivered before the first reply")
        return False

    def read(
        self, until: float, reply_id: str | None = None, stoppable: bool = True
    ) -> bool:
        """Read and check frames until ``until``, the reply, or (when
        ``stoppable`` and no reply is awaited) the end of the run; True if the
        reply came. Raises :exc:`Closed` when the server closes."""
        assert self.socket is not None
        stopping = self.soak.stopping
        try:
            while True:
                left = until - time.monotonic()
                if left <= 0 or (stoppable and reply_id is None and stopping.is_set()):
                    return False
                try:
                    message = self.socket.receive(timeout=min(0.5, left))
                except websocket.WebSocketTimeoutException:
                    continue
                if self.handle(message, reply_id):
                    return True
        finally:
            self.positions.update(self.socket.positions)

    def confirm(self, acked: dict[str, int]) -> bool:
        """Send a ping and read until its reply. Everything pushed before the
        socket connected (``acked``) and after what the tab had must have
        come before the reply, or a gap frame for its channel."""
        assert self.socket is not None
        reply_id = f"p{next(self.soak.pings)}"
        self.socket.ws.send(json.dumps({"action": "ping", "id": reply_id}))
        self.replaying = True
        try:
            if not self.read(time.monotonic() + STEP_TIMEOUT, reply_id):
                self.counts.error(f"no reply to a ping within {STEP_TIMEOUT:.0f} s")
                return False
        finally:
            self.replaying = False
        for channel in self.channels if self.checking else ():
            floor = max(self.rendered[channel], self.last.get(channel, 0))
            if acked[channel] <= floor or channel in self.jump:
                continue
            if self.last.get(channel, 0) < acked[channel]:
                self.violation(
                    "replay incomplete",
                    f"{self.connection_id[:8]} {channel}: had"
                    f" {self.last.get(channel)}, {acked[channel]} pushed before"
                    " the socket connected",
                )
        return True

    def connect(self, resume: bool) -> tuple[str, float]:
        """Open the socket (with the positions it has, when it resumes) and
        confirm it. Returns "live", "refused" (4001) or "failed", and when."""
        query = f"socket_connection_id={self.connection_id}"
        if resume:
            query += f"&positions={quote(json.dumps(self.positions))}"
        acked = self.soak.pushes.snapshot("acked", self.channels)
        try:
            self.sockets += 1
            self.socket = self.browser.open_socket(query)
            self.socket.positions.update(self.positions)
            ok = self.confirm(acked)
        except (OSError, websocket.WebSocketException) as e:
            self.socket = None
            self.counts.error(f"handshake: {type(e).__name__}: {e}")
            return "failed", time.monotonic()
        except Closed as closed:
            self.socket = None
            if closed.code == 4001:
                return "refused", time.monotonic()
            self.counts.error(f"closed before the first reply: {closed.code}")
            return "failed", time.monotonic()
        return ("live" if ok else "failed"), time.monotonic()

    def close(self) -> bool:
        """Close cleanly (1000); True if the server answered the close."""
        if self.socket is None:
            return False
        ws, self.socket = self.socket.ws, None
        ws.close(status=1000, timeout=5)  # reads until the server's close
        return ws.close_frame is not None

    def drop(self) -> None:
        """End the connection without a close frame, as a lost network."""
        if self.socket is not None:
            socket_, self.socket = self.socket, None
            try:
                socket_.drop()
            except OSError:
                pass

    def server_events(self) -> list[tuple[float, str]]:
        """What the server recorded of this id, by its clock."""
        try:
            reply = get_json(f"{self.soak.url}/soak/events?id={self.connection_id}")
        except (OSError, ValueError):
            return []
        return [(float(at), str(event)) for at, event in reply["events"]]

    # The life of the tab.

    def run(self, never_connects: bool) -> None:
        try:
            self._run(never_connects)
        except Closed as closed:
            self.counts.error(f"closed by the server with {closed.code} at the end")
        except Exception as e:  # every failure is counted, none ends the soak
            self.counts.error(f"tab: {type(e).__name__}: {e}")
        finally:
            try:
                self.close()
            except Exception as e:
                self.counts.error(f"close: {type(e).__name__}: {e}")

    def _run(self, never_connects: bool) -> None:
        soak, plan, rng, counts = self.soak, self.soak.plan, self.rng, self.counts
        path = "/page?" + "&".join(f"c={channel}" for channel in self.channels)
        self.before = soak.pushes.snapshot("acked", self.channels)
        started = time.monotonic()
        status, html = self.browser.get(path)
        rendered_at = self.rendered_at = time.monotonic()
        self.rendered = soak.pushes.snapshot("assigned", self.channels)
        soak.timing("page", rendered_at - started)
        counts.add("pages rendered")
        connection_id = connection_id_of(html)
        if status != 200 or connection_id is None:
            counts.error(f"page answered {status} without an id")
            return
        self.connection_id = connection_id
        if self.new_browser:
            soak.offer(self.browser)
        if never_connects:
            counts.add("ids never connected")
            if rng.random() < 1 / 3:
                # Come back after the connect timeout: the id must be gone.
                if soak.stopping.wait(plan.connect_timeout + 1.5):
                    return
                outcome, _ = self.connect(resume=False)
                if outcome == "refused":
                    counts.add("expired ids refused")
                elif outcome == "live":
                    counts.lifetime("expired id accepted", self.connection_id[:8])
            return
        outcome, at = self.connect(resume=False)
        if outcome == "refused":
            if at - started < plan.connect_timeout:
                counts.error("a fresh id was refused within the connect timeout")
            else:
                # The machine was slow: the id expired before the socket came.
                counts.add("ids that expired before their socket (slow machine)")
            return
        if outcome != "live":
            return
        soak.timing("socket", at - rendered_at)
        counts.add("sockets opened")
        for cycle in range(3):
            try:
                self.read(time.monotonic() + rng.uniform(2, 6))
            except Closed as closed:
                # As the browser client does: reconnect after these codes.
                counts.add(f"closed by the server while live: {closed.code}")
                if closed.code == 1011:
                    counts.error("closed with 1011 (backend unavailable)")
                self.socket = None
                if closed.code not in (None, 1006, 1011, 1012, 4008, 4029):
                    return
                if not self.resume(time.monotonic(), late=False):
                    return
                continue
            if soak.stopping.is_set():
                self.finish()
                return
            roll = rng.random()
            if cycle == 2 or roll < 0.45:
                if not self.close():
                    counts.error("a clean close got no close frame within 5 s")
                    return
                counts.add("clean closes")
                if roll < 0.045:
                    self.reuse_closed_id()
                return
            self.drop()
            counts.add("drops")
            if roll < 0.55:
                counts.add("drops abandoned")
                return
            if not self.resume(time.monotonic(), late=roll < 0.65):
                return

    def resume(self, dropped_at: float, late: bool) -> bool:
        """Reconnect with the positions after a drop: within the grace
        period, or after it (``late``), when the id must be refused. True if
        the socket is live again."""
        soak, plan, counts = self.soak, self.soak.plan, self.counts
        wait = plan.disconnect_grace + 1.5 if late else self.rng.uniform(0.2, 1.5)
        if soak.stopping.wait(wait):
            return False
        outcome, at = self.connect(resume=True)
        if late:
            if outcome == "refused":
                counts.add("late reconnects refused")
            elif outcome == "live":
                self.judge_late_reconnect()
            return False
        if outcome == "refused":
            if at - dropped_at < plan.disconnect_grace:
                counts.error("a reconnect was refused within the grace period")
            else:
                counts.add("reconnects refused after the grace (slow machine)")
            return False
        if outcome == "live":
            counts.add("reconnects")
        return outcome == "live"

    def judge_late_reconnect(self) -> None:
        """A reconnect after the grace period was accepted: a violation only
        if, by the server's own clock, its upgrade request came longer after
        the server saw the drop than the grace period."""
        events = self.server_events()
        ended = [at for at, event in events if event.startswith("ended")]
        upgrades = [at for at, event in events if event == "upgrade"]
        late = upgrades[-1] - ended[-1] if ended and upgrades else 0.0
        if late > self.soak.plan.disconnect_grace + 0.25:
            self.counts.lifetime(
                "reconnect after the grace accepted",
                f"{self.connection_id[:8]}: {late:.2f} s after the drop;"
                f" server: {describe(events)}",
            )
        else:
            self.counts.add("late reconnects accepted: the server saw the drop late")

    def reuse_closed_id(self) -> None:
        """Right after the server answered the clean close, connect again with
        the same id: it must be refused, as the id ended with the close."""
        self.checking = False
        outcome, _ = self.connect(resume=False)
        if outcome == "refused":
            self.counts.add("closed ids refused")
        elif outcome == "live":
            timed = self.server_events()
            events = [event for _, event in timed]
            # The server had answered the close, but the new socket's upgrade
            # request came before it detached the closed socket (or it has
            # not detached it yet).
            last = {event: i for i, event in enumerate(events)}
            raced = last.get("ended 1000 clean", len(events)) > last.get("upgrade", -1)
            kind = "closed id accepted" + (
                ": reconnected before the close was detached" if raced else ""
            )
            self.counts.lifetime(kind, f"{self.connection_id[:8]}: {describe(timed)}")

    def finish(self) -> None:
        """At the end of the run: read until the pushes are over, then check
        that the last push of each channel arrived."""
        soak = self.soak
        deadline = time.monotonic() + 60
        while not soak.final_check.wait(0) and time.monotonic() < deadline:
            self.read(min(deadline, time.monotonic() + 0.5), stoppable=False)
        if not soak.final_check.is_set():
            return
        soak.counts.add("live at the end")
        for channel in self.channels:
            final = soak.pushes.acked[channel]
            if final <= self.rendered[channel] or channel in self.jump:
                continue
            if self.last.get(channel, 0) != final:
                self.violation(
                    "missing at the end",
                    f"{self.connection_id[:8]} {channel}: last"
                    f" {self.last.get(channel)} of {final}",
                )


class Soak:
    """One backend's run."""

    def __init__(self, plan: Plan, backend: str, log_dir: str, say: t.Any) -> None:
        self.plan = plan
        self.backend = backend
        self.log_dir = log_dir
        self.say = say
        self.rng = random.Random(f"{plan.seed}-{backend}")
        self.channel_names = [f"c{i:03d}" for i in range(plan.channels)]
        self.counts = Counts()
        self.pushes = Pushes(self.channel_names)
        self.stopping = threading.Event()
        self.final_check = threading.Event()
        self.pings = itertools.count()
        self.tabs: list[threading.Thread] = []
        self.samples: list[dict[str, t.Any]] = []
        self.redis: RedisServer | None = None
        self.server: ServerProcess | None = None
        self.url = ""
        self.started = 0.0
        self.timings: dict[str, list[float]] = {"page": [], "socket": []}
        #: Browser sessions that other tabs may open pages in.
        self.browsers: list[Browser] = []
        self.browsers_lock = threading.Lock()

    # Processes.

    def start(self) -> None:
        url = "memory://"
        if self.backend == "redis":
            self.redis = RedisServer()
            url = self.redis.url
            self._note_pid(self.redis.pid)
        log = os.path.join(self.log_dir, f"server-{self.backend}.log")
        self.server = ServerProcess(self.plan, url, log)
        self.url = self.server.url
        self._note_pid(self.server.process.pid)

    def _note_pid(self, pid: int) -> None:
        # For whoever must clean up after a soak that was killed outright.
        with open(os.path.join(self.log_dir, "pids"), "a") as f:
            f.write(f"{pid}\n")

    def stop(self) -> None:
        self.stopping.set()
        self.final_check.set()
        if self.server is not None:
            self.server.stop()
        if self.redis is not None:
            try:
                self.redis.stop()
            except subprocess.TimeoutExpired:
                os.kill(self.redis.pid, signal.SIGKILL)

    # Measuring.

    def offer(self, browser: Browser) -> None:
        """Let later tabs use a browser session, once its first page has
        set its cookie (two first pages at once would each start a session,
        and the cookie of one would refuse the other's socket)."""
        with self.browsers_lock:
            if len(self.browsers) < 50:
                self.browsers.append(browser)
            else:
                self.browsers[self.rng.randrange(50)] = browser

    def timing(self, name: str, seconds: float) -> None:
        self.timings[name].append(seconds)  # list.append is atomic

    def sample(self, query: str = "") -> dict[str, t.Any]:
        """One reading of the server; ``query`` goes to its stats route
        (``types=1``, ``collect=1``)."""
        assert self.server is not None
        sample: dict[str, t.Any] = {"t": round(time.monotonic() - self.started, 1)}
        statuses = [proc_status(pid) for pid in self.server.pids()]
        sample["rss_mb"] = sum(s["rss_kb"] for s in statuses) / 1024
        sample["threads"] = sum(s["threads"] for s in statuses)
        sample["fds"] = sum(s["fds"] for s in statuses)
        try:
            stats = get_json(f"{self.server.url}/soak/stats?{query}")
            sample["objects"] = stats["objects"]
            if "types" in stats:
                sample["types"] = stats["types"]
            sample["containers"] = stats["containers"]
            sample["entries"] = sum(stats["containers"].values())
        except (OSError, ValueError) as e:
            self.counts.error(f"stats: {type(e).__name__}: {e}")
        if self.redis is not None:
            try:
                client = self.redis.client()
                sample["keys"] = int(client.dbsize())
                used = client.info("memory")["used_memory"]
                sample["redis_used_mb"] = int(used) / 2**20
                client.close()
            except Exception as e:  # redis.RedisError, OSError
                self.counts.error(f"redis: {type(e).__name__}: {e}")
            sample["redis_rss_mb"] = proc_status(self.redis.pid)["rss_kb"] / 1024
        with self.counts.lock:
            sample["pages"] = self.counts.events["pages rendered"]
            sample["delivered"] = self.counts.events["delivered"]
        with self.pushes.lock:
            sample["pushed"] = sum(self.pushes.acked.values())
        sample["tabs"] = self.live_tabs
        return sample

    def report(self, sample: dict[str, t.Any]) -> None:
        line = (
            f"  {sample['t']:7.0f} s  RSS {sample['rss_mb']:6.1f} MB"
            f"  threads {sample['threads']:4d}  fds {sample['fds']:4d}"
            f"  objects {sample.get('objects', 0):7d}"
            f"  entries {sample.get('entries', 0):5d}"
        )
        if "keys" in sample:
            line += (
                f"  keys {sample['keys']:5d}"
                f"  redis RSS {sample['redis_rss_mb']:5.1f} MB"
            )
        line += (
            f"  | tabs {sample['tabs']:3d}  pages {sample['pages']}"
            f"  pushed {sample['pushed']}  delivered {sample['delivered']}"
        )
        self.say(line)

    def sampler(self) -> None:
        next_print = self.plan.print_every
        while not self.stopping.wait(self.plan.sample_every):
            due = time.monotonic() - self.started >= next_print - 0.5
            sample = self.sample("types=1" if due else "")
            self.samples.append(sample)
            if due:
                self.report(sample)
                next_print += self.plan.print_every

    # Load.

    def pusher(self) -> None:
        plan, counts, pushes = self.plan, self.counts, self.pushes
        interval = 0.1
        owed = 0.0
        rng = random.Random(self.rng.random())
        next_at = time.monotonic()
        url = self.server.url + "/soak/push" if self.server else ""
        while not self.stopping.wait(max(0.0, next_at - time.monotonic())):
            next_at += interval
            if time.monotonic() - next_at > 1.0:
                counts.add("push batches late by over 1 s")
                next_at = time.monotonic()
            owed += plan.pushes_per_second * interval
            n, owed = int(owed), owed - int(owed)
            batch = []
            with pushes.lock:
                for name in rng.choices(self.channel_names, k=n):
                    pushes.assigned[name] += 1
                    batch.append([name, pushes.assigned[name]])
            try:
                get_json(url, {"pushes": batch, "size": plan.payload_size})
            except (OSError, ValueError) as e:
                counts.error(f"push: {type(e).__name__}: {e}")
                continue
            with pushes.lock:
                for name, seq in batch:
                    pushes.acked[name] = max(pushes.acked[name], seq)
            counts.add("pushed", len(batch))

    @property
    def live_tabs(self) -> int:
        return sum(thread.is_alive() for thread in self.tabs)

    def run(self) -> dict[str, t.Any]:
        plan = self.plan
        self.start()
        assert self.server is not None
        self.say(
            f"== {self.backend}: {plan.seconds / 60:.1f} min under {plan.server},"
            f" server pid {self.server.process.pid}, log {self.server.log_path}"
        )
        self.started = time.monotonic()
        self.samples.append(self.sample("types=1"))
        self.report(self.samples[-1])
        helpers = [
            threading.Thread(target=self.sampler, name="sampler", daemon=True),
            threading.Thread(target=self.pusher, name="pusher", daemon=True),
        ]
        for helper in helpers:
            helper.start()
        end = self.started + plan.seconds
        next_page = self.started
        while (now := time.monotonic()) < end:
            if next_page > now:
                time.sleep(min(next_page, end) - now)
                continue
            next_page += 1 / plan.pages_per_second
            if now - next_page > 1.0:
                self.counts.add("pages late by over 1 s")
                next_page = now
            self.tabs = [tab for tab in self.tabs if tab.is_alive()]
            if len(self.tabs) >= plan.max_tabs:
                self.counts.add("pages skipped: too many tabs")
                continue
            # Half the tabs open in a browser session seen before.
            with self.browsers_lock:
                if self.browsers and self.rng.random() < 0.5:
                    browser, new = self.rng.choice(self.browsers), False
                else:
                    browser, new = Browser(self.url), True
            tab = Tab(self, browser, random.Random(self.rng.random()), new)
            never = self.rng.random() < 0.1
            thread = threading.Thread(target=tab.run, args=(never,), daemon=True)
            thread.start()
            self.tabs.append(thread)
        self.samples.append(self.sample("types=1"))
        self.report(self.samples[-1])
        # The end: no more churn or pushes; the tabs still live read what is
        # on its way, then check that the last push of each channel came.
        self.stopping.set()
        for helper in helpers:
            helper.join(STEP_TIMEOUT + 5)
        time.sleep(3)
        self.final_check.set()
        deadline = time.monotonic() + 2 * STEP_TIMEOUT + 10
        for tab in self.tabs:
            tab.join(max(0.1, deadline - time.monotonic()))
        if any(tab.is_alive() for tab in self.tabs):
            self.counts.error("tabs still running long after the end")
        after = self.drain()
        return self.summary(after)

    def drain(self) -> dict[str, t.Any]:
        """Idle until every id, grace and history has expired, then let one
        page, socket and push through (which sweeps what the memory backend
        sweeps lazily) and count what is left."""
        assert self.server is not None
        self.say(f"  idle for {self.plan.drain:.0f} s, then leftovers")
        time.sleep(self.plan.drain)
        browser = Browser(self.url)
        try:
            _, html = browser.get("/page?c=drain")
            query = f"socket_connection_id={connection_id_of(html)}"
            socket_ = browser.open_socket(query)
            assert socket_.request("ping")["body"] == "pong"
            get_json(self.url + "/soak/push", {"pushes": [["drain", 1]]})
            assert socket_.receive()["payload"]["s"] == 1
            socket_.close(1000)
        except (OSError, ValueError, AssertionError, Closed) as e:
            self.counts.error(f"drain: {type(e).__name__}: {e}")
        time.sleep(0.5)
        after = self.sample()
        # The app's own record of ids (a list each, 2,000 at most) would
        # count among the objects left.
        get_json(f"{self.url}/soak/events?clear=1")
        collected = self.sample("collect=1&types=1")
        after["objects_after_collect"] = collected.get("objects")
        after["types"] = collected.get("types", {})
        if self.redis is not None:
            client = self.redis.client()
            kinds: collections.Counter[str] = collections.Counter()
            persistent: collections.Counter[str] = collections.Counter()
            longest = 0
            for key in client.scan_iter(count=1000):
                kind = key.decode(errors="replace").split(":")[1]
                kinds[kind] += 1
                ttl = client.pttl(key)
                if ttl == -1:
                    persistent[kind] += 1
                longest = max(longest, ttl)
            client.close()
            after["longest_ttl_s"] = longest / 1000
            # DBSIZE also counts keys that have expired but that Redis has
            # not reclaimed yet; SCAN skips them.
            after["dbsize"] = after.get("keys")
            after["keys"] = sum(kinds.values())
            after["key_kinds"] = dict(kinds)
            after["persistent_keys"] = dict(persistent)
        return after

    # The verdict.

    def summary(self, after: dict[str, t.Any]) -> dict[str, t.Any]:
        plan, counts = self.plan, self.counts
        assert self.server is not None
        samples = self.samples
        half = plan.seconds / 2
        first = [s for s in samples if s["t"] < half]
        second = [s for s in samples if s["t"] >= half]

        def series(name: str) -> dict[str, t.Any]:
            values = [s[name] for s in samples if name in s]
            early = [s[name] for s in first if name in s]
            late = [s[name] for s in second if name in s]
            return {
                "start": values[0] if values else None,
                "first_half_max": max(early, default=None),
                "second_half_max": max(late, default=None),
                "max": max(values, default=None),
                "end": values[-1] if values else None,
                "after_idle": after.get(name),
            }

        rss = series("rss_mb")
        rss["quarter_medians"] = quarter_medians(samples, "rss_mb", plan.seconds)
        slope = fit_slope([(s["t"], s["rss_mb"]) for s in second])
        rss["slope_mb_per_10_min"] = slope * 600
        rss["second_half_growth_mb"] = slope * (plan.seconds - half)
        result: dict[str, t.Any] = {
            "backend": self.backend,
            "server": plan.server,
            "plan": dataclasses.asdict(plan),
            "rss_mb": rss,
            "threads": series("threads"),
            "fds": series("fds"),
            "objects": series("objects"),
            "entries": series("entries"),
            "containers_end": samples[-1].get("containers", {}),
            "containers_after_idle": after.get("containers", {}),
            "objects_after_idle_collected": after.get("objects_after_collect"),
        }
        typed = [s for s in samples if "types" in s]
        middle = min(typed, key=lambda s: abs(s["t"] - half), default=None)
        if typed and middle is not None:
            result["object_types"] = {
                "second_half_growth": type_growth(middle["types"], typed[-1]["types"]),
                "after_idle_collected_vs_start": type_growth(
                    typed[0]["types"], after.get("types", {})
                ),
            }
        if self.redis is not None:
            result["keys"] = series("keys")
            result["keys"]["quarter_medians"] = quarter_medians(
                samples, "keys", plan.seconds
            )
            result["keys"]["kinds_after_idle"] = after.get("key_kinds", {})
            result["keys"]["persistent_after_idle"] = after.get("persistent_keys", {})
            result["keys"]["longest_ttl_after_idle_s"] = after.get("longest_ttl_s")
            result["redis_rss_mb"] = series("redis_rss_mb")
            result["redis_used_mb"] = series("redis_used_mb")
        lines = self.server.log(tail=10**8).splitlines()
        result["server_log"] = {
            "lines": len(lines),
            "tracebacks": sum(line.startswith("Traceback") for line in lines),
            "first_lines": lines[:10],
        }
        if result["server_log"]["tracebacks"]:
            counts.error("tracebacks in the server log")
        result["counts"] = dict(sorted(counts.events.items()))
        result["timings_ms"] = {
            name: quantiles(values) for name, values in self.timings.items()
        }
        result["pushed"] = counts.events["pushed"]
        result["delivered"] = counts.events["delivered"]
        result["violations"] = dict(counts.violations)
        result["lifetime_violations"] = dict(counts.lifetimes)
        result["violation_examples"] = [
            f"{kind}: {example}"
            for kind, examples in counts.examples.items()
            for example in examples
        ]
        result["errors"] = dict(counts.errors)
        result["samples"] = samples
        result["failures"] = self.failures(result)
        return result

    def failures(self, result: dict[str, t.Any]) -> list[str]:
        plan = self.plan
        failures = []
        growth = result["rss_mb"]["second_half_growth_mb"]
        if growth > plan.max_rss_growth_mb:
            failures.append(
                f"RSS grew {growth:.1f} MB over the second half (fitted;"
                f" bound {plan.max_rss_growth_mb} MB)"
            )
        for name, label in (("entries", "backend entries"), ("keys", "Redis keys")):
            if name not in result or result[name]["first_half_max"] is None:
                continue
            series = result[name]
            bound = series["first_half_max"] * plan.growth_factor + plan.margin
            if (series["second_half_max"] or 0) > bound:
                failures.append(
                    f"{label} reached {series['second_half_max']} in the second"
                    f" half, above {bound:.0f} (first half's max"
                    f" {series['first_half_max']} x {plan.growth_factor}"
                    f" + {plan.margin})"
                )
            left = series["after_idle"]
            # Redis keeps what expires within the longest lifetime; a shorter
            # drain (the quick run) judges those by their expiry instead.
            judged = name == "entries" or plan.drain >= plan.longest_lifetime + 2
            if judged and left is not None and left > plan.max_leftovers:
                failures.append(
                    f"{label} left after {plan.drain:.0f} s idle: {left}"
                    f" (bound {plan.max_leftovers})"
                )
        keys = result.get("keys", {})
        if keys.get("persistent_after_idle"):
            failures.append(
                "Redis keys without expiry left after idle:"
                f" {keys['persistent_after_idle']}"
            )
        longest = keys.get("longest_ttl_after_idle_s") or 0
        if longest > plan.longest_lifetime + 5:
            failures.append(
                f"a Redis key left after idle expires in {longest:.0f} s, later"
                f" than the longest lifetime ({plan.longest_lifetime:.0f} s)"
            )
        start, after = (
            result["objects"]["start"],
            result["objects_after_idle_collected"],
        )
        if start is not None and after is not None:
            if after - start > plan.max_object_growth:
                failures.append(
                    f"Python objects after idle and gc.collect(): {after:,}, up"
                    f" {after - start:,} from the start (bound"
                    f" {plan.max_object_growth:,})"
                )
        if result["violations"]:
            failures.append(f"order violations: {result['violations']}")
        if result["lifetime_violations"]:
            failures.append(f"lifetime violations: {result['lifetime_violations']}")
        if result["errors"]:
            failures.append(f"errors: {result['errors']}")
        if not result["pushed"] or not result["delivered"]:
            failures.append("nothing was pushed or delivered")
        return failures


def describe(events: list[tuple[float, str]]) -> str:
    """Server events, in seconds after the first."""
    if not events:
        return "none"
    first = events[0][0]
    return ", ".join(f"{event} +{at - first:.3f}" for at, event in events)


def quarter_medians(
    samples: list[dict[str, t.Any]], name: str, seconds: float
) -> list[float | None]:
    """The median of ``name`` in each quarter of the run: a plateau shows
    as four close figures, a leak as a staircase."""
    medians: list[float | None] = []
    for quarter in range(4):
        values = sorted(
            s[name]
            for s in samples
            if name in s
            and quarter * seconds / 4 <= s["t"] < (quarter + 1) * seconds / 4
        )
        medians.append(values[len(values) // 2] if values else None)
    return medians


def quantiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and max, in milliseconds (reported, never judged)."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50": at(0.5), "p99": at(0.99), "max": round(ordered[-1] * 1000, 1)}


def type_growth(
    before: dict[str, int], after: dict[str, int], top: int = 8
) -> dict[str, int]:
    """The types of object whose count grew most from ``before`` to ``after``."""
    growth = {name: after[name] - before.get(name, 0) for name in after}
    ranked = sorted(growth.items(), key=lambda item: -item[1])
    return {name: n for name, n in ranked[:top] if n > 0}


def fit_slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of y over x (0 with fewer than two points)."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if not var:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def summary_text(result: dict[str, t.Any]) -> str:
    def mm(series: dict[str, t.Any], unit: str = "", digits: int = 0) -> str:
        def f(value: t.Any) -> str:
            return "-" if value is None else f"{value:,.{digits}f}{unit}"

        return (
            f"start {f(series['start'])}, max {f(series['max'])}"
            f" (first half {f(series['first_half_max'])}), end {f(series['end'])},"
            f" after idle {f(series['after_idle'])}"
        )

    rss = result["rss_mb"]
    counts = result["counts"]
    lines = [
        f"== {result['backend']}: summary ({result['plan']['seconds'] / 60:.1f} min,"
        f" {result['server']})",
        f"  server RSS: {mm(rss, ' MB', 1)}",
        f"  RSS slope over the second half: {rss['slope_mb_per_10_min']:+.2f} MB"
        f" per 10 min (fitted growth {rss['second_half_growth_mb']:+.1f} MB,"
        f" bound {result['plan']['max_rss_growth_mb']} MB); medians by quarter:"
        f" {', '.join(f'{m:.1f}' for m in rss['quarter_medians'] if m is not None)}"
        " MB",
        f"  threads: {mm(result['threads'])}",
        f"  open files: {mm(result['fds'])}",
        f"  Python objects: {mm(result['objects'])},"
        f" {result['objects_after_idle_collected']} after idle and gc.collect()",
        f"  backend entries: {mm(result['entries'])}",
    ]
    if "keys" in result:
        lines += [
            f"  Redis keys: {mm(result['keys'])}; medians by quarter:"
            f" {', '.join(str(m) for m in result['keys']['quarter_medians'])};"
            f" left after idle {result['keys']['kinds_after_idle']}, the last"
            f" expiring in {result['keys']['longest_ttl_after_idle_s']} s",
            f"  redis-server RSS: {mm(result['redis_rss_mb'], ' MB', 1)}",
            f"  Redis used_memory: {mm(result['redis_used_mb'], ' MB', 1)}",
        ]
    for name, growth in result.get("object_types", {}).items():
        lines.append(f"  object types, {name.replace('_', ' ')}: {growth}")
    lines += [
        "  containers at the end: "
        + ", ".join(f"{k} {v}" for k, v in result["containers_end"].items()),
        "  containers after idle: "
        + ", ".join(f"{k} {v}" for k, v in result["containers_after_idle"].items()),
        "  " + ", ".join(f"{name} {value:,}" for name, value in counts.items()),
        f"  pushed {result['pushed']:,}, delivered {result['delivered']:,}",
        f"  ms to render a page {result['timings_ms']['page']}, from the page to"
        f" a live socket {result['timings_ms']['socket']}",
        f"  server log: {result['server_log']['lines']} lines,"
        f" {result['server_log']['tracebacks']} tracebacks",
        f"  order violations: {sum(result['violations'].values())}"
        f" {result['violations'] or ''}",
        f"  lifetime violations: {sum(result['lifetime_violations'].values())}"
        f" {result['lifetime_violations'] or ''}",
    ]
    lines += [f"    {line}" for line in result["server_log"]["first_lines"]]
    lines += [f"    {example}" for example in result["violation_examples"]]
    lines.append(f"  errors: {sum(result['errors'].values())} {result['errors'] or ''}")
    if result["failures"]:
        lines.append("  FAIL: " + "; ".join(result["failures"]))
    else:
        lines.append("  PASS: flat, in order, no errors")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes", type=float, default=30.0, help="per backend (default 30)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="25 s per backend (the test suite's)"
    )
    parser.add_argument(
        "--backend", choices=("memory", "redis", "both"), default="both"
    )
    parser.add_argument("--server", choices=("werkzeug", "gthread"), default="werkzeug")
    parser.add_argument("--print-every", type=float, help="seconds between lines")
    parser.add_argument(
        "--max-rss-growth",
        type=float,
        help="MB over the second half that fail the run (20; --quick 30)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-dir", help="server logs, pids, the JSON (a tmp dir)")
    parser.add_argument("--json", help="where to write the results as JSON")
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> Plan:
    seconds = 25.0 if args.quick else args.minutes * 60
    plan = Plan(
        seconds=seconds,
        server=args.server,
        sample_every=min(10.0, max(1.0, seconds / 120)),
        print_every=args.print_every or min(60.0, max(5.0, seconds / 10)),
        seed=args.seed,
    )
    if args.quick:
        # 25 s is mostly warm-up: the garbage of ended sockets waits for the
        # collector's rare full pass, so RSS still climbs. Leftover keys are
        # judged by their expiry rather than waited for.
        plan = dataclasses.replace(plan, max_rss_growth_mb=30, drain_seconds=12)
    if args.max_rss_growth is not None:
        plan = dataclasses.replace(plan, max_rss_growth_mb=args.max_rss_growth)
    return plan


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = make_plan(args)
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="flask-realtime-soak-")
    os.makedirs(log_dir, exist_ok=True)
    output = args.json or os.path.join(log_dir, "soak.json")

    def say(text: str) -> None:
        print(text, flush=True)

    def terminate(signum: int, frame: t.Any) -> None:
        raise SystemExit(128 + signum)  # runs the finally blocks below

    signal.signal(signal.SIGTERM, terminate)
    backends = ["memory", "redis"] if args.backend == "both" else [args.backend]
    say(
        f"soak: {', '.join(backends)}, {plan.seconds / 60:.1f} min each;"
        f" logs in {log_dir}"
    )
    document: dict[str, t.Any] = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_library_changes": _git(
            "status", "--porcelain", "--", "flask_realtime"
        ).splitlines(),
        "cores": os.cpu_count(),
        "results": {},
    }
    failed = False
    for backend in backends:
        soak = Soak(plan, backend, log_dir, say)
        try:
            result = soak.run()
        finally:
            soak.stop()
        document["results"][backend] = result
        with open(output, "w") as f:
            json.dump(document, f, indent=1)
        say(summary_text(result))
        failed = failed or bool(result["failures"])
    say(f"results in {output}")
    return 1 if failed else 0


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
