"""Connection, alone: what it queues for a client that does not read."""

from __future__ import annotations

import threading

from flask_realtime.connection import Connection


def test_a_client_that_pings_and_never_reads_has_at_most_one_pong_waiting():
    written = []

    class Socket:
        def fileno(self):
            return -1

    class Proxy:
        sock = Socket()

        def bind(self, connection):
            pass

    class WebSocket:
        event = threading.Event()
        input_buffer: list = []
        max_message_size = None

    connection = Connection(
        WebSocket(),
        Proxy(),  # type: ignore[arg-type]
        connection_id="x" * 43,
        max_backlog=1000,
        ping_interval=25,
        max_message_size=100,
    )
    connection._write = written.append  # type: ignore[method-assign]
    pong = bytes([0x8A, 3]) + b"%03d"
    for n in range(998):
        # simple-websocket answers several pings of one read in one write.
        connection._reader_send((pong % n) + (pong % (n + 1)))
    assert connection._backlog_size == 5
    connection._flush()
    assert written == [pong % 998]
