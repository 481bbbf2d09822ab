"""The soak, short: each backend under 25 s of churn (``benchmarks/soak.py
--quick``), run as a subprocess. Nothing may grow past a generous bound. No
timing is asserted: the figures of a 25-second run on a shared machine say
nothing about speed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import typing as t

import pytest

from ..conftest import require
from ..redis_server import MISSING

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: About 45 s per backend; far more only if the machine is stuck.
TIMEOUT = 300


def run_soak(backend: str, tmp_path: t.Any) -> tuple[dict[str, t.Any], str]:
    output = tmp_path / "soak.json"
    command = [sys.executable, os.path.join("benchmarks", "soak.py"), "--quick"]
    command += ["--backend", backend, "--log-dir", str(tmp_path)]
    command += ["--json", str(output)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        printed, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        printed = stop(process, tmp_path)
        pytest.fail(f"the soak did not end within {TIMEOUT} s:\n{printed}")
    if not output.exists():
        pytest.fail(f"the soak ended with {process.returncode}:\n{printed}")
    return json.loads(output.read_text())["results"][backend], printed


def stop(process: subprocess.Popen[str], tmp_path: t.Any) -> str:
    """SIGTERM (the soak then stops its server and redis-server), then
    SIGKILL, and whatever the soak started that is still running."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        printed, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        printed, _ = process.communicate(timeout=10)
    pids = tmp_path / "pids"
    for pid in pids.read_text().split() if pids.exists() else []:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue  # already gone
        if b"soak_app" in cmdline or b"redis-server" in cmdline:
            os.kill(int(pid), signal.SIGKILL)
    return printed


@pytest.mark.parametrize(
    "backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)]
)
def test_soak_stays_flat_and_in_order(backend: str, tmp_path: t.Any) -> None:
    if backend == "redis" and shutil.which("redis-server") is None:
        require(MISSING)
    result, printed = run_soak(backend, tmp_path)
    summary = printed[printed.find(f"== {backend}: summary") :]

    # It did what a soak does: pages, sockets, drops, replays, pushes.
    counts = result["counts"]
    for name in ("pages rendered", "sockets opened", "drops", "reconnects"):
        assert counts.get(name, 0) > 0, (name, summary)
    assert result["pushed"] > 0 and result["delivered"] > 0, summary

    # Memory: the growth over the second half, from a linear fit.
    growth = result["rss_mb"]["second_half_growth_mb"]
    assert growth < result["plan"]["max_rss_growth_mb"], summary

    # What the backend holds: Redis keys, and the entries of the backend's
    # containers in the server process, no higher in the second half than
    # in the first (with a margin), and little left once idle.
    plan = result["plan"]
    for name in ("keys", "entries"):
        if name not in result:
            continue
        series = result[name]
        bound = series["first_half_max"] * plan["growth_factor"] + plan["margin"]
        assert series["second_half_max"] <= bound, (name, summary)
        assert series["end"] <= bound, (name, summary)
    assert result["entries"]["after_idle"] <= plan["max_leftovers"], summary
    if "keys" in result:
        assert not result["keys"]["persistent_after_idle"], summary

    # Delivery (order, gaps, lifetimes) is judged by the full soak, whose
    # summary reports it; this short run asserts only that nothing leaks.
