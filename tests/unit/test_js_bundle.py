"""The browser client as Python sees it: the committed bundles, the protocol
constants the client mirrors, the npm manifest, and how the extension serves
the bundles. Proving that the bundles match ``js/src`` takes Node:
``scripts/test.sh`` rebuilds them and fails on any difference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask import render_template_string

from flask_realtime import protocol
from flask_realtime import Realtime
from flask_realtime.assets import bundle_version

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "flask_realtime" / "static"
BUNDLES = ("realtime.js", "realtime.min.js", "realtime.mjs")


def package_json() -> dict:
    return json.loads((ROOT / "package.json").read_text())


def npm_version(python_version: str) -> str:
    """The npm (SemVer) spelling of a PEP 440 version: npm refuses
    ``0.1.0.dev0``, so pre-releases take SemVer's ``-tag.N`` form."""
    match = re.fullmatch(
        r"(\d+\.\d+\.\d+)(?:(a|b|rc)(\d+))?(?:\.dev(\d+))?", python_version
    )
    assert match, f"not a version this test can map: {python_version}"
    release, pre, pre_number, dev = match.groups()
    tags = []
    if pre:
        tags += [{"a": "alpha", "b": "beta", "rc": "rc"}[pre], pre_number]
    if dev is not None:
        tags += ["dev", dev]
    return release + ("-" + ".".join(tags) if tags else "")


@pytest.mark.parametrize(
    ("python", "npm"),
    [
        ("0.1.0", "0.1.0"),
        ("0.1.0.dev0", "0.1.0-dev.0"),
        ("1.2.3rc1", "1.2.3-rc.1"),
        ("1.2.3b2.dev4", "1.2.3-beta.2.dev.4"),
    ],
)
def test_npm_version_mapping(python, npm):
    assert npm_version(python) == npm


def test_package_json_has_the_python_package_version():
    # tomllib is Python 3.11+; the package supports 3.10.
    pyproject = (ROOT / "pyproject.toml").read_text()
    python_version = re.search(r'^version = "([^"]+)"$', pyproject, re.M).group(1)
    package = package_json()
    assert package["version"] == npm_version(python_version)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["version"] == package["version"]
    assert lock["packages"][""]["version"] == package["version"]


def test_package_json_is_publishable_without_runtime_dependencies():
    package = package_json()
    assert package["name"] == "flask-realtime"
    assert "private" not in package
    assert not package.get("dependencies")
    dev = package["devDependencies"]
    assert sorted(dev) == ["@eslint/js", "esbuild", "eslint", "typescript", "ws"]
    # Pinned exactly; package-lock.json pins the rest of the tree.
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in dev.values())
    assert package["scripts"] == {
        "build": "node js/build.js && npm run types",
        "types": "tsc -p js/tsconfig.json",
        "lint": "eslint js",
        "test": "node --test js/test/*_test.js && npm run test:types",
        "test:types": (
            "tsc -p js/test/types && tsc -p js/test/types/tsconfig.dom.json"
        ),
    }
    assert set(package["files"]) >= {"js/src/", "js/types/", "flask_realtime/static/"}
    exported = package["exports"]["."]["import"]
    assert (ROOT / exported).is_file()
    # The TypeScript declarations, generated into js/types and committed.
    types = package["exports"]["."]["types"]
    assert types == package["types"] == "./js/types/index.d.ts"
    assert (ROOT / types).is_file()
    for target in (package["main"], package["module"], package["unpkg"]):
        assert (ROOT / target).is_file(), target


def protocol_constants() -> dict:
    return {
        name: sorted(value) if isinstance(value, frozenset) else value
        for name, value in vars(protocol).items()
        if name.isupper()
    }


def js_constants() -> dict:
    source = (ROOT / "js" / "src" / "constants.js").read_text()
    _, found, literal = source.partition("export default ")
    assert found, "constants.js must be a single `export default {...}`"
    constants: dict = json.loads(literal)
    return constants


def test_js_constants_mirror_protocol_py():
    expected = protocol_constants()
    assert js_constants() == expected, (
        "js/src/constants.js differs from flask_realtime/protocol.py; it should"
        " read:\nexport default "
        + json.dumps(expected, indent=2)
        + "\n(then run 'npm run build')"
    )


@pytest.mark.parametrize("filename", BUNDLES)
def test_bundle_is_committed_with_the_version_and_the_constants(filename):
    text = (STATIC / filename).read_text(encoding="utf-8")
    version = package_json()["version"]
    assert text.startswith(f"/*! Flask-Realtime {version} | BSD-3-Clause */\n")
    assert "sourceMappingURL" not in text
    assert "require(" not in text
    # The protocol constants made it into the bundle.
    assert "socket_connection_id" in text
    assert "data-socket-connection-id" in text
    assert "4001" in text


def test_browser_bundles_define_the_global_and_the_module_exports():
    readable = (STATIC / "realtime.js").read_text()
    minified = (STATIC / "realtime.min.js").read_text()
    module = (STATIC / "realtime.mjs").read_text()
    assert re.search(r"^var FlaskRealtime = \(\(\) => \{$", readable, re.M)
    assert minified.count("\n") < 5
    assert re.search(r"\bvar FlaskRealtime=", minified)
    assert len(minified) < len(readable) / 1.8
    assert re.search(r"^export \{$", module, re.M)
    for name in ("Client", "createClient", "getConfig", "socketUrl", "RealtimeError"):
        assert re.search(rf"^\s+{name}\b", module[module.rindex("export {") :], re.M)
    # Only the browser build starts a client by itself.
    assert "currentScript" in readable
    assert "currentScript" not in module


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    Realtime(app)
    return app


@pytest.mark.parametrize("filename", BUNDLES)
def test_extension_serves_the_bundles(app, filename):
    client = app.test_client()
    response = client.get(f"/_realtime/static/{filename}")
    assert response.status_code == 200
    assert response.data == (STATIC / filename).read_bytes()
    assert "javascript" in response.mimetype
    response.close()
    cached = client.get(f"/_realtime/static/{filename}?v={bundle_version(filename)}")
    assert cached.cache_control.max_age == 365 * 24 * 3600
    cached.close()


def test_realtime_script_tag(app):
    with app.test_request_context():
        tag = render_template_string("{{ realtime_script() }}")
        opted_out = render_template_string("{{ realtime_script(connect=False) }}")
    version = bundle_version("realtime.min.js")
    assert tag == (
        f'<script src="/_realtime/static/realtime.min.js?v={version}" defer></script>'
    )
    assert opted_out == (
        f'<script src="/_realtime/static/realtime.min.js?v={version}" defer'
        ' data-connect="false"></script>'
    )
    app.debug = True
    with app.test_request_context():
        debug_tag = render_template_string("{{ realtime_script() }}")
    assert f'src="/_realtime/static/realtime.js?v={bundle_version("realtime.js")}"' in (
        debug_tag
    )
