"""The exceptions flask-realtime raises."""

from __future__ import annotations


class RealtimeError(Exception):
    """Base class of flask-realtime's own exceptions."""


class ConfigurationError(RealtimeError, ValueError):
    """A ``REALTIME_`` setting has a value flask-realtime cannot use."""


class ConnectionIdRefused(RealtimeError):
    """A socket presented a connection id that was never issued to its
    session, or that has expired."""


class BackendUnavailable(RealtimeError):
    """The backend (Redis) cannot be reached: a push, a subscription or a new
    socket could not be recorded. Pushes raise it to their caller."""


class TooManyChannels(RealtimeError, ValueError):
    """A subscription would take a socket past ``REALTIME_MAX_CHANNELS``."""
