"""The benchmark phases, run against each target in turn.

For each target there are up to three server processes, each fresh:

1. main: 1,000 subscribers connect; the server's idle memory is read; then
   the fan-out (repeated), the latency run and, with ``--profile``, a fan-out
   with the push loop under cProfile. Then the clients are replaced by as many
   spread over two generator processes, and the fan-out is run again
   (``gencheck``).
2. storm: 2,000 clients connect at once, then one push.
3. capacity (gevent targets): idle connections in steps up to 10,000.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import statistics
import time
import traceback
import typing as t

from .processes import busy_cores_seconds
from .processes import cpu_seconds
from .processes import Generators
from .processes import kernel_counters
from .processes import Server
from .processes import Target
from .processes import wait_for_quiet
from .profiling import summarize

PHASES = ("memory", "fanout", "gencheck", "latency", "storm", "capacity", "profile")
#: What runs without ``--only``; the profile is asked for with ``--profile``.
DEFAULT_PHASES = PHASES[:-1]


@dataclasses.dataclass(frozen=True)
class Config:
    subscribers: int = 1000
    pushes: int = 100
    size: int = 100
    #: The fan-out is repeated and the median reported: one run is short.
    repeats: int = 5
    #: Seconds to wait, before each fan-out and latency run, for other
    #: processes on the machine to go quiet (their CPU use is recorded).
    quiet_wait: float = 5.0
    latency_rate: float = 10.0
    latency_seconds: float = 30.0
    storm: int = 2000
    #: Seconds a storm client has to get its page and complete its handshake.
    storm_timeout: float = 30.0
    capacity_steps: tuple[int, ...] = (1000, 2000, 5000, 10000)
    #: Generator processes for the main session (gencheck uses twice as many).
    generators: int = 1
    profile_pushes: int = 100
    #: REALTIME_WRITE_DELAY of the flask-realtime targets, in milliseconds
    #: (``--write-delay``); the other libraries ignore it.
    write_delay_ms: float = 0.0


QUICK = Config(
    subscribers=200,
    pushes=20,
    repeats=1,
    latency_seconds=5.0,
    storm=300,
    capacity_steps=(500, 1000),
    quiet_wait=2.0,
    profile_pushes=20,
)


class Run:
    """One target's phases, with its logs in ``log_dir``."""

    def __init__(
        self,
        target: Target,
        config: Config,
        phases: t.Collection[str],
        log_dir: str,
        say: t.Callable[[str], None],
    ) -> None:
        self.target = target
        self.config = config
        self.phases = phases
        self.log_dir = log_dir
        self.say = say
        self.results: dict[str, t.Any] = {}

    def run(self) -> dict[str, t.Any]:
        main = {"memory", "fanout", "gencheck", "latency", "profile"}
        if main & set(self.phases):
            self._guarded("main", self._main_session)
        if "storm" in self.phases:
            self._guarded("storm", self._storm)
        if "capacity" in self.phases and self.target.server == "gevent":
            self._guarded("capacity", self._capacity)
        return self.results

    def _guarded(self, name: str, session: t.Callable[[], None]) -> None:
        """A failure is recorded and the next session runs regardless."""
        try:
            session()
        except Exception as e:
            self.say(f"  {name} failed: {type(e).__name__}: {e}")
            self.results.setdefault("errors", {})[name] = traceback.format_exc()

    # Processes

    @property
    def _profile_path(self) -> str:
        return os.path.join(self.log_dir, f"{self.target.name}-fanout.pstats")

    @contextlib.contextmanager
    def _server(self, session: str) -> t.Iterator[Server]:
        log = os.path.join(self.log_dir, f"{self.target.name}-{session}-server.log")
        env = {
            "BENCH_PROFILE_PATH": self._profile_path,
            "BENCH_WRITE_DELAY": str(self.config.write_delay_ms),
        }
        server = Server(self.target, log, env)
        try:
            yield server
        finally:
            server.stop()
        if "Traceback" in server.log(100_000):
            self.say(f"  note: the server logged a traceback, see {log}")

    @contextlib.contextmanager
    def _generators(self, server: Server, processes: int) -> t.Iterator[Generators]:
        log = os.path.join(self.log_dir, f"{self.target.name}-loadgen.log")
        gens = Generators(server.url, self.target.protocol, processes, log)
        try:
            yield gens
        finally:
            gens.stop()

    def _idle_rss(self, server: Server) -> int:
        """RSS before any socket, once the app has served a few requests."""
        for _ in range(3):
            server.get("/health")
        time.sleep(0.5)
        return server.rss()

    def _connect(self, gens: Generators, n: int, **options: t.Any) -> dict[str, t.Any]:
        options = {"concurrency": 50, "timeout": 30, "budget": 120, **options}
        result = gens.connect(n, **options)
        self.say(
            f"  {result['connected']}/{n} connected in {result['seconds']:.1f} s"
            + (f", errors {result['errors']}" if result["errors"] else "")
        )
        return result

    def _warm_up(
        self, server: Server, gens: Generators, kind: str, tries: int = 20
    ) -> dict[str, t.Any]:
        """Push until every client has one message of ``kind``: this proves
        the sockets are live and subscribed (a socket may be registered a
        moment after its handshake completes)."""
        gens.arm(kind, 1)
        for _ in range(tries):
            server.push(1, self.config.size, kind)
            reply = gens.wait(0.5)
            if reply["complete"] == reply["clients"]:
                break
        return reply

    # Sessions

    def _main_session(self) -> None:
        config = self.config
        with self._server("main") as server:
            rss0 = self._idle_rss(server)
            with self._generators(server, config.generators) as gens:
                connect = self._connect(gens, config.subscribers)
                if connect["connected"] < config.subscribers:
                    raise RuntimeError(f"only {connect['connected']} connected")
                warm = self._warm_up(server, gens, "w")
                time.sleep(1.0)
                rss1 = server.rss()
                if "memory" in self.phases:
                    self.results["memory"] = {
                        "rss0_mb": rss0 / 2**20,
                        "rss_idle_mb": rss1 / 2**20,
                        "connections": warm["complete"],
                        "kb_per_idle_conn": (rss1 - rss0) / 1024 / warm["complete"],
                        "threads": server.threads(),
                        "deflate_negotiated": connect["deflate"],
                    }
                if "fanout" in self.phases:
                    self.results["fanout"] = self._fanout(server, gens, "fanout")
                if "latency" in self.phases:
                    self.results["latency"] = self._latency(server, gens)
                if "profile" in self.phases:
                    self.results["profile"] = self._profile(server, gens)
                gens.close()
            if "gencheck" in self.phases:
                with self._generators(server, 2 * config.generators) as gens:
                    self._connect(gens, config.subscribers)
                    self._warm_up(server, gens, "w")
                    self.results["gencheck"] = self._fanout(server, gens, "gencheck")
                    gens.close()

    def _fanout(self, server: Server, gens: Generators, label: str) -> dict[str, t.Any]:
        config = self.config
        runs = []
        for index in range(config.repeats):
            kind = "fghijmnoqr"[index % 10]
            runs.append(self._fanout_once(server, gens, kind, config.pushes))
            run = runs[-1]
            self.say(
                f"  {label}: {run['cpu_us_per_msg']:.2f} us/msg"
                f" ({run['server_system_s'] / run['server_cpu_s'] * 100:.0f}% system),"
                f" {run['msgs_per_s']:,.0f} msgs/s, delivered"
                f" {run['delivered']}/{run['expected']}, push loop"
                f" {run['push_loop_s']:.2f} s + {run['drain_after_loop_s']:.2f} s,"
                f" {run['tcp_segments_per_msg']:.2f} TCP segments/msg,"
                f" generator {run['generator_cpu_pct']:.0f}% of a core,"
                f" others {run['other_processes_cpu_s']:.2f} cpu-s"
            )
        result = dict(runs[len(runs) // 2])  # keys from one run, medians below
        for key in ("cpu_us_per_msg", "msgs_per_s", "generator_cpu_pct"):
            result[key] = statistics.median(run[key] for run in runs)
        result["other_processes_cores"] = statistics.median(
            run["other_processes_cpu_s"] / max(run["seconds"], 1e-6) for run in runs
        )
        result["rss_mb"] = server.rss() / 2**20
        result["generators"] = len(gens.processes)
        result["runs"] = runs
        return result

    def _fanout_once(
        self, server: Server, gens: Generators, kind: str, pushes: int, **query: t.Any
    ) -> dict[str, t.Any]:
        expected = pushes * self.config.subscribers
        own = [server.process.pid, *gens.pids()]
        background = wait_for_quiet(own, max_wait=self.config.quiet_wait)
        gens.arm(kind, pushes)
        busy0, gen0 = busy_cores_seconds(), cpu_seconds(gens.pids())
        kernel0 = kernel_counters()
        user0, system0 = server.cpu_seconds()
        redis0 = server.redis_cpu_seconds()
        push = server.push(pushes, self.config.size, kind, timeout=600, **query)
        reply = gens.wait(timeout=600)
        user1, system1 = server.cpu_seconds()
        redis_cpu = server.redis_cpu_seconds() - redis0
        busy1, gen1 = busy_cores_seconds(), cpu_seconds(gens.pids())
        segments = kernel_counters()["tcp_out_segments"] - kernel0["tcp_out_segments"]
        delivered = reply["received"]
        last = reply["last"] or push["last"]
        seconds = last - push["first"]
        server_cpu = user1 - user0 + system1 - system0
        generator_cpu = [
            user + system
            for user, system in zip(reply["cpu_user"], reply["cpu_system"], strict=True)
        ]
        # The generators' own account, from arming to their last message.
        window = last - (reply["first"] or push["first"])
        others = busy1 - busy0 - server_cpu - (sum(gen1) - sum(gen0))
        return {
            "cpu_us_per_msg": server_cpu / max(1, delivered) * 1e6,
            "msgs_per_s": delivered / seconds if seconds > 0 else 0.0,
            "delivered": delivered,
            "expected": expected,
            "seconds": seconds,
            "server_cpu_s": server_cpu,
            "server_user_s": user1 - user0,
            "server_system_s": system1 - system0,
            # Redis targets: the redis-server's CPU, not counted above.
            "redis_cpu_s": redis_cpu,
            "push_loop_s": push["last"] - push["first"],
            "drain_after_loop_s": last - push["last"],
            # Both directions (data and ACKs) on loopback, whole machine.
            "tcp_segments_per_msg": segments / max(1, delivered),
            "generator_cpu_s": generator_cpu,
            "generator_cpu_pct": 100 * max(generator_cpu) / max(window, 1e-6),
            "other_processes_cores_before": background,
            "other_processes_cpu_s": max(0.0, others),
            "lost": reply["lost"],
        }

    def _latency(self, server: Server, gens: Generators) -> dict[str, t.Any]:
        config = self.config
        pushes = round(config.latency_rate * config.latency_seconds)
        own = [server.process.pid, *gens.pids()]
        background = wait_for_quiet(own, max_wait=config.quiet_wait)
        busy0, own0 = busy_cores_seconds(), sum(cpu_seconds(own))
        gens.arm("l", pushes, latency=True)
        push = server.push(
            pushes,
            config.size,
            "l",
            interval=1 / config.latency_rate,
            timeout=config.latency_seconds * 4 + 60,
        )
        # An overloaded server delivers late: give it time to catch up.
        reply = gens.wait(timeout=config.latency_seconds * 2 + 30)
        others = busy_cores_seconds() - busy0 - (sum(cpu_seconds(own)) - own0)
        samples = sorted(reply["samples"])
        expected = pushes * reply["clients"]

        def ms(q: float) -> float | None:
            if not samples:
                return None
            return samples[min(len(samples) - 1, int(q * len(samples)))] / 1000

        result = {
            "p50_ms": ms(0.5),
            "p90_ms": ms(0.9),
            "p99_ms": ms(0.99),
            "max_ms": samples[-1] / 1000 if samples else None,
            "delivered": len(samples),
            "expected": expected,
            "pushes_per_s": pushes / max(1e-6, push["last"] - push["first"]),
            "lost": reply["lost"],
            "other_processes_cores_before": background,
            "other_processes_cpu_s": max(0.0, others),
        }
        self.say(
            f"  latency: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms,"
            f" delivered {len(samples)}/{expected}"
        )
        return result

    def _profile(self, server: Server, gens: Generators) -> dict[str, t.Any]:
        pushes = self.config.profile_pushes
        run = self._fanout_once(server, gens, "p", pushes, profile=1)
        summary = summarize(self._profile_path, run["delivered"])
        summary["fanout_under_profiler"] = run
        summary["pstats"] = self._profile_path
        self.say(
            f"  profile: push loop {summary['us_per_msg']:.2f} us/msg under"
            f" cProfile; server CPU {run['cpu_us_per_msg']:.2f} us/msg"
        )
        return summary

    def _storm(self) -> None:
        config = self.config
        with self._server("storm") as server:
            rss0 = self._idle_rss(server)
            with self._generators(server, config.generators) as gens:
                kernel0 = kernel_counters()
                connect = self._connect(
                    gens,
                    config.storm,
                    concurrency=config.storm,
                    timeout=config.storm_timeout,
                    budget=config.storm_timeout,
                    storm=True,
                )
                kernel1 = kernel_counters()
                time.sleep(1.0)
                gens.arm("s", 1)
                server.push(1, config.size, "s")
                reply = gens.wait(10)
                self.results["storm"] = {
                    "clients": config.storm,
                    "connected": connect["connected"],
                    "got_push": reply["complete"],
                    "failures": config.storm - reply["complete"],
                    "errors": connect["errors"],
                    "seconds": connect["seconds"],
                    "handshake_p50_s": connect["handshake_p50"],
                    "handshake_max_s": connect["handshake_max"],
                    "rss0_mb": rss0 / 2**20,
                    "rss_mb": server.rss() / 2**20,
                    # Connections a full listen queue turned away (machine-wide;
                    # the client's kernel retries the SYN after 1, 3, 7, 15 s).
                    "listen_overflows": kernel1["listen_overflows"]
                    - kernel0["listen_overflows"],
                }
                self.say(
                    f"  storm: {reply['complete']}/{config.storm} connected and"
                    " got the push; listen queue overflows:"
                    f" {self.results['storm']['listen_overflows']}"
                )
                gens.close()

    def _capacity(self) -> None:
        config = self.config
        steps: list[dict[str, t.Any]] = []
        result: dict[str, t.Any] = {"steps": steps, "max_idle_conns": 0}
        self.results["capacity"] = result
        with self._server("capacity") as server:
            rss0 = self._idle_rss(server)
            result["rss0_mb"] = rss0 / 2**20
            with self._generators(server, max(2, config.generators)) as gens:
                held = 0
                for step in config.capacity_steps:
                    connect = self._connect(
                        gens, step - held, concurrency=200, timeout=30, budget=180
                    )
                    held = connect["total"]
                    reply = self._warm_up(server, gens, "c", tries=10)
                    rss = server.rss()
                    ok = held == step and reply["complete"] == step
                    steps.append(
                        {
                            "connections": step,
                            "held": held,
                            "got_push": reply["complete"],
                            "ok": ok,
                            "rss_mb": rss / 2**20,
                            "kb_per_conn": (rss - rss0) / 1024 / step,
                            "errors": connect["errors"],
                        }
                    )
                    self.say(
                        f"  capacity {step}: {'ok' if ok else 'FAILED'},"
                        f" RSS {rss / 2**20:.0f} MB"
                    )
                    if not ok:
                        break
                    result["max_idle_conns"] = step
                    result["kb_per_conn"] = steps[-1]["kb_per_conn"]
                gens.close(timeout=20)
