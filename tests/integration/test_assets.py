"""The bundle route over a real server: it serves the bundles the package
ships and nothing else. Every other path, however it is spelled, gets the
same plain 404, without the filesystem being touched and without anything
being remembered.

The requests go out through ``http.client`` with the path exactly as written
here, since ``urllib`` may normalise ``..`` and the attack is in the bytes.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import typing as t
from types import MappingProxyType

import pytest
from flask import Flask
from flask import render_template_string
from flask import url_for

from flask_realtime import assets
from flask_realtime.assets import bundle_version
from flask_realtime.assets import BUNDLE_VERSIONS

from ..conftest import create_app
from ..support import LiveServer

PREFIX = "/_realtime/static/"
UP = "..%2f" * 12  # more than enough to climb from the package to "/"
ONE_YEAR = 365 * 24 * 3600
SHIPPED = sorted(
    name
    for name in os.listdir(assets.STATIC_FOLDER)
    if name.endswith((".js", ".mjs", ".map"))
)

# Paths that must all get the plain 404, whether or not what they name exists.
OUTSIDE = {
    "encoded-slash": UP + "etc%2fpasswd",
    "encoded-slash-missing": UP + "etc%2fno-such-file-here",
    "encoded-dots": "%2e%2e%2f" * 12 + "etc%2fpasswd",
    "encoded-dots-raw-slash": "%2e%2e/" * 12 + "etc/passwd",
    "raw-dots": "../" * 12 + "etc/passwd",
    "double-encoded": "..%252f" * 12 + "etc%252fpasswd",
    "backslashes": "..%5c" * 12 + "etc%5cpasswd",
    "raw-backslashes": "..\\" * 12 + "etc\\passwd",
    "absolute": "%2fetc%2fpasswd",
    "absolute-raw": "/etc/passwd",
    "dev-zero": UP + "dev%2fzero",
    "dev-zero-absolute": "%2fdev%2fzero",
    "proc-self": UP + "proc%2fself%2fenviron",
    "package-source": "..%2f__init__.py",
    "package-source-missing": "..%2fno_such_module.py",
    "static-folder-itself": "",
    "dot": ".",
    "missing": "no-such-bundle.js",
    "source-map-not-shipped": "realtime.js.map.missing",
    "nul": "realtime.js%00",
    "nul-middle": "a%00b",
    "nul-before-extension": "..%2f__init__.py%00.js",
    "very-long": "a" * 20_000,
    "very-long-climb": "..%2f" * 4_000 + "etc%2fpasswd",
    "upper-case": "REALTIME.JS",
    "mixed-case": "Realtime.js",
    "trailing-slash": "realtime.js/",
    "trailing-encoded-slash": "realtime.js%2f",
    "trailing-dot": "realtime.js.",
    "trailing-space": "realtime.js%20",
    "semicolon-param": "realtime.js;v=1",
    "encoded-semicolon": "realtime.js%3b.map",
    "dot-segment": "./realtime.js",
    "encoded-dot-segment": "%2e/realtime.js",
    "up-and-back": "..%2fstatic%2frealtime.js",
    "double-slash": "/realtime.js",
    "overlong-utf8": "%c0%ae%c0%ae%c0%af" * 12 + "etc%c0%afpasswd",
    "fullwidth": "%ef%bc%8e%ef%bc%8e%ef%bc%8f" * 12 + "etc%ef%bc%8fpasswd",
}


class Answer(t.NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def send(
    server: LiveServer,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request with ``path`` sent byte for byte."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, dict(response.getheaders()), body)
    finally:
        connection.close()


def without_date(answer: Answer) -> Answer:
    return answer._replace(
        headers={k: v for k, v in answer.headers.items() if k != "Date"}
    )


_opened: list[str] | None = None
_hook_installed = False


def _audit(event: str, args: tuple[t.Any, ...]) -> None:
    if _opened is not None and event in ("open", "os.listdir", "os.scandir"):
        path = args[0]
        _opened.append(os.fsdecode(path) if isinstance(path, str | bytes) else path)


@pytest.fixture
def opened() -> t.Iterator[list[str]]:
    """Every file the process opens or directory it lists during the test,
    from Python's audit events (the hook stays, idle, once the test ends)."""
    global _opened, _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


