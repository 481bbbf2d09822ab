"""The README's example, saved as a newcomer saves it, in a real browser."""

from __future__ import annotations

import sys
import typing as t

import pytest

from ..readme import load_example
from .conftest import expect
from .conftest import TIMEOUT

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from playwright.sync_api import Page

    from .conftest import Pages


@pytest.fixture
def app(tmp_path: Path) -> t.Iterator[Flask]:
    """The README's app.py and templates/index.html, instead of the example
    app."""
    readme_app, module_name = load_example(tmp_path)
    # Chromium asks for an icon the page does not name; the 404 would count
    # as a console error.
    readme_app.add_url_rule("/favicon.ico", "favicon", lambda: ("", 204))
    yield readme_app
    del sys.modules[module_name]


def open_page(pages: Pages) -> Page:
    page = pages.open("/")
    page.wait_for_function(
        "window.realtime && realtime.state === 'open'", timeout=TIMEOUT
    )
    return page


def test_the_readme_chat_shows_a_message_in_every_window(pages: Pages) -> None:
    first = open_page(pages)
    second = open_page(pages)

    first.fill("input[name=text]", "hello from the README")
    first.click("button")

    # Exactly the message sent: opening a page posts nothing.
    for page in (first, second):
        expect(page.locator("#log li")).to_have_text(["hello from the README"])
    expect(first.locator("input[name=text]")).to_have_value("")
