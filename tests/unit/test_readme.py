"""What the README promises a newcomer: links that work on PyPI, and the two
commands of its quick start, one of which is the one CI runs."""

from __future__ import annotations

import os
import re

import pytest

from ..readme import code_blocks
from ..readme import README

ROOT = README.parent
#: A Markdown link or image: [text](target).
_LINK = re.compile(r"\]\(([^)\s]+)")


def test_every_link_is_absolute_so_that_it_works_on_pypi() -> None:
    # PyPI renders the README away from the repository: a relative link such
    # as (docs/quickstart.rst) leads nowhere there.
    targets = _LINK.findall(README.read_text(encoding="utf-8"))
    relative = [t for t in targets if not t.startswith(("https://", "http://"))]
    assert relative == []


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    commands = [block.strip() for block in code_blocks("")]
    assert "bash scripts/test.sh" in commands
    ci_run = ROOT / ".ci" / "run"
    if not ci_run.exists():
        pytest.skip("not a checkout (a source distribution has no .ci/run)")
    ci = ci_run.read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == "bash scripts/test.sh"


def test_the_example_command_is_an_executable_script() -> None:
    commands = [block.strip() for block in code_blocks("")]
    assert "scripts/run-example.sh" in commands
    assert os.access(ROOT / "scripts" / "run-example.sh", os.X_OK)


def test_the_example_is_a_complete_page_in_templates_index_html() -> None:
    (template,) = code_blocks("html")
    assert template.startswith("<!doctype html>")
    assert "<head>" in template and "<title>" in template
    assert "{{ realtime_script() }}" in template
    assert "`templates/index.html`" in README.read_text(encoding="utf-8")
    (python,) = code_blocks("python")
    assert 'render_template("index.html")' in python


def test_the_install_instructions_work_before_the_release() -> None:
    text = README.read_text(encoding="utf-8")
    assert "not on PyPI or npm yet" in text
    assert "pip install -e ." in text
    # The wheel named is the one `python -m build` writes for this version.
    version = re.search(
        r'^version = "([^"]+)"',
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert version is not None
    assert f"dist/flask_realtime-{version.group(1)}-py3-none-any.whl" in text
