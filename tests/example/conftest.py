from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from example_app import create_app
from example_app import realtime as example_realtime
from flask_realtime import Realtime


@pytest.fixture
def app() -> t.Iterator[Flask]:
    """The example app; the top-level ``server`` and ``browser`` fixtures
    serve this one instead of the test app.

    Shut down at the end, after the server: the room pages are tracked
    (presence), and the backend's thread that forgets the pages that never
    connected would otherwise outlive the test.
    """
    app = create_app({"TESTING": True})
    yield app
    example_realtime.shutdown(app, timeout=1)


@pytest.fixture
def realtime(app: Flask) -> Realtime:
    return example_realtime
