"""Prometheus metrics: :meth:`~flask_realtime.Realtime.stats`, read at each
scrape.

Needs the ``prometheus`` extra (``prometheus_client``); nothing else in
flask-realtime imports this module.

.. code-block:: python

    from prometheus_client import make_wsgi_app
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from flask_realtime.metrics import register

    register(app)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": make_wsgi_app()})
"""

from __future__ import annotations

import typing as t

try:
    from prometheus_client import REGISTRY
    from prometheus_client.core import CounterMetricFamily
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.core import Metric
    from prometheus_client.registry import CollectorRegistry
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "flask_realtime.metrics needs the 'prometheus_client' package. Install"
        ' it with: pip install "flask-realtime[prometheus]"'
    ) from e

if t.TYPE_CHECKING:
    from flask import Flask

#: The states the Redis listener reports, one ``listener_state`` series each.
LISTENER_STATES = ("connected", "reconnecting", "stopped")


class RealtimeCollector:
    """A Prometheus collector of one application's
    :meth:`~flask_realtime.Realtime.stats`, named ``flask_realtime_*`` (see
    :ref:`what-to-watch`). Register it once per registry.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app

    def collect(self) -> t.Iterator[Metric]:
        stats = self._app.extensions["realtime"].stats(self._app)
        yield _gauge("sockets_open", "Sockets connected to this process.", stats)
        if stats["ids_pending"] is not None:
            yield _gauge("ids_pending", "Ids issued and not yet connected.", stats)
            yield _gauge(
                "ids_in_grace", "Ids of dropped sockets that may reconnect.", stats
            )
        yield _gauge("channels", "Channels with a subscriber here.", stats)
        yield _gauge("backlog_bytes", "Bytes waiting for slow clients.", stats)
        yield CounterMetricFamily(
            "flask_realtime_pushes",
            "Messages published to a channel from this process.",
            value=stats["pushes"],
        )
        yield CounterMetricFamily(
            "flask_realtime_frames_delivered",
            "Push frames handed to this process's sockets.",
            value=stats["frames_delivered"],
        )
        yield _by_label(
            "closes",
            "Accepted sockets the server closed, or whose connection was lost"
            " (1006), by close code.",
            "code",
            stats,
        )
        yield _by_label(
            "client_closes",
            "Accepted sockets the client closed, by close code: 1000, 1001 or other.",
            "code",
            stats,
        )
        yield _by_label("refusals", "Sockets refused, by reason.", "reason", stats)
        listener = stats["listener"]
        if listener is not None:
            state = GaugeMetricFamily(
                "flask_realtime_listener_state",
                "The Redis listener's state: 1 for the current one.",
                labels=["state"],
            )
            for name in LISTENER_STATES:
                state.add_metric([name], float(listener["state"] == name))
            yield state
            yield CounterMetricFamily(
                "flask_realtime_listener_restarts",
                "Times the Redis listener lost its connection or failed.",
                value=listener["restarts"],
            )


def register(app: Flask, registry: CollectorRegistry = REGISTRY) -> RealtimeCollector:
    """Add the application's metrics to ``registry`` (prometheus_client's
    default one unless given), and return the collector."""
    collector = RealtimeCollector(app)
    registry.register(collector)
    return collector


def _gauge(name: str, documentation: str, stats: dict[str, t.Any]) -> Metric:
    return GaugeMetricFamily(f"flask_realtime_{name}", documentation, value=stats[name])


def _by_label(
    name: str, documentation: str, label: str, stats: dict[str, t.Any]
) -> Metric:
    metric = CounterMetricFamily(
        f"flask_realtime_{name}", documentation, labels=[label]
    )
    for value, count in stats[name].items():
        metric.add_metric([value], count)
    return metric
