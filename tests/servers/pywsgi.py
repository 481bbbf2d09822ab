"""The test app under gevent's own WSGIServer.

``python -m tests.servers.pywsgi PORT``
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from .app import app  # noqa: E402

if __name__ == "__main__":
    WSGIServer(("127.0.0.1", int(sys.argv[1])), app).serve_forever()
