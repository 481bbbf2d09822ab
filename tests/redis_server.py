"""A real redis-server on a free loopback port, started by the tests and
the benchmarks."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import typing as t

#: What to install when redis-server is missing.
MISSING = "redis-server (Debian package redis-server)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """:param certificate: the certificate and key files of a server that
    speaks only TLS; its ``url`` is then ``rediss://`` and trusts the
    certificate.
    :param replica_of: the port of a master on 127.0.0.1 to replicate."""

    def __init__(
        self,
        certificate: tuple[str, str] | None = None,
        *,
        replica_of: int | None = None,
    ) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise FileNotFoundError(f"{MISSING} is missing")
        self._executable = executable
        self.port = free_port()
        self.certificate = certificate
        self.replica_of = replica_of
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
        if self.replica_of is not None:
            ports += ["--replicaof", "127.0.0.1", str(self.replica_of)]
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
                # A replica loads what its master sends straight from the
                # socket, rather than through a dump.rdb in the working folder.
                "--repl-diskless-load",
                "on-empty-db",
                "--dir",
                tempfile.gettempdir(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_ping(self._connect)

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

    def kill(self) -> None:
        """Die at once, as a crashed machine would: nothing more is written
        or replicated."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def client(self):  # noqa: ANN201 - redis is an optional import
        import redis

        return redis.Redis.from_url(self.url)


class SentinelDeployment:
    """A master, a replica and three sentinels (``redis-server --sentinel``)
    on free loopback ports, watching the master as ``mymaster``; ``url`` is
    the backend's Sentinel URL. Sentinels write their state into their
    configuration files, made in ``folder``."""

    service = "mymaster"

    def __init__(self, folder: str, *, down_after_ms: int = 1000) -> None:
        self.master = RedisServer()
        self.replica = RedisServer(replica_of=self.master.port)
        self._sentinels: list[subprocess.Popen[bytes]] = []
        self.ports = [free_port() for _ in range(3)]
        for port in self.ports:
            config = f"{folder}/sentinel-{port}.conf"
            with open(config, "w") as f:
                f.write(
                    f"port {port}\nbind 127.0.0.1\n"
                    f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} 2\n"
                    f"sentinel down-after-milliseconds {self.service} {down_after_ms}\n"
                    f"sentinel failover-timeout {self.service} 10000\n"
                )
            self._sentinels.append(
                subprocess.Popen(
                    [self.master._executable, config, "--sentinel"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        self.url = f"redis+sentinel://{hosts}/{self.service}/0"

    def sentinel(self, port: int):  # noqa: ANN201 - redis is an optional import
        import redis

        return redis.Redis(port=port, socket_timeout=1)

    def wait_until_ready(self, timeout: float = 30) -> None:
        """Until every sentinel knows the other two and the replica, and the
        replica is in sync: before that a failover cannot happen."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._ready():
                    return
            except OSError:
                pass
            except Exception as e:  # redis-py's errors: not up yet
                if "redis" not in type(e).__module__:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError("the sentinels did not get ready")
            time.sleep(0.1)

    def _ready(self) -> bool:
        for port in self.ports:
            with self.sentinel(port) as sentinel:
                state = sentinel.sentinel_master(self.service)
            if state["num-other-sentinels"] < 2 or state["num-slaves"] < 1:
                return False
        with self.replica.client() as replica:
            return replica.info("replication")["master_link_status"] == "up"

    def master_port(self) -> int:
        """The port of the master, as the first sentinel that answers says."""
        for port in self.ports:
            try:
                with self.sentinel(port) as sentinel:
                    found = sentinel.sentinel_get_master_addr_by_name(self.service)
                return int(found[1])
            except OSError:
                continue
        raise RuntimeError("no sentinel answers")

    def stop(self) -> None:
        for process in self._sentinels:
            process.terminate()
        for process in self._sentinels:
            process.wait(10)
        self.master.stop()
        self.replica.stop()


class ClusterDeployment:
    """A Redis Cluster of three masters (``--cluster-enabled``, joined with
    ``redis-cli --cluster create``) on free loopback ports; ``url`` is the
    backend's cluster URL. Nodes write their cluster state into ``folder``.
    With ``full_coverage=False`` the other masters go on serving their slots
    while one is down."""

    def __init__(
        self, folder: str, masters: int = 3, *, full_coverage: bool = True
    ) -> None:
        executable = shutil.which("redis-server")
        cli = shutil.which("redis-cli")
        if executable is None or cli is None:
            raise FileNotFoundError(f"{MISSING} is missing")
        self.ports = [free_port() for _ in range(masters)]
        self._commands = {
            port: [executable, "--port", str(port), "--bind", "127.0.0.1"]
            + ["--cluster-enabled", "yes", "--dir", folder]
            # The bus port is the port + 10000 unless given: past 65535 for
            # many free ports.
            + ["--cluster-port", str(free_port())]
            + ["--cluster-config-file", f"nodes-{port}.conf"]
            + ["--cluster-require-full-coverage", "yes" if full_coverage else "no"]
            + ["--save", "", "--appendonly", "no"]
            for port in self.ports
        }
        self._processes = {port: self._popen(port) for port in self.ports}
        try:
            for port in self.ports:
                _wait_for_ping(_loopback(port))
            subprocess.run(
                [cli, "--cluster", "create", "--cluster-replicas", "0"]
                + ["--cluster-yes"]
                + [f"127.0.0.1:{port}" for port in self.ports],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
            )
            self._wait_until_ok()
        except BaseException:
            self.stop()
            raise
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        self.url = f"redis+cluster://{hosts}"

    def _wait_until_ok(self, timeout: float = 30) -> None:
        import redis

        deadline = time.monotonic() + timeout
        for port in self.ports:
            with redis.Redis(port=port) as node:
                while node.cluster("info")["cluster_state"] != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the cluster did not get ready")
                    time.sleep(0.1)

    def client(self):  # noqa: ANN201 - redis is an optional import
        from redis.cluster import ClusterNode
        from redis.cluster import RedisCluster

        return RedisCluster(
            startup_nodes=[ClusterNode("127.0.0.1", port) for port in self.ports]
        )

    def _popen(self, port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self._commands[port],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self, port: int) -> None:
        """The node dies at once (SIGKILL)."""
        self._processes[port].kill()
        self._processes[port].wait(10)

    def restart(self, port: int) -> None:
        """A killed node starts again, with its cluster state, and rejoins."""
        self._processes[port] = self._popen(port)
        _wait_for_ping(_loopback(port))
        self._wait_until_ok()

    def flush(self) -> None:
        """Empty every node."""
        import redis

        for port in self.ports:
            with redis.Redis(port=port) as node:
                node.flushall()

    def stop(self) -> None:
        for process in self._processes.values():
            process.terminate()
        for process in self._processes.values():
            process.wait(10)


def _wait_for_ping(connect: t.Callable[[], socket.socket], timeout: float = 10) -> None:
    """Until a redis-server answers a PING on what ``connect()`` opens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with connect() as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.02)


def _loopback(port: int) -> t.Callable[[], socket.socket]:
    return lambda: socket.create_connection(("127.0.0.1", port), timeout=1)
