"""Settings, alone: how REALTIME_WRITE_DELAY is read and checked."""

from __future__ import annotations

import pytest

from flask_realtime.errors import ConfigurationError
from flask_realtime.settings import DEFAULTS
from flask_realtime.settings import load_settings


def settings_with(**config):
    return load_settings({**DEFAULTS, **config})


def test_the_write_delay_is_off_by_default():
    assert load_settings(DEFAULTS).write_delay == 0


@pytest.mark.parametrize(
    ("milliseconds", "seconds"), [(0, 0.0), (5, 0.005), (2.5, 0.0025), (1000, 1.0)]
)
def test_the_write_delay_is_given_in_milliseconds(milliseconds, seconds):
    assert settings_with(REALTIME_WRITE_DELAY=milliseconds).write_delay == seconds


@pytest.mark.parametrize(
    "value",
    [-1, -0.5, 1000.5, 10_000, float("nan"), float("inf"), True, False, "5", "5ms"],
)
def test_a_bad_write_delay_gets_a_clear_error(value):
    with pytest.raises(ConfigurationError) as error:
        settings_with(REALTIME_WRITE_DELAY=value)
    assert str(error.value) == (
        "REALTIME_WRITE_DELAY must be a number of milliseconds from 0 to 1000,"
        f" got {value!r}."
    )
