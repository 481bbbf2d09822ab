"""A real redis-server on a free loopback port, started by the tests and
the benchmarks."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time

#: What to install when redis-server is missing.
MISSING = "redis-server (Debian package redis-server)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """:param certificate: the certificate and key files of a server that
    speaks only TLS; its ``url`` is then ``rediss://`` and trusts the
    certificate."""

    def __init__(self, certificate: tuple[str, str] | None = None) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise FileNotFoundError(f"{MISSING} is missing")
        self._executable = executable
        self.port = free_port()
        self.certificate = certificate
        self.url = (
            f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={certificate[0]}"
            if certificate
            else f"redis://127.0.0.1:{self.port}/0"
        )
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        if self.certificate:
            cert, key = self.certificate
            ports = ["--port", "0", "--tls-port", str(self.port)]
            ports += ["--tls-cert-file", cert, "--tls-key-file", key]
            ports += ["--tls-ca-cert-file", cert, "--tls-auth-clients", "no"]
        else:
            ports = ["--port", str(self.port)]
        self._process = subprocess.Popen(
            [
                self._executable,
                *ports,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with self._connect() as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=1)
        if not self.certificate:
            return sock
        context = ssl.create_default_context(cafile=self.certificate[0])
        try:
            return context.wrap_socket(sock, server_hostname="127.0.0.1")
        except OSError:
            sock.close()
            raise

    @property
    def pid(self) -> int:
        assert self._process is not None, "redis-server is stopped"
        return self._process.pid

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def client(self):  # noqa: ANN201 - redis is an optional import
        import redis

        return redis.Redis.from_url(self.url)
