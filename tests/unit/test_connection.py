"""Connection, alone: what it queues for a client that does not read, and
what it writes when under a write delay."""

from __future__ import annotations

import socket
import threading
import time
import typing as t
from types import SimpleNamespace

import pytest

from flask_realtime import frames
from flask_realtime.connection import Connection
from flask_realtime.connection import TakingTurns
from flask_realtime.flusher import Flusher


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


class FakeWebSocket:
    """What Connection uses of simple-websocket's Server."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.input_buffer: list[str | bytes] = []
        self.max_message_size = None
        self.connected = True
        self.thread = threading.Thread(target=lambda: None)  # its reader
        self.thread.start()


class FakeFlusher:
    """Records the windows opened; a test ends them by calling
    ``end_window()`` itself. Every frame waits, unless a test says which
    go at once."""

    def __init__(self) -> None:
        self.opened: list[Connection] = []
        self.at_once: set[bytes] = set()
        self.asked: list[bytes] = []

    def open(self, connection: Connection) -> None:
        self.opened.append(connection)

    def waits(self, frame: bytes) -> bool:
        self.asked.append(frame)
        return frame not in self.at_once


class CountingSocket:
    """The connection's OS socket, counting the writes made to it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sends: list[bytes] = []

    def send(self, data: bytes, flags: int = 0) -> int:
        sent = self.sock.send(data, flags)
        self.sends.append(bytes(data[:sent]))
        return sent


@pytest.fixture
def socket_pair():
    """A connected pair of real sockets: the server's end, the client's."""
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        yield server_end, client_end


def make_connection(server_end, **options):
    class Proxy:
        sock = server_end

        def bind(self, connection):
            pass

    ws = FakeWebSocket()
    connection = Connection(
        ws,
        Proxy(),  # type: ignore[arg-type]
        connection_id="x" * 43,
        max_backlog=100_000,
        ping_interval=25,
        max_message_size=1000,
        **options,
    )
    return connection, ws


@pytest.fixture
def delayed(socket_pair):
    """A Connection under a write delay on a real socket pair, with what it
    writes counted: every write to the socket in ``sends``, those of the
    connection's own thread also in ``thread_writes``."""
    server_end, client_end = socket_pair
    flusher = FakeFlusher()
    connection, ws = make_connection(server_end, flusher=flusher)
    counting = connection._raw = CountingSocket(server_end)  # type: ignore[assignment]
    thread_writes: list[bytes] = []
    write = connection._write

    def counted_write(data: bytes) -> bool:
        thread_writes.append(data)
        return write(data)

    connection._write = counted_write  # type: ignore[method-assign]
    return SimpleNamespace(
        connection=connection,
        ws=ws,
        client_end=client_end,
        flusher=flusher,
        sends=counting.sends,
        thread_writes=thread_writes,
    )


def pushes(count: int) -> list[bytes]:
    return [frames.text_frame(b'{"n":%d}' % n) for n in range(count)]


def nothing_to_read(client_end: socket.socket) -> bool:
    timeout = client_end.gettimeout()
    client_end.setblocking(False)
    try:
        client_end.recv(65536)
    except BlockingIOError:
        return True
    finally:
        client_end.settimeout(timeout)
    return False


def read_exactly(client_end: socket.socket, size: int) -> bytes:
    client_end.settimeout(10)
    data = b""
    while len(data) < size:
        data += client_end.recv(size - len(data))
    return data


def test_a_burst_waits_for_the_window_and_goes_in_one_write(delayed):
    connection = delayed.connection
    burst = pushes(150)
    for frame in burst:
        connection.send_frame(frame)
    # Pushers wrote nothing, and did not wake the connection's thread; the
    # first frame opened a window.
    assert nothing_to_read(delayed.client_end)
    assert delayed.flusher.opened == [connection]
    assert not delayed.ws.event.is_set()
    connection.end_window()
    assert delayed.sends == [b"".join(burst)] and delayed.thread_writes == []
    assert read_exactly(delayed.client_end, len(delayed.sends[0])) == b"".join(burst)
    # The next frame opens the next window.
    connection.send_frame(burst[0])
    assert delayed.flusher.opened == [connection, connection]
    assert len(delayed.sends) == 1 and not delayed.ws.event.is_set()


