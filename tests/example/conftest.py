from __future__ import annotations

import pytest
from flask import Flask

from example_app import create_app
from example_app import realtime as example_realtime
from flask_realtime import Realtime


@pytest.fixture
def app() -> Flask:
    """The example app; the top-level ``server`` and ``browser`` fixtures
    serve this one instead of the test app."""
    return create_app({"TESTING": True})


@pytest.fixture
def realtime(app: Flask) -> Realtime:
    return example_realtime
