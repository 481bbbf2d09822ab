"""Run the benchmark suite: ``.venv/bin/python benchmarks/run.py``.

Starts each target's server as a subprocess on a free port, drives it with
the load generator processes, stops everything, prints a table and writes
``benchmarks/results/latest.json``. See ``benchmarks/README.md``.

Options: ``--quick`` (a small smoke run), ``--only fanout,latency,...``,
``--targets flask-realtime-threaded,...``, ``--profile``, ``--write-delay MS``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import typing as t

# Run as a script, this file's folder is on sys.path, not the repository's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import report  # noqa: E402
from benchmarks.processes import raise_open_files_limit  # noqa: E402
from benchmarks.processes import TARGETS  # noqa: E402
from benchmarks.suite import Config  # noqa: E402
from benchmarks.suite import DEFAULT_PHASES  # noqa: E402
from benchmarks.suite import PHASES  # noqa: E402
from benchmarks.suite import QUICK  # noqa: E402
from benchmarks.suite import Run  # noqa: E402

PACKAGES = (
    "flask",
    "werkzeug",
    "flask-sock",
    "simple-websocket",
    "wsproto",
    "gevent",
    "greenlet",
    "gunicorn",
    "flask-socketio",
    "python-socketio",
    "python-engineio",
    "aiohttp",
    "uvloop",
    "psutil",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [target.name for target in TARGETS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_PHASES),
        help=f"phases to run, from {','.join(PHASES)}",
    )
    default = [target.name for target in TARGETS if not target.on_request]
    parser.add_argument(
        "--targets", default=",".join(default), help=f"from {','.join(names)}"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile the fan-out (cProfile)"
    )
    parser.add_argument(
        "--generators", type=int, default=1, help="generator processes (main run)"
    )
    parser.add_argument(
        "--repeats", type=int, help="fan-out runs per target (median reported)"
    )
    parser.add_argument(
        "--write-delay",
        type=float,
        default=0.0,
        metavar="MS",
        help="REALTIME_WRITE_DELAY of the flask-realtime targets, in milliseconds",
    )
    parser.add_argument(
        "--output",
        default=os.path.join(ROOT, "benchmarks", "results", "latest.json"),
        help="where to write the results as JSON",
    )
    args = parser.parse_args(argv)
    args.only = [phase for phase in args.only.split(",") if phase]
    if args.profile and "profile" not in args.only:
        args.only.append("profile")
    args.targets = [name for name in args.targets.split(",") if name]
    for phase in args.only:
        if phase not in PHASES:
            parser.error(f"unknown phase {phase!r}; phases: {', '.join(PHASES)}")
    for name in args.targets:
        if name not in names:
            parser.error(f"unknown target {name!r}; targets: {', '.join(names)}")
    return args


def machine() -> dict[str, t.Any]:
    import psutil

    cpu_model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    commit = _git("rev-parse", "HEAD")
    # Uncommitted changes to the library are measured too: name them.
    changed = _git("status", "--porcelain", "--", "flask_realtime").splitlines()
    return {
        "cpu": cpu_model,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "commit": commit,
        "uncommitted_library_changes": changed,
        "load_average_at_start": os.getloadavg(),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = QUICK if args.quick else Config()
    config = dataclasses.replace(
        config,
        generators=args.generators,
        repeats=args.repeats or config.repeats,
        write_delay_ms=args.write_delay,
    )
    limit = raise_open_files_limit()
    log_dir = tempfile.mkdtemp(prefix="flask-realtime-bench-")

    def say(text: str) -> None:
        print(text, flush=True)

    say(f"open files limit {limit}; logs in {log_dir}")
    document: dict[str, t.Any] = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": machine(),
        "config": dataclasses.asdict(config),
        "phases": args.only,
        "quick": args.quick,
        "logs": log_dir,
        "targets": {},
    }
    started = time.monotonic()
    for target in TARGETS:
        if target.name not in args.targets:
            continue
        say(f"== {target.name}")
        run = Run(target, config, args.only, log_dir, say)
        document["targets"][target.name] = run.run()
        _write(args.output, document)  # partial results survive a failure

    results = document["targets"]
    checks = report.criteria(results)
    document["criteria"] = checks
    document["seconds"] = time.monotonic() - started
    _write(args.output, document)

    say("")
    say(report.table(results))
    if any("gencheck" in r for r in results.values()):
        say("\nGenerator check (fan-out with one generator process, then two):")
        say(report.generator_check(results))
    say("\nTargets from the issue:")
    say(report.criteria_text(checks))
    for name, r in results.items():
        if "profile" in r:
            say("\nProfile of the fan-out, " + report.profile_text(name, r["profile"]))
    say(f"\nResults in {args.output}; took {document['seconds']:.0f} s")
    return 0


def _write(path: str, document: dict[str, t.Any]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(document, f, indent=1)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    sys.exit(main())