def test_a_push_after_a_quiet_moment_is_written_at_once_after_what_waits(delayed):
    connection = delayed.connection
    lone, first, second = pushes(3)
    delayed.flusher.at_once.update((lone, second))
    connection.send_frame(lone)
    assert delayed.sends == [lone] and delayed.flusher.opened == []
    assert read_exactly(delayed.client_end, len(lone)) == lone
    # Written at once while a frame waits in its window: the connection's
    # thread writes both, in order, and the window finds nothing left.
    connection.send_frame(first)
    connection.send_frame(second)
    assert delayed.ws.event.is_set() and len(delayed.sends) == 1
    connection._flush()
    connection.end_window()
    assert delayed.thread_writes == [first + second]
    assert read_exactly(delayed.client_end, len(first + second)) == first + second


@pytest.mark.parametrize("urgent", ["our ping", "client's ping", "close"])
def test_control_frames_and_closes_do_not_wait_for_the_window(delayed, urgent):
    connection = delayed.connection
    burst = pushes(3)
    for frame in burst:
        connection.send_frame(frame)
    if urgent == "our ping":
        connection._write_control(frames.ping_frame())
        expected = [*burst, frames.ping_frame()]
    elif urgent == "client's ping":
        pong = bytes([0x8A, 1]) + b"p"
        connection._reader_send(pong)
        expected = [pong, *burst]  # a pong goes first, as without a delay
    else:
        connection.close(4003, "session ended")
        expected = [*burst, frames.close_frame(4003, "session ended")]
    # The connection's thread wakes, and writes all that waits, in order.
    assert delayed.ws.event.is_set()
    connection._flush()
    assert delayed.thread_writes == [b"".join(expected)]
    # The window's end finds nothing left to write.
    connection.end_window()
    assert delayed.sends == delayed.thread_writes


def test_a_reply_goes_out_at_once_with_the_pushes_before_it(delayed):
    # The connection's own loop, with a Flusher that never ends a window.
    connection, ws, client_end = delayed.connection, delayed.ws, delayed.client_end
    burst = pushes(3)
    for frame in burst:
        connection.send_frame(frame)
    reply = frames.text_frame(b'{"id":1,"body":"pong"}')
    ws.input_buffer.append('{"action":"ping","id":1}')
    ws.event.set()
    loop = threading.Thread(
        target=connection.run,
        args=(lambda message: connection.send_frame(reply, reply=True),),
    )
    loop.start()
    try:
        expected = b"".join([*burst, reply])
        assert read_exactly(client_end, len(expected)) == expected
    finally:
        client_end.shutdown(socket.SHUT_WR)
        connection._reader_stopped()
        loop.join(10)
    assert not loop.is_alive()


def test_a_reply_is_not_a_push_for_the_write_delay(delayed):
    # Written at once, behind what waits; the delay is not asked about it.
    connection, client_end = delayed.connection, delayed.client_end
    reply = frames.text_frame(b'{"id":1,"body":"pong"}')
    connection.send_frame(reply, reply=True)
    assert delayed.sends == [reply]
    assert read_exactly(client_end, len(reply)) == reply
    (push,) = pushes(1)
    connection.send_frame(push)
    connection.send_frame(reply, reply=True)
    assert delayed.flusher.asked == [push]
    assert delayed.ws.event.is_set() and len(delayed.sends) == 1
    connection._flush()
    assert read_exactly(client_end, len(push + reply)) == push + reply


def test_replies_do_not_make_the_next_push_wait(socket_pair):
    # A client that sends pings all the time must not keep the process
    # looking busy: a push after them still goes at once.
    server_end, client_end = socket_pair
    connection, _ = make_connection(server_end, flusher=Flusher(60.0))
    reply = frames.text_frame(b'{"id":1,"body":"pong"}')
    for _ in range(5):
        connection.send_frame(reply, reply=True)
    (push,) = pushes(1)
    connection.send_frame(push)
    assert read_exactly(client_end, 5 * len(reply) + len(push)) == reply * 5 + push


def test_a_window_that_fills_is_written_by_the_pusher_without_waiting(delayed):
    # 64 KiB, or half the backlog if that is less: here 50,000 bytes.
    connection = delayed.connection
    frame = frames.text_frame(b"x" * 9_996)
    assert len(frame) == 10_000
    for _ in range(4):
        connection.send_frame(frame)
    assert nothing_to_read(delayed.client_end)
    connection.send_frame(frame)
    assert delayed.sends == [frame * 5]
    assert read_exactly(delayed.client_end, 50_000) == frame * 5
    assert connection.backlog_size == 0 and not delayed.ws.event.is_set()
    connection.end_window()  # the window's end finds nothing left
    assert len(delayed.sends) == 1


