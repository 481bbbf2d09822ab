"""Draining a process's sockets when it stops: each is closed with 1012
(service restart) after what is queued for it, so that its client reconnects,
to this process restarted or to another, and gets what it missed.

Three ways in: :meth:`Realtime.shutdown <flask_realtime.Realtime.shutdown>`,
the interpreter's exit (Werkzeug's server after Ctrl-C, a script's end), and,
under gunicorn, the worker's graceful stop, which is noticed by watching the
worker, since gunicorn offers applications no hook of its own for it.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
import typing as t
import weakref

if t.TYPE_CHECKING:
    from .state import AppState

logger = logging.getLogger("flask_realtime")

#: Seconds between looks at whether the gunicorn worker is stopping.
WATCH_INTERVAL = 0.2

_states: weakref.WeakSet[AppState] = weakref.WeakSet()
_lock = threading.Lock()
_watching = False


def register(state: AppState) -> None:
    """Drain ``state`` when this process exits."""
    _states.add(state)


def drain_all() -> None:
    """Drain every application's sockets in this process."""
    for state in list(_states):
        try:
            state.drain()
        except Exception:  # one app's failure must not keep the others open
            logger.exception("Draining an application's sockets failed")


atexit.register(drain_all)


def watch_server() -> None:
    """Under a gunicorn worker, drain as soon as the worker begins a graceful
    stop (SIGTERM: a stop, a reload, a new deploy), instead of letting its
    sockets hold it for the whole graceful timeout and then die with 1006.

    Called when a socket starts, from any thread: the worker is found through
    its SIGTERM handler, gunicorn's ``Worker.handle_exit``.
    """
    global _watching
    with _lock:
        if _watching:
            return
        _watching = True
    worker = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    if worker is None or not hasattr(worker, "alive"):
        return  # not a gunicorn worker: the exit hook is enough
    if type(worker).__module__.partition(".")[0] != "gunicorn":
        return
    threading.Thread(
        target=_watch, args=(worker,), name="flask-realtime-drain", daemon=True
    ).start()


def _watch(worker: t.Any) -> None:
    stopped = threading.Event()
    while worker.alive:
        stopped.wait(WATCH_INTERVAL)
    logger.info("The server is stopping; closing its sockets with 1012")
    drain_all()
