"""Serving the browser client that ships inside the package.

Only the bundles in ``static/`` are served, by their exact names. Their
versions are computed once, at import. The route matches no other name, so a
request for anything else is a plain 404 that never touches the filesystem:
no ``..``, encoded slash, absolute path, NUL byte or device file reaches a
path, and the answer is the same whether or not such a file exists.
"""

from __future__ import annotations

import hashlib
import os
import re
import typing as t
from collections.abc import Mapping
from types import MappingProxyType

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import has_request_context
from flask import request
from flask import Response
from flask import send_from_directory
from flask import url_for
from markupsafe import escape
from markupsafe import Markup

from . import injection

STATIC_FOLDER = os.path.join(os.path.dirname(__file__), "static")
_ONE_YEAR = 365 * 24 * 3600
# Set here rather than guessed from the host's mime.types, which may not know
# ".mjs" (a module script served as anything else is refused by browsers).
_MIMETYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".map": "application/json",
}
# Plain names only, so that each can be quoted in the route's rule.
_BUNDLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _read_versions() -> dict[str, str]:
    versions = {}
    try:
        entries = sorted(os.scandir(STATIC_FOLDER), key=lambda entry: entry.name)
    except FileNotFoundError:  # a broken install: nothing to serve, no route
        return {}
    for entry in entries:
        name = entry.name
        if (
            _BUNDLE_NAME.fullmatch(name)
            and os.path.splitext(name)[1] in _MIMETYPES
            and entry.is_file()
        ):
            with open(entry.path, "rb") as f:
                versions[name] = hashlib.sha256(f.read()).hexdigest()[:12]
    return versions


#: The bundles the package ships (``realtime.js``, ``realtime.min.js``,
#: ``realtime.mjs`` and any source maps next to them), each with a short hash
#: of its contents. Read once, at import, and never added to: these are the
#: only names the static route serves.
BUNDLE_VERSIONS: Mapping[str, str] = MappingProxyType(_read_versions())


def bundle_version(filename: str) -> str:
    """A short hash of a shipped bundle's contents, for cache-busting URLs.

    :raises KeyError: if the package ships no bundle of that name.
    """
    return BUNDLE_VERSIONS[filename]


class AssetsBlueprint(Blueprint):
    """Serves the bundles the package ships at ``static_url_path``, as the
    endpoint ``static`` of the blueprint; a URL carrying the current version
    may be cached for a year, since a new version gets a new URL.

    Flask's own static route is not used: it takes any path and looks for it
    on disk. This route's rule lists the shipped names, so routing answers 404
    for every other one before any code here runs.
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        static_url_path: str,
        static_folder: str = STATIC_FOLDER,
        **kwargs: t.Any,
    ) -> None:
        if static_folder != STATIC_FOLDER:
            raise ValueError(
                "'AssetsBlueprint' serves only the package's own bundles, from"
                f" {STATIC_FOLDER!r}."
            )
        # No static_folder for Flask, which would add its catch-all route.
        super().__init__(name, import_name, static_url_path=static_url_path, **kwargs)
        if BUNDLE_VERSIONS:
            names = ", ".join(f'"{name}"' for name in BUNDLE_VERSIONS)
            self.add_url_rule(
                f"{static_url_path}/<any({names}):filename>",
                endpoint="static",
                view_func=self.send_static_file,
                # Not redirected to the merged path either: the exact URL or 404.
                merge_slashes=False,
            )

    def send_static_file(self, filename: str) -> Response:
        if filename not in BUNDLE_VERSIONS:  # the rule lets no such name through
            abort(404)
        return send_from_directory(
            STATIC_FOLDER,
            filename,
            mimetype=_MIMETYPES[os.path.splitext(filename)[1]],
            max_age=self.get_send_file_max_age(filename),
        )

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        version = BUNDLE_VERSIONS.get(filename) if filename else None
        if version is not None and request.args.get("v") == version:
            return _ONE_YEAR
        return super().get_send_file_max_age(filename)


def realtime_script(*, connect: bool = True, nonce: str | None = None) -> Markup:
    """The ``<script>`` tag that loads ``realtime.js``, as the template global
    ``realtime_script()``.

    The minified bundle is used unless the application is in debug mode. The
    client connects by itself when the page has a connection id; with
    ``connect=False`` it waits for the page to call ``realtime.connect()``.
    Rendering it gives the page a connection id (see
    :data:`REALTIME_INJECT`).

    :param nonce: the request's Content Security Policy nonce, for a policy
        with ``script-src 'nonce-...'``: ``realtime_script(nonce=csp_nonce())``.

    .. versionchanged:: 0.1
        The ``nonce`` parameter.
    """
    if nonce is not None and (not isinstance(nonce, str) or not nonce):
        raise TypeError(f"The nonce must be a non-empty string, got {nonce!r}.")
    if has_request_context():
        injection.mark_page_as_realtime()
    filename = "realtime.js" if current_app.debug else "realtime.min.js"
    url = url_for("realtime.static", filename=filename, v=bundle_version(filename))
    extra = "" if connect else ' data-connect="false"'
    if nonce is not None:
        extra += f' nonce="{escape(nonce)}"'
    return Markup(f'<script src="{escape(url)}" defer{extra}></script>')