@pytest.fixture
def not_found(server: LiveServer) -> Answer:
    """The answer to a plain missing name; asking first also lets any import
    that a first 404 triggers happen before files are watched."""
    answer = send(server, PREFIX + "nothing-here")
    assert answer.status == 404
    return without_date(answer)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", list(OUTSIDE.values()), ids=list(OUTSIDE))
def test_any_other_path_is_a_plain_404_that_touches_no_file(
    server, not_found, opened, path, method
):
    versions = dict(BUNDLE_VERSIONS)
    answer = without_date(send(server, PREFIX + path, method))
    if method == "GET":
        assert answer == not_found
    else:
        assert answer.status == 404
        assert answer.body == b""
    assert opened == []
    assert dict(BUNDLE_VERSIONS) == versions


def test_files_that_exist_and_files_that_do_not_get_the_same_answer(server):
    pairs = [
        (UP + "etc%2fpasswd", UP + "etc%2fno-such-file-here"),
        (UP + "etc%2fhostname", UP + "etc%2fno-such-hostname"),
        ("..%2f__init__.py", "..%2fno_such_module.py"),
        ("..%2fstatic", "..%2fno_such_folder"),
        ("%2fetc%2fpasswd", "%2fetc%2fno-such-file-here"),
    ]
    for present, absent in pairs:
        assert without_date(send(server, PREFIX + present)) == without_date(
            send(server, PREFIX + absent)
        ), (present, absent)


def test_dev_zero_is_a_404_and_nothing_is_remembered(server, opened):
    before = dict(BUNDLE_VERSIONS)
    for path in (UP + "dev%2fzero", "%2fdev%2fzero", UP + "dev%2furandom"):
        # The timeout guards the test run; the point is the answer, not its speed.
        assert send(server, PREFIX + path).status == 404
    assert opened == []
    assert dict(BUNDLE_VERSIONS) == before
    assert sorted(BUNDLE_VERSIONS) == SHIPPED


def test_the_versions_are_the_shipped_bundles_and_nothing_else():
    assert SHIPPED  # realtime.js, realtime.min.js, realtime.mjs at least
    assert {"realtime.js", "realtime.min.js", "realtime.mjs"} <= set(SHIPPED)
    assert sorted(BUNDLE_VERSIONS) == SHIPPED
    for name in SHIPPED:
        with open(os.path.join(assets.STATIC_FOLDER, name), "rb") as f:
            assert bundle_version(name) == hashlib.sha256(f.read()).hexdigest()[:12]
    with pytest.raises(TypeError):
        BUNDLE_VERSIONS["../../etc/passwd"] = "x"  # type: ignore[index]
    for name in ("../../etc/passwd", "/dev/zero", "realtime.js\0", "REALTIME.JS"):
        with pytest.raises(KeyError):
            bundle_version(name)
    assert sorted(BUNDLE_VERSIONS) == SHIPPED


@pytest.mark.parametrize("filename", SHIPPED)
def test_the_shipped_bundles_load_and_a_versioned_url_is_cached_for_a_year(
    server, filename
):
    with open(os.path.join(assets.STATIC_FOLDER, filename), "rb") as f:
        content = f.read()
    expected_type = (
        "application/json" if filename.endswith(".map") else ("text/javascript")
    )
    url = PREFIX + filename

    plain = send(server, url)
    assert plain.status == 200
    assert plain.body == content
    assert plain.headers["Content-Type"].split(";")[0] == expected_type
    assert plain.headers["Cache-Control"] == "no-cache"  # Flask's default

    versioned = send(server, f"{url}?v={bundle_version(filename)}")
    assert versioned.status == 200
    assert versioned.body == content
    assert versioned.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}"

    for wrong in ("?v=0000000000", "?v=", "?v", f"?V={bundle_version(filename)}"):
        answer = send(server, url + wrong)
        assert answer.status == 200
        assert answer.headers["Cache-Control"] == "no-cache", wrong


