"""Connection, alone: what it queues for a client that does not read, and
what it writes when under a write delay."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from flask_realtime import frames
from flask_realtime.connection import Connection
from flask_realtime.connection import TakingTurns
from flask_realtime.flusher import Flusher
from flask_realtime.hub import LocalHub


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
    connection's own thread also in ``thread_writes``. No window ends by
    itself: a test settles it, or the connection does."""
    server_end, client_end = socket_pair
    flusher = Flusher(60.0, 100_000)
    connection, ws = make_connection(server_end, flusher=flusher)
    counting = connection._raw = CountingSocket(server_end)  # type: ignore[assignment]
    thread_writes: list[bytes] = []
    write = connection._write

    def counted_write(data: bytes) -> bool:
        thread_writes.append(data)
        return write(data)

    def wait(*frames: bytes) -> None:
        """Push frames that wait for the window, as the hub does."""
        for frame in frames:
            flusher.add(frame, (connection,))

    connection._write = counted_write  # type: ignore[method-assign]
    yield SimpleNamespace(
        connection=connection,
        ws=ws,
        client_end=client_end,
        flusher=flusher,
        wait=wait,
        sends=counting.sends,
        thread_writes=thread_writes,
    )
    flusher.settle()


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


def test_a_window_reaches_the_socket_in_one_write_by_the_pusher_s_path(delayed):
    connection = delayed.connection
    burst = pushes(150)
    delayed.wait(*burst)
    # Nothing written, and the connection's thread not woken.
    assert nothing_to_read(delayed.client_end)
    assert not delayed.ws.event.is_set()
    delayed.flusher.settle()
    assert delayed.sends == [b"".join(burst)] and delayed.thread_writes == []
    assert read_exactly(delayed.client_end, len(delayed.sends[0])) == b"".join(burst)
    assert connection.backlog_size == 0 and not delayed.ws.event.is_set()


def test_a_frame_written_at_once_goes_after_the_pushes_waiting_for_its_socket(
    delayed,
):
    # A reply, a replay, a presence change: whatever is not handed out by
    # the window settles it first.
    connection = delayed.connection
    first, second = pushes(2)
    reply = frames.text_frame(b'{"id":1,"body":"pong"}')
    delayed.wait(first, second)
    connection.send_frame(reply)
    assert not delayed.flusher.pending
    assert delayed.sends == [first + second, reply]
    expected = first + second + reply
    assert read_exactly(delayed.client_end, len(expected)) == expected


def test_a_close_comes_after_the_pushes_waiting_before_it(delayed):
    connection = delayed.connection
    burst = pushes(3)
    delayed.wait(*burst)
    connection.close(4003, "session ended")
    connection._flush()
    expected = b"".join([*burst, frames.close_frame(4003, "session ended")])
    assert read_exactly(delayed.client_end, len(expected)) == expected


@pytest.mark.parametrize("control", ["our ping", "client's ping"])
def test_control_frames_do_not_wait_for_the_window(delayed, control):
    # They go between two messages, never inside one; whether before or
    # after the pushes that wait does not matter to the client.
    connection = delayed.connection
    burst = pushes(3)
    delayed.wait(*burst)
    if control == "our ping":
        frame = frames.ping_frame()
        connection._write_control(frame)
    else:
        frame = bytes([0x8A, 1]) + b"p"
        connection._reader_send(frame)
    assert delayed.ws.event.is_set()
    connection._flush()
    assert delayed.thread_writes == [frame]
    assert read_exactly(delayed.client_end, len(frame)) == frame
    delayed.flusher.settle()
    assert read_exactly(delayed.client_end, 3 * len(burst[0])) == b"".join(burst)


def test_a_reply_goes_out_at_once_with_the_pushes_before_it(delayed):
    # The connection's own loop, with a window that never ends by itself.
    connection, ws, client_end = delayed.connection, delayed.ws, delayed.client_end
    burst = pushes(3)
    delayed.wait(*burst)
    reply = frames.text_frame(b'{"id":1,"body":"pong"}')
    ws.input_buffer.append('{"action":"ping","id":1}')
    ws.event.set()
    loop = threading.Thread(
        target=connection.run,
        args=(lambda message: connection.send_frame(reply),),
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


def test_replies_do_not_make_the_next_push_wait(socket_pair):
    # A client that sends pings all the time must not keep the process
    # looking busy: a push after their replies still goes at once.
    server_end, client_end = socket_pair
    flusher = Flusher(60.0, 100_000)
    connection, _ = make_connection(server_end, flusher=flusher)
    hub = LocalHub(flusher)
    hub.add(connection, ["room"])
    reply = frames.text_frame(b'{"id":1,"body":"pong"}')
    for _ in range(5):
        connection.send_frame(reply)
    (push,) = pushes(1)
    hub.deliver("room", "e:1", push)
    assert not flusher.pending
    expected = reply * 5 + push
    assert read_exactly(client_end, len(expected)) == expected


def test_a_client_that_reads_nothing_is_closed_as_a_slow_consumer(delayed):
    connection = delayed.connection
    written: list[bytes] = []
    connection._write = lambda data: written.append(data) or True  # type: ignore[method-assign]
    # The client's end holds all it can: the socket takes nothing more.
    with pytest.raises(BlockingIOError):
        while True:
            connection._raw.send(b"x" * 65536, socket.MSG_DONTWAIT)  # type: ignore[union-attr]
    # 200,000 bytes, twice the backlog; each 50,000 fill a window.
    delayed.wait(*[frames.text_frame(b"x" * 9_996)] * 20)
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
    flusher = Flusher(60.0, 100_000) if delay else None
    connection, ws = make_connection(server_end, flusher=flusher)

    def push(frame: bytes) -> None:
        if flusher is None:
            connection.send_frame(frame)
        else:
            flusher.add(frame, (connection,))

    written: list[bytes] = []
    connection._write = lambda data: written.append(data) or True  # type: ignore[method-assign]
    burst = [frames.text_frame(b"%d" % n + b"x" * 9_995) for n in range(5)]
    for frame in burst:  # under the delay the fifth fills the window
        push(frame)
    taken = read_available(client_end)
    assert 0 < len(taken) < len(burst[0])
    pong = bytes([0x8A, 1]) + b"p"
    if then == "pong":
        connection._reader_send(pong)
    elif then == "close":
        connection.close(4003, "session ended")
    else:
        for frame in burst * 2:  # 100,000 bytes more than the backlog holds
            push(frame)
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
    delayed.wait(*small, large)  # the large one fills the window
    assert connection.close_code is None and not delayed.flusher.pending
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
    delayed.wait(*pushes(3))
    delayed.flusher.settle()
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
