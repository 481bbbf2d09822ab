"""What type checkers see of the public decorators."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

PYPROJECT = pathlib.Path(__file__).parents[2] / "pyproject.toml"

SNIPPET = textwrap.dedent(
    """
    from flask import Flask
    from flask_realtime import Realtime

    app = Flask(__name__)
    realtime = Realtime(app)

    @realtime.handler("typing")
    def typing(message: dict[str, object]) -> str:
        return "ok"

    @app.get("/")
    @realtime.http_only
    def index() -> str:
        return ""

    reveal_type(typing)
    reveal_type(index)
    """
)


def test_the_decorators_keep_the_functions_type(tmp_path):
    api = pytest.importorskip("mypy.api")
    path = tmp_path / "snippet.py"
    path.write_text(SNIPPET)
    stdout, stderr, status = api.run(
        # The project's settings (strict); its own files are checked by CI's
        # mypy run, so only this snippet's errors count here.
        [f"--config-file={PYPROJECT}", "--follow-imports=silent", str(path)]
    )
    assert status == 0, stdout + stderr
    assert 'Revealed type is "def (message: dict[str, object]) -> str"' in stdout
    assert 'Revealed type is "def () -> str"' in stdout