def test_a_client_that_reads_nothing_is_closed_as_a_slow_consumer(delayed):
    connection = delayed.connection
    written: list[bytes] = []
    connection._write = lambda data: written.append(data) or True  # type: ignore[method-assign]
    # The client's end holds all it can: the socket takes nothing more.
    with pytest.raises(BlockingIOError):
        while True:
            connection._raw.send(b"x" * 65536, socket.MSG_DONTWAIT)  # type: ignore[union-attr]
    for _ in range(20):  # 200,000 bytes, twice the backlog
        connection.send_frame(frames.text_frame(b"x" * 9_996))
    assert connection.close_code == 4008 and delayed.ws.event.is_set()
    connection._flush()
    # The backlog is dropped, as without a delay; the close goes out alone.
    assert written == [frames.close_frame(4008, "slow consumer")]


def test_without_a_write_delay_the_pusher_writes_each_frame_itself(socket_pair):
    server_end, client_end = socket_pair
    connection, ws = make_connection(server_end)
    burst = pushes(3)
    for frame in burst:
        connection.send_frame(frame)
    assert client_end.recv(65536) == b"".join(burst)
    assert not ws.event.is_set() and connection.backlog_size == 0


def read_available(client_end: socket.socket) -> bytes:
    client_end.setblocking(False)
    data = b""
    try:
        while chunk := client_end.recv(1 << 20):
            data += chunk
    except BlockingIOError:
        pass
    return data


def parse_strictly(stream: bytes) -> list[tuple[int, bytes]]:
    """The frames of ``stream``, which must be whole frames back to back."""
    found = frames.split(stream)
    assert b"".join(frame for _, frame in found) == stream, "a frame cut or spliced"
    return found


@pytest.mark.parametrize("then", ["pong", "close", "overflow"])
@pytest.mark.parametrize("delay", [False, True], ids=["no delay", "delay"])
def test_the_rest_of_a_frame_the_socket_took_part_of_goes_before_anything(
    socket_pair, delay, then
):
    # The socket takes a few KiB of the first frame (or of the window) and
    # no more, as a client's full buffer does; what follows must not land
    # inside that frame, nor drop its rest.
    server_end, client_end = socket_pair
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    connection, ws = make_connection(
        server_end, flusher=FakeFlusher() if delay else None
    )
    written: list[bytes] = []
    connection._write = lambda data: written.append(data) or True  # type: ignore[method-assign]
    burst = [frames.text_frame(b"%d" % n + b"x" * 9_995) for n in range(5)]
    for frame in burst:  # under the delay the fifth fills the window
        connection.send_frame(frame)
    taken = read_available(client_end)
    assert 0 < len(taken) < len(burst[0])
    pong = bytes([0x8A, 1]) + b"p"
    if then == "pong":
        connection._reader_send(pong)
    elif then == "close":
        connection.close(4003, "session ended")
    else:
        for frame in burst * 2:  # 100,000 bytes more than the backlog holds
            connection.send_frame(frame)
        assert connection.close_code == 4008
    connection._flush()
    # What the socket took later (a window that filled) came before.
    stream = taken + read_available(client_end) + b"".join(written)
    found = parse_strictly(stream)
    texts = [frame for opcode, frame in found if opcode == 0x1]
    if then == "pong":
        assert texts == burst and (frames.OPCODE_PONG, pong) in found
    elif then == "close":
        assert texts == burst
        assert found[-1] == (0x8, frames.close_frame(4003, "session ended"))
    else:
        # The frame begun arrives whole; those not begun were dropped.
        assert texts == burst[: len(texts)] and texts
        assert found[-1] == (0x8, frames.close_frame(4008, "slow consumer"))


def test_a_frame_larger_than_the_backlog_reaches_a_client_that_reads(delayed):
    # Under the delay too: it goes after the window's frames, as without one.
    connection, client_end = delayed.connection, delayed.client_end
    small = pushes(2)
    large = frames.text_frame(b"x" * 300_000)  # the backlog holds 100,000
    for frame in [*small, large]:
        connection.send_frame(frame)
    assert connection.close_code is None
    expected = b"".join([*small, large])
    writer = threading.Thread(target=connection._flush)  # the rest, if any
    writer.start()
    try:
        assert read_exactly(client_end, len(expected)) == expected
    finally:
        writer.join(10)
    assert connection.backlog_size == 0


