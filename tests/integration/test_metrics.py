"""Prometheus metrics, read from realtime.stats() at each scrape."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import websocket

from ..conftest import create_app
from ..conftest import require
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for

try:
    import prometheus_client
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover - a failure in CI, see require()
    prometheus_client = None


@pytest.fixture
def registry():
    if prometheus_client is None:
        require("prometheus_client (the 'prometheus' extra)")
    return prometheus_client.CollectorRegistry()


def scrape(registry):
    """The samples of a scrape, by name and labels."""
    text = prometheus_client.generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_scrape_reads_the_stats_of_the_moment(app, server, browser, registry):
    from flask_realtime.metrics import register

    register(app, registry)
    assert scrape(registry)[("flask_realtime_sockets_open", ())] == 0
    socket = browser.open("/").connect()
    socket.request("ping")
    app.extensions["realtime"].push("hi", "chat")
    assert socket.receive()["payload"] == "hi"
    with pytest.raises(websocket.WebSocketBadStatusException):
        browser.connect("short")
    samples = scrape(registry)
    assert samples[("flask_realtime_sockets_open", ())] == 1
    assert samples[("flask_realtime_channels", ())] == 1
    assert samples[("flask_realtime_ids_pending", ())] == 0
    assert samples[("flask_realtime_pushes_total", ())] == 1
    assert samples[("flask_realtime_frames_delivered_total", ())] == 1
    assert samples[("flask_realtime_backlog_bytes", ())] == 0
    reason = (("reason", "connection_id"),)
    assert samples[("flask_realtime_refusals_total", reason)] == 1
    socket.close()
    closed = ("flask_realtime_client_closes_total", (("code", "1000"),))
    samples = wait_for(lambda: (s := scrape(registry)).get(closed) == 1 and s)
    assert not any(name.startswith("flask_realtime_listener") for name, _ in samples)


@pytest.mark.redis
def test_on_redis_the_listener_state_is_a_metric(redis_server, registry):
    from flask_realtime.metrics import register

    app = create_app(REALTIME_BACKEND=redis_server.url)
    register(app, registry)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        browser.open("/").connect().request("ping")
        samples = scrape(registry)
        state = "flask_realtime_listener_state"
        assert samples[(state, (("state", "connected"),))] == 1
        assert samples[(state, (("state", "reconnecting"),))] == 0
        assert samples[("flask_realtime_listener_restarts_total", ())] == 0
        assert ("flask_realtime_ids_pending", ()) not in samples  # Redis has them
        browser.close_all()
    finally:
        server.stop()
        app.extensions["realtime"]._state(app).backend.close()


def test_flask_realtime_works_without_prometheus_client():
    # In a fresh interpreter, where prometheus_client cannot be imported.
    script = """
import sys
sys.modules["prometheus_client"] = None
from tests.conftest import create_app
app = create_app()
assert app.extensions["realtime"].stats()["sockets_open"] == 0
assert app.test_client().get("/").status_code == 200
try:
    import flask_realtime.metrics
except ImportError as e:
    print(e)
"""
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "flask-realtime[prometheus]"' in result.stdout
