"""The package's extras pull no other realtime library (nor the benchmarks'
load generator) into an application; the benchmarks keep theirs in
benchmarks/requirements.txt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
#: Packages only the benchmarks need: the peers they compare with and the
#: load generator's.
BENCHMARK_ONLY = {
    "flask-socketio",
    "python-socketio",
    "python-engineio",
    "aiohttp",
    "uvloop",
    "psutil",
}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match is not None, requirement
    return match.group(0).lower().replace("_", "-")


def test_no_extra_pulls_a_benchmark_only_package() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    for extra, requirements in project["optional-dependencies"].items():
        names = {_name(requirement) for requirement in requirements}
        assert names.isdisjoint(BENCHMARK_ONLY), extra
    names = {_name(requirement) for requirement in project["dependencies"]}
    assert names.isdisjoint(BENCHMARK_ONLY)


def test_the_benchmarks_requirements_name_what_they_compare() -> None:
    lines = (ROOT / "benchmarks" / "requirements.txt").read_text().splitlines()
    names = {_name(line) for line in lines if line.strip() and line[0] != "#"}
    assert {"flask-socketio", "aiohttp", "psutil", "gunicorn", "gevent"} <= names