def test_a_frame_alone_always_fits_the_next_closes_a_client_that_does_not_read(
    socket_pair,
):
    # As under TLS, where every frame waits for the connection's thread.
    connection, ws = make_connection(socket_pair[0])
    connection._raw = None
    large = frames.text_frame(b"x" * 300_000)
    connection.send_frame(large)
    assert connection.close_code is None and connection.backlog_size == len(large)
    connection.send_frame(pushes(1)[0])
    assert connection.close_code == 4008


def read_until_end(client_end: socket.socket) -> bytes:
    """All the server writes until it shuts its side down; then end ours,
    as a client does once it has the close."""
    client_end.settimeout(10)
    data = b""
    while chunk := client_end.recv(65536):
        data += chunk
    client_end.shutdown(socket.SHUT_WR)
    return data


def test_a_client_close_is_answered_while_a_window_is_being_written(delayed):
    connection, client_end = delayed.connection, delayed.client_end
    close = frames.close_frame(1001, "going away")
    window = t.cast(t.Any, connection._delay).lock
    # A window's write under way, as end_window does it, outside the lock.
    with window:
        connection._writing = True
        connection._reply_close(close)
        connection._reader_stopped()  # the reader ends after a close
        loop = threading.Thread(target=connection.run, args=(lambda message: None,))
        loop.start()
        loop.join(0.2)
        connection._writing = False
    assert read_until_end(client_end) == close
    loop.join(10)
    assert not loop.is_alive()


def test_a_client_close_the_reader_answers_as_it_stops_is_written(delayed):
    # The reader answers the close and stops while the connection's thread
    # is past the point where it writes answers: it must still write it.
    connection, ws, client_end = delayed.connection, delayed.ws, delayed.client_end
    close = frames.close_frame(1000)

    def handle(message: str | bytes) -> None:
        connection._reply_close(close)
        connection._reader_stopped()

    ws.input_buffer.append('{"action":"ping","id":1}')
    ws.event.set()
    loop = threading.Thread(target=connection.run, args=(handle,))
    loop.start()
    assert read_until_end(client_end) == close
    loop.join(10)
    assert not loop.is_alive()


def test_a_pong_waiting_while_a_window_is_written_stays_counted(delayed):
    connection = delayed.connection
    pong = bytes([0x8A, 1]) + b"p"
    connection._reader_send(pong)
    for frame in pushes(3):
        connection.send_frame(frame)
    connection.end_window()
    assert connection.backlog_size == len(pong)
    connection._flush()
    assert connection.backlog_size == 0


def test_the_rest_of_a_frame_begun_counts_against_the_backlog(socket_pair):
    # A push larger than the backlog goes to a client that keeps up; one
    # that does not read holds no more than that push.
    server_end, client_end = socket_pair
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    connection, ws = make_connection(server_end)
    connection.send_frame(frames.text_frame(b"x" * 300_000))
    assert 0 < connection.backlog_size < 300_000 and connection.close_code is None
    connection.send_frame(pushes(1)[0])
    assert connection.close_code == 4008


class RecordingTLS:
    """Stands for a TLS socket: counts reads and writes that overlap."""

    def __init__(self, fileno: int) -> None:
        self._fileno = fileno
        self.inside = 0
        self.overlaps = 0

    def fileno(self) -> int:
        return self._fileno

    def pending(self) -> int:
        return 0

    def gettimeout(self) -> float:
        return 0.05

    def _use(self) -> None:
        self.inside += 1
        self.overlaps += self.inside > 1
        time.sleep(0.01)  # inside OpenSSL, with the GIL released
        self.inside -= 1

    def recv(self, size: int) -> bytes:
        self._use()
        return b"x"

    def send(self, data: bytes) -> int:
        self._use()
        return len(data)


def test_a_tls_socket_is_never_read_and_written_at_once(socket_pair):
    # OpenSSL forbids it, and a TLS 1.3 key update makes a read write.
    server_end, client_end = socket_pair
    client_end.sendall(b"data to read")
    tls = RecordingTLS(server_end.fileno())
    turns = TakingTurns(tls)
    reader = threading.Thread(target=lambda: [turns.recv(1) for _ in range(20)])
    reader.start()
    for _ in range(20):
        turns.send(b"frame")
    reader.join(10)
    assert tls.overlaps == 0


def test_a_tls_read_waits_for_data_without_the_turn(socket_pair):
    server_end, client_end = socket_pair
    turns = TakingTurns(RecordingTLS(server_end.fileno()))
    with pytest.raises(TimeoutError):
        turns.recv(1)  # nothing came within the socket's timeout
    assert turns.send(b"frame") == 5
