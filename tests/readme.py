"""The README's example, as a newcomer would save it: its Python block as
``app.py`` and its HTML block as ``templates/index.html``."""

from __future__ import annotations

import importlib.util
import re
import sys
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from flask import Flask

README = Path(__file__).parent.parent / "README.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def code_blocks(language: str) -> list[str]:
    """The README's fenced code blocks of one language ("" for untagged)."""
    text = README.read_text(encoding="utf-8")
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def load_example(folder: Path) -> tuple[Flask, str]:
    """Save the example into ``folder`` and import it; returns the app and
    the module's name, which the caller removes from ``sys.modules``."""
    (python,) = code_blocks("python")
    (template,) = code_blocks("html")
    (folder / "app.py").write_text(python, encoding="utf-8")
    (folder / "templates").mkdir()
    (folder / "templates" / "index.html").write_text(template, encoding="utf-8")
    name = f"readme_app_{id(folder)}"
    spec = importlib.util.spec_from_file_location(name, folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Flask finds the templates next to the module through sys.modules.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    app: Flask = module.app
    return app, name
