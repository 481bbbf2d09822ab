"""The test app under gevent's own WSGIServer.

``python -m tests.servers.pywsgi PORT [CERTFILE KEYFILE]``
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from .app import app  # noqa: E402

if __name__ == "__main__":
    # PORT [CERTFILE KEYFILE]: with a certificate, it speaks TLS itself.
    tls = dict(zip(("certfile", "keyfile"), sys.argv[2:4], strict=False))
    WSGIServer(("127.0.0.1", int(sys.argv[1])), app, **tls).serve_forever()
