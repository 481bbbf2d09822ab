"""Signals sent by flask-realtime, through blinker.

Each is sent with the application as sender. Receivers run in the thread
that caused the event: the socket's own thread for connection events and
received messages, the pushing thread for pushes.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent when a socket is accepted and attached to its subscriptions, in the
#: socket's handshake request context. Keyword arguments: ``connection_id``.
socket_connected = _signals.signal("socket-connected")

#: Sent when a socket's connection has ended, in its handshake request
#: context. Keyword arguments: ``connection_id``; ``code``, the close code
#: (1006 when the connection ended without a close frame); ``clean``, true when
#: the client closed on purpose, so the subscriptions were forgotten at once
#: rather than kept for a reconnect.
socket_disconnected = _signals.signal("socket-disconnected")

#: Sent when a page's socket is subscribed to channels. Keyword arguments:
#: ``connection_id``, ``channels`` (a tuple of names).
channel_subscribed = _signals.signal("channel-subscribed")

#: Sent when a page's socket is unsubscribed from channels. Keyword
#: arguments: ``connection_id``, ``channels`` (a tuple of names).
channel_unsubscribed = _signals.signal("channel-unsubscribed")

#: Sent after a message was pushed. Keyword arguments: ``message``, the
#: message as given; ``channels``, a tuple of names.
message_pushed = _signals.signal("message-pushed")

#: Sent when a client's message has been parsed and is about to be handled.
#: Keyword arguments: ``connection_id``, ``message`` (the decoded object).
message_received = _signals.signal("message-received")
