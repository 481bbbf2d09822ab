"""Redis Sentinel: a master, a replica and three sentinels that the test
starts, and the master killed in the middle of a stream of pushes."""

from __future__ import annotations

import threading
import time

import pytest
import websocket

from flask_realtime.errors import BackendUnavailable

from ..conftest import create_app
from ..conftest import require
from ..redis_server import MISSING
from ..redis_server import SentinelDeployment
from ..support import Browser
from ..support import Closed
from ..support import LiveServer
from ..support import wait_for

pytestmark = pytest.mark.redis

GAP = "gap"


@pytest.fixture
def sentinels(tmp_path):
    try:
        deployment = SentinelDeployment(str(tmp_path))
    except FileNotFoundError:
        require(MISSING)
    try:
        deployment.wait_until_ready()
        yield deployment
    finally:
        deployment.stop()


class PushStream:
    """Pushes ``{"n": 0}``, ``{"n": 1}``... to a channel from a thread, as a
    worker process would, and notes which returned and which raised."""

    def __init__(self, realtime, channel: str) -> None:
        self.realtime = realtime
        self.channel = channel
        self.pushed: list[int] = []
        self.failed: list[int] = []
        self.failed_at: float | None = None
        self.recovered_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            try:
                self.realtime.push({"n": n}, self.channel)
            except BackendUnavailable:
                self.failed.append(n)
                self.failed_at = self.failed_at or time.monotonic()
            else:
                self.pushed.append(n)
                if self.failed and self.recovered_at is None:
                    self.recovered_at = time.monotonic()
            n += 1
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def received(socket, last: int) -> list[int | str]:
    """What a socket got on the channel until push ``last``: numbers, and
    ``GAP`` where the server said messages were missed."""
    got: list[int | str] = []
    while last not in got:
        try:
            message = socket.receive(timeout=20)
        except websocket.WebSocketTimeoutException as e:
            raise AssertionError(f"push {last} did not come; got {got}") from e
        if message.get("gap"):
            got.append(GAP)
        elif "payload" in message:
            got.append(message["payload"]["n"])
    return got


def assert_no_silent_hole(got: list[int | str], pushed: list[int]) -> None:
    """In order, once each, and every push that returned is there unless a
    gap stands where it would be."""
    numbers = [n for n in got if n != GAP]
    assert numbers == sorted(set(numbers)), got
    covered = set(numbers)
    before = -1
    for i, item in enumerate(got):
        if item == GAP:
            after = next((n for n in got[i + 1 :] if n != GAP), float("inf"))
            covered.update(n for n in pushed if before < n < after)
        else:
            before = int(item)
    missing = [n for n in pushed if n <= numbers[-1] and n not in covered]
    assert missing == [], f"pushes lost without a gap: {missing}; got {got}"


@pytest.mark.parametrize("replicas", [1, 0], ids=["wait-for-replica", "no-wait"])
def test_a_failover_in_a_push_stream_loses_nothing_silently(sentinels, replicas):
    url = f"{sentinels.url}?wait_for_replicas={replicas}"
    app = create_app(REALTIME_BACKEND=url)
    worker = create_app(REALTIME_BACKEND=url)
    server = LiveServer(app)
    stream = None
    try:
        browser = Browser(server.url)
        pages = [browser.open("/?channel=feed") for _ in range(3)]
        sockets = [page.connect() for page in pages]
        for socket in sockets:
            socket.request("ping")
        stream = PushStream(worker.extensions["realtime"], "feed")
        wait_for(lambda: len(stream.pushed) >= 50, timeout=30)
        # One page loses its network over the failover, and reconnects with
        # the positions it had once pushes go through again.
        offline = received(sockets[0], stream.pushed[-1])
        sockets[0].drop()
        old_master = sentinels.master_port()
        killed_at = time.monotonic()
        sentinels.master.kill()
        wait_for(lambda: sentinels.master_port() != old_master, timeout=60)
        failed_over_at = time.monotonic()
        if replicas:
            # The new master has no replica to confirm pushes until the old
            # one comes back, as a machine that restarts would, and the
            # sentinels make it the new master's replica.
            sentinels.master.start()
        wait_for(lambda: stream.recovered_at is not None, timeout=60)
        # Once the app reaches the new master too (before, a socket is
        # refused with 1011, and the browser client tries again).
        listener = app.extensions["realtime"].stats
        wait_for(lambda: listener()["listener"]["state"] == "connected", timeout=60)
        sockets[0] = pages[0].reconnect(sockets[0])
        count = len(stream.pushed)
        wait_for(lambda: len(stream.pushed) >= count + 50, timeout=60)
        stream.stop()
        # A last push, once the app's listener is back: every page must get
        # it, after the others or a gap standing for them.
        wait_for(lambda: listener()["listener"]["state"] == "connected", timeout=60)
        last = stream.pushed[-1] + 1
        worker.extensions["realtime"].push({"n": last}, "feed")
        stream.pushed.append(last)
        for i, socket in enumerate(sockets):
            got = received(socket, last)
            assert_no_silent_hole(offline + got if i == 0 else got, stream.pushed)
            # The new master began new epochs: whatever it lacked, a page
            # that resumes from a position of the old one gets a gap.
            assert GAP in got
        assert stream.failed, "the failover went unnoticed"
        print(
            f"\nwait_for_replicas={replicas}: sentinels named a new master"
            f" {failed_over_at - killed_at:.1f} s after the kill; pushes went"
            f" through again after {stream.recovered_at - killed_at:.1f} s;"
            f" {len(stream.failed)} pushes raised BackendUnavailable"
        )
        browser.close_all()
    except Closed as e:
        pytest.fail(f"a page's socket was closed: {e.code} {e.reason}")
    finally:
        if stream is not None:
            stream.stop()
        server.stop()
        app.extensions["realtime"]._state(app).backend.close()
        worker.extensions["realtime"]._state(worker).backend.close()
