"""Serving the browser client that ships inside the package."""

from __future__ import annotations

import functools
import hashlib
import os

from flask import Blueprint
from flask import current_app
from flask import request
from flask import url_for
from markupsafe import escape
from markupsafe import Markup

STATIC_FOLDER = os.path.join(os.path.dirname(__file__), "static")
_ONE_YEAR = 365 * 24 * 3600


@functools.cache
def bundle_version(filename: str) -> str:
    """A short hash of a bundle's contents, for cache-busting URLs."""
    with open(os.path.join(STATIC_FOLDER, filename), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


class AssetsBlueprint(Blueprint):
    """Serves the bundles; a URL carrying the current version may be cached
    for a year, since a new version gets a new URL."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        if filename and request.args.get("v") == bundle_version(filename):
            return _ONE_YEAR
        return super().get_send_file_max_age(filename)


def realtime_script(*, connect: bool = True) -> Markup:
    """The ``<script>`` tag that loads ``realtime.js``, as the template global
    ``realtime_script()``.

    The minified bundle is used unless the application is in debug mode. The
    client connects by itself when the page has a connection id; with
    ``connect=False`` it waits for the page to call ``realtime.connect()``.
    """
    filename = "realtime.js" if current_app.debug else "realtime.min.js"
    url = url_for("realtime.static", filename=filename, v=bundle_version(filename))
    extra = "" if connect else ' data-connect="false"'
    return Markup(f'<script src="{escape(url)}" defer{extra}></script>')
