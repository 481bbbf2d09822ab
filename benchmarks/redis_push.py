"""What one push costs on one Redis and on a Redis Cluster of three masters.

``.venv/bin/python benchmarks/redis_push.py [--pushes 20000] [--repeats 3]``

For each topology, on loopback, with redis-servers this script starts:

- one backend holds a subscriber on 30 channels (on a cluster, spread over
  the three masters by their hash tags);
- another pushes ``--pushes`` messages round robin to them from one thread,
  each push a round trip (the Lua script gives the position, keeps the
  history and publishes);
- it prints pushes per second, the pushing process's CPU per push, and the
  CPU per push of all redis-server processes together.

Each run ends when the subscriber has every push; the median of
``--repeats`` runs is printed. Every process stops at the end of its run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

import psutil

# Run as a script, this file's folder is on sys.path, not the repository's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from flask_realtime.backends.redis import RedisBackend  # noqa: E402
from tests.redis_server import ClusterDeployment  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

CHANNELS = [f"room-{n}" for n in range(30)]


class Subscriber:
    connection_id = "benchmark"

    def __init__(self) -> None:
        self.count = 0
        self.done = threading.Event()
        self.expected = 0

    def send_frame(self, frame: bytes) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()

    def close(self, code: int, reason: str = "") -> None:
        pass


def backend(url: str) -> RedisBackend:
    return RedisBackend(
        url, prefix="b:", connect_timeout=60, disconnect_grace=60, ping_interval=5
    )


def redis_cpu(pids: list[int]) -> float:
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def one_run(url: str, pids: list[int], pushes: int) -> dict[str, float]:
    holder, pusher = backend(url), backend(url)
    subscriber = Subscriber()
    subscriber.expected = pushes
    try:
        holder.issue("d")
        holder.subscribe("d", CHANNELS)
        holder.attach("d", subscriber)  # type: ignore[arg-type]
        head = b'{"channel":"x","payload":' + b"1" * 100
        pusher.publish(CHANNELS[0], head)  # connections and scripts ready
        deadline = time.monotonic() + 10
        while not subscriber.count and time.monotonic() < deadline:
            time.sleep(0.01)
        subscriber.count = 0
        me = psutil.Process()
        cpu0, redis0, start = sum(me.cpu_times()[:2]), redis_cpu(pids), time.monotonic()
        for n in range(pushes):
            pusher.publish(CHANNELS[n % len(CHANNELS)], head)
        subscriber.done.wait(120)
        seconds = time.monotonic() - start
        # The holder's listener runs in this process too: its share of the
        # CPU is the delivery's, not the push's, and is counted with it.
        process_cpu = sum(me.cpu_times()[:2]) - cpu0
        return {
            "pushes/s": pushes / seconds,
            "app CPU us/push (push + delivery)": process_cpu / pushes * 1e6,
            "redis CPU us/push": (redis_cpu(pids) - redis0) / pushes * 1e6,
            "delivered": subscriber.count,
        }
    finally:
        holder.detach("d", subscriber, forget=True)  # type: ignore[arg-type]
        holder.close()
        pusher.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    single = RedisServer()
    folder = tempfile.mkdtemp()
    cluster = ClusterDeployment(folder)
    try:
        cluster_pids = [
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if any(
                str(port) in " ".join(p.info["cmdline"] or []) for port in cluster.ports
            )
            and "redis-server" in " ".join(p.info["cmdline"] or [])
        ]
        runs: dict[str, list[dict[str, float]]] = {"one Redis": [], "cluster of 3": []}
        # Interleaved, so that the machine's noise falls on both alike.
        for _ in range(args.repeats):
            runs["one Redis"].append(one_run(single.url, [single.pid], args.pushes))
            runs["cluster of 3"].append(one_run(cluster.url, cluster_pids, args.pushes))
        for name, results in runs.items():
            print(f"{name}, {args.pushes} pushes, median of {args.repeats}:")
            for key in results[0]:
                value = statistics.median(r[key] for r in results)
                print(f"  {key:36} {value:10.1f}")
    finally:
        single.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
