"""A TCP proxy on loopback in front of a redis-server, whose pub/sub
connections can be frozen: bytes stop flowing both ways while the sockets
stay open, as on a half-open link."""

from __future__ import annotations

import select
import socket
import threading


class FreezingProxy:
    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so that stop() ends accept()
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._frozen: set[socket.socket] = set()
        self._open: list[socket.socket] = []
        # Client sockets that sent a SUBSCRIBE: pub/sub connections.
        self._subscribers: set[socket.socket] = set()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._stopped = False
        threading.Thread(
            target=self._accept, name="freezing-proxy", daemon=True
        ).start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def freeze_pubsub(self) -> None:
        """Stop the pub/sub connections open now, both ways; the others, and
        new ones, flow as usual."""
        with self._lock:
            for client in self._subscribers:
                self._frozen.update((client, self._peers[client]))

    def stop(self) -> None:
        self._stopped = True
        self._listener.close()
        with self._lock:
            for sock in self._open:
                sock.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._open += [client, upstream]
                self._peers[client] = upstream
            threading.Thread(
                target=self._pump, args=(client, upstream), daemon=True
            ).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stopped:
            try:
                with self._lock:
                    flowing = [s for s in peers if s not in self._frozen]
                if not flowing:  # a frozen link: the sockets stay open, idle
                    threading.Event().wait(0.1)
                    continue
                readable, _, _ = select.select(flowing, [], [], 0.1)
                for sock in readable:
                    with self._lock:
                        if sock in self._frozen:  # frozen during the select
                            continue
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is a and b"SUBSCRIBE" in data.upper():
                        with self._lock:
                            self._subscribers.add(a)
                    peers[sock].sendall(data)
            except OSError:
                return