def test_a_wrong_version_gets_the_configured_default_max_age(app: Flask, server):
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
    url = PREFIX + "realtime.min.js"
    assert send(server, url + "?v=wrong").headers["Cache-Control"] == (
        "public, max-age=60"
    )
    right = send(server, f"{url}?v={bundle_version('realtime.min.js')}")
    assert right.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}"


def test_head_and_conditional_requests(server):
    url = f"{PREFIX}realtime.js?v={bundle_version('realtime.js')}"
    full = send(server, url)

    head = send(server, url, "HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(full.body))
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}"

    again = send(server, url, headers={"If-None-Match": full.headers["ETag"]})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}"

    since = send(
        server, url, headers={"If-Modified-Since": full.headers["Last-Modified"]}
    )
    assert since.status == 304

    changed = send(server, url, headers={"If-None-Match": '"something-else"'})
    assert changed.status == 200
    assert changed.body == full.body


def test_the_script_tag_points_at_a_served_year_long_url(app: Flask, server):
    for debug in (False, True):
        app.debug = debug
        with app.test_request_context():
            tag = render_template_string("{{ realtime_script() }}")
        src = tag.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        answer = send(server, src)
        assert answer.status == 200, src
        assert answer.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}"


def test_urls_are_built_only_for_shipped_bundles(app: Flask):
    with app.test_request_context():
        for name in SHIPPED:
            assert url_for("realtime.static", filename=name) == PREFIX + name
        for name in ("../../etc/passwd", "nothing.js"):
            with pytest.raises(ValueError, match="is not one of"):
                url_for("realtime.static", filename=name)


def test_the_version_table_takes_plain_bundle_files_only(tmp_path, monkeypatch):
    for name in ("realtime.js", "realtime.js.map", "extra.mjs", "README.txt"):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / ".hidden.js").write_bytes(b"x")
    (tmp_path / "with space.js").write_bytes(b"x")
    (tmp_path / 'quote".js').write_bytes(b"x")
    (tmp_path / "folder.js").mkdir()
    monkeypatch.setattr(assets, "STATIC_FOLDER", str(tmp_path))
    versions = assets._read_versions()
    assert sorted(versions) == ["extra.mjs", "realtime.js", "realtime.js.map"]
    assert versions["realtime.js"] == hashlib.sha256(b"realtime.js").hexdigest()[:12]
    monkeypatch.setattr(assets, "STATIC_FOLDER", str(tmp_path / "missing"))
    assert assets._read_versions() == {}


def test_a_source_map_next_to_the_bundles_is_served_as_json(tmp_path, monkeypatch):
    for name in SHIPPED:
        with open(os.path.join(assets.STATIC_FOLDER, name), "rb") as f:
            (tmp_path / name).write_bytes(f.read())
    (tmp_path / "realtime.js.map").write_text('{"version": 3}')
    folder = str(tmp_path)
    monkeypatch.setattr(assets, "STATIC_FOLDER", folder)
    monkeypatch.setattr("flask_realtime.extension.STATIC_FOLDER", folder)
    monkeypatch.setattr(
        assets, "BUNDLE_VERSIONS", MappingProxyType(assets._read_versions())
    )
    server = LiveServer(create_app())
    try:
        url = f"{PREFIX}realtime.js.map?v={bundle_version('realtime.js.map')}"
        answer = send(server, url)
        assert answer.status == 200
        assert answer.body == b'{"version": 3}'
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}"
        assert send(server, PREFIX + "realtime.js.mapx").status == 404
        assert send(server, PREFIX + "..%2frealtime.js.map").status == 404
    finally:
        server.stop()


def test_the_script_tag_carries_a_csp_nonce(app: Flask):
    with app.test_request_context():
        tag = render_template_string("{{ realtime_script(nonce='n0&\"x') }}")
        assert 'nonce="n0&amp;&#34;x"' in tag
        assert "nonce" not in render_template_string("{{ realtime_script() }}")
        for bad in ("", 5, b"n"):
            with pytest.raises(TypeError, match="nonce must be a non-empty string"):
                render_template_string("{{ realtime_script(nonce=bad) }}", bad=bad)
