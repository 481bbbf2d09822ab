"""Redis Sentinel failover: how long pushes stop when the master dies.

``.venv/bin/python benchmarks/failover.py [--repeats 3]``

Each run starts a master, a replica and three sentinels on loopback
(``tests.redis_server.SentinelDeployment``, ``down-after-milliseconds``
1000), one backend that pushes 100 times a second and one that holds a
subscriber, then kills the master (SIGKILL) and records, from the kill:

- when the sentinels name the new master;
- when a push returns again;
- when the subscriber gets pushes again.

With ``wait_for_replicas=1`` (the default behind Sentinel) a push must
reach a replica, and the new master has none until the old one comes back:
the run restarts it as soon as the sentinels name the new master, as a
machine that reboots would. With ``wait_for_replicas=0`` it stays down.
Every process stops at the end of its run; every wait has a timeout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import typing as t

# Run as a script, this file's folder is on sys.path, not the repository's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from flask_realtime.backends.redis import RedisBackend  # noqa: E402
from flask_realtime.errors import BackendUnavailable  # noqa: E402
from tests.redis_server import SentinelDeployment  # noqa: E402


class Subscriber:
    connection_id = "benchmark"

    def __init__(self) -> None:
        self.frames_at: list[float] = []

    def send_frame(self, frame: bytes) -> None:
        self.frames_at.append(time.monotonic())

    def close(self, code: int, reason: str = "") -> None:
        pass


def backend(url: str) -> RedisBackend:
    return RedisBackend(
        url, prefix="b:", connect_timeout=60, disconnect_grace=60, ping_interval=1
    )


def wait(condition, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def one_run(replicas: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        deployment = SentinelDeployment(folder)
        try:
            deployment.wait_until_ready()
            url = f"{deployment.url}?wait_for_replicas={replicas}"
            pusher, holder = backend(url), backend(url)
            subscriber = Subscriber()
            holder.issue("d")
            holder.subscribe("d", ["feed"])
            holder.attach("d", subscriber)  # type: ignore[arg-type]
            pushed_at: list[float] = []
            stop = threading.Event()

            def push() -> None:
                while not stop.is_set():
                    try:
                        pusher.publish("feed", b'{"channel":"feed","payload":1')
                        pushed_at.append(time.monotonic())
                    except BackendUnavailable:
                        pass
                    time.sleep(0.01)

            def first_after(times: list[float], moment: float) -> float | None:
                return next((x for x in times if x > moment), None)

            thread = threading.Thread(target=push)
            thread.start()
            wait(lambda: subscriber.frames_at)
            old = deployment.master_port()
            killed = time.monotonic()
            deployment.master.kill()
            wait(lambda: deployment.master_port() != old)
            named = time.monotonic()
            if replicas:
                deployment.master.start()
            wait(lambda: first_after(pushed_at, killed))
            back = t.cast(float, first_after(pushed_at, killed))
            # The frame of that push (the push returns once it is published).
            wait(lambda: first_after(subscriber.frames_at, back - 0.01))
            stop.set()
            thread.join(30)
            delivered = t.cast(float, first_after(subscriber.frames_at, back - 0.01))
            result = {
                "new master named (s)": named - killed,
                "pushes return (s)": back - killed,
                "subscriber gets pushes (s)": delivered - killed,
            }
            holder.detach("d", subscriber, forget=True)  # type: ignore[arg-type]
            pusher.close()
            holder.close()
            return result
        finally:
            deployment.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for replicas in (0, 1):
        runs = [one_run(replicas) for _ in range(args.repeats)]
        print(f"wait_for_replicas={replicas}, {args.repeats} runs:")
        for name in runs[0]:
            figures = [run[name] for run in runs]
            print(
                f"  {name:28} median {statistics.median(figures):5.1f}"
                f"  max {max(figures):5.1f}"
            )


if __name__ == "__main__":
    main()
