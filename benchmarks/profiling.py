"""Summing up a cProfile of the push loop, per delivered message.

py-spy was tried first and dropped: on this machine it fell seconds behind
at 200 samples a second and collected a few dozen samples in a whole run.
cProfile runs inside the server instead (``?profile=1`` on ``POST /push``,
see ``servers/common.py``) and sees only the thread or greenlet of the push
loop. That is where flask-realtime does its work: each push writes its frame
to every socket from the pusher, and a connection's own thread writes only
what the kernel did not take. For Flask-SocketIO most of the work is in other
threads, which this does not see. Times are wall-clock, so under threads they
include waiting for the GIL; cProfile's own overhead inflates Python calls
relative to system calls.
"""

from __future__ import annotations

import os
import pstats
import re
import typing as t

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB = re.compile(r".*/lib/python3\.\d+/")


def summarize(path: str, delivered: int, top: int = 15) -> dict[str, t.Any]:
    """The functions with the most own time and the most time inclusive,
    each in microseconds per delivered message and as a share of the loop."""
    stats = pstats.Stats(path)
    entries = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, calls, own, total, _) in entries.items():
        rows.append((_name(filename, line, function), calls, own, total))
    loop = sum(own for _, _, own, _ in rows)

    def pick(index: int) -> list[dict[str, t.Any]]:
        ranked = sorted(rows, key=lambda row: row[index], reverse=True)[:top]
        return [
            {
                "function": name,
                "calls": calls,
                "us_per_msg": seconds[index - 2] * 1e6 / max(1, delivered),
                "share": seconds[index - 2] / loop if loop else 0.0,
            }
            for name, calls, *seconds in ranked
        ]

    return {
        "loop_s": loop,
        "us_per_msg": loop * 1e6 / max(1, delivered),
        "self": pick(2),
        "inclusive": pick(3),
    }


def _name(filename: str, line: int, function: str) -> str:
    if filename == "~":  # a built-in, such as {method 'send' of ...}
        return function
    if "site-packages/" in filename:
        filename = filename.split("site-packages/", 1)[1]
    elif filename.startswith(ROOT):
        filename = os.path.relpath(filename, ROOT)
    else:
        filename = _STDLIB.sub("", filename)
    return f"{function} ({filename}:{line})"
