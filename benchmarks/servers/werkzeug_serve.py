"""Serve an application with Werkzeug's threaded server, as ``app.run()`` does.

Usage: ``python -m benchmarks.servers.werkzeug_serve PORT module:app``

For diagnosis only (the suite runs Werkzeug as users get it): the
environment variable ``BENCH_LISTEN_BACKLOG`` sets the listen queue (Werkzeug's
default is 128), and ``BENCH_TCP_NODELAY=1`` sets TCP_NODELAY on the
listening socket, which accepted sockets inherit (gunicorn does this; Werkzeug
does not).
"""

from __future__ import annotations

import importlib
import os
import socket
import sys

from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server


def main() -> None:
    port, target = int(sys.argv[1]), sys.argv[2]
    module_name, _, name = target.partition(":")
    app = getattr(importlib.import_module(module_name), name)
    backlog = os.environ.get("BENCH_LISTEN_BACKLOG")
    if backlog:
        BaseWSGIServer.request_queue_size = int(backlog)
    server = make_server("127.0.0.1", port, app, threaded=True)
    if os.environ.get("BENCH_TCP_NODELAY") == "1":
        server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server.serve_forever()


if __name__ == "__main__":
    main()
