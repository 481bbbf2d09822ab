"""The example chat's features in a real browser: a message shown once by its
sender, "typing…", leaving and joining a room, and logging out.

Each ``pages.open()`` is a separate browser context (its own session); tabs
of one session are opened with :func:`open_tab`. The ``pages`` fixture fails
a test on any script error or console error in them.
"""

from __future__ import annotations

import re
import typing as t

from .conftest import connected
from .conftest import expect
from .test_browser import log_in
from .test_browser import messages
from .test_browser import post
from .test_browser import push

if t.TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Page

    from .conftest import Pages


def open_tab(pages: Pages, page: Page, path: str) -> Page:
    """Another tab in ``page``'s context (so the same session), whose errors
    fail the test as those of ``pages.open()`` do."""
    tab = page.context.new_page()
    tab.on("pageerror", lambda error: pages.errors.append(f"pageerror: {error}"))
    tab.on(
        "console",
        lambda message: (
            pages.errors.append(f"console error: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    tab.goto(path)
    return tab


def test_the_sender_shows_its_message_once_from_the_reply(pages: Pages, app: Flask):
    ann = pages.open("/rooms/lobby")
    bob = pages.open("/rooms/lobby")
    connected(ann)
    connected(bob)
    post(ann, "just once")
    expect(messages(bob)).to_have_text(["just once"])
    # A push after it: had the route pushed the message to its sender too,
    # it would come before this one, on the same channel.
    push(app, "after")
    for page in (ann, bob):
        expect(messages(page)).to_have_text(["just once", "after"])


def test_typing_shows_on_the_other_pages_until_the_message_or_a_pause(
    pages: Pages,
):
    ann = pages.open("/rooms/lobby")
    bob = pages.open("/rooms/lobby")
    elsewhere = pages.open("/rooms/python")
    log_in(ann, "ann")
    connected(bob)
    connected(elsewhere)
    text = ann.locator("input[name=text]")

    text.press_sequentially("hel")
    expect(bob.locator("#typing")).to_have_text("ann is typing…")
    # It goes away by itself when ann stops typing...
    expect(bob.locator("#typing")).to_have_text("")
    # ...and at once when ann's message arrives.
    text.press_sequentially("lo")
    expect(bob.locator("#typing")).to_have_text("ann is typing…")
    ann.click("#post button")
    expect(messages(bob)).to_have_text(["hello"])
    expect(bob.locator("#typing")).to_have_text("")
    # Neither the typing page nor another room heard of it.
    expect(messages(ann)).to_have_text(["hello"])
    for page in (ann, elsewhere):
        expect(page.locator("#typing")).to_have_text("")


def test_a_page_that_leaves_the_room_misses_what_is_said_until_it_joins(
    pages: Pages,
):
    ann = pages.open("/rooms/lobby")
    bob = pages.open("/rooms/lobby")
    connected(ann)
    connected(bob)

    ann.click("#leave")
    expect(ann.locator("#leave")).to_have_text("Join")
    expect(ann.locator("#note")).to_contain_text("You left the room")
    post(bob, "while ann is out")
    expect(messages(bob)).to_have_text(["while ann is out"])

    ann.click("#leave")
    expect(ann.locator("#leave")).to_have_text("Leave")
    post(bob, "ann is back")
    # The first push never reached ann's page: it shows only the second.
    expect(messages(ann)).to_have_text(["ann is back"])
    expect(ann.locator("#status")).to_have_text("connected")


def test_logging_out_ends_the_other_tabs_which_say_so(pages: Pages):
    ann = pages.open("/rooms/lobby")
    log_in(ann, "ann")
    other_tab = open_tab(pages, ann, "/rooms/python")
    connected(other_tab)
    someone_else = pages.open("/rooms/python")
    connected(someone_else)

    with ann.expect_navigation():
        ann.click("header button")  # Log out
    expect(ann.locator("#me")).to_have_text(re.compile(r"anonymous-\d+"))
    connected(ann)

    # The other tab's socket was closed with 4003; the page listens to
    # "ended", so the client leaves it to the page, which says so.
    expect(other_tab.locator("#status")).to_contain_text("reload the page")
    assert other_tab.evaluate("realtime.state") == "ended"
    expect(other_tab.locator("input[name=text]")).to_be_disabled()
    expect(other_tab.locator("#me")).to_have_text("ann")  # not reloaded
    # Another browser is not concerned.
    assert someone_else.evaluate("realtime.state") == "open"


def present(page: Page) -> t.Any:
    return page.locator("#present li")


def test_who_is_here_follows_the_pages_that_come_and_go(pages: Pages):
    ann = pages.open("/rooms/lobby")
    log_in(ann, "ann")
    expect(present(ann)).to_have_text(["ann"])
    bob = pages.open("/rooms/lobby")
    log_in(bob, "bob")
    for page in (ann, bob):
        expect(present(page)).to_have_text(["ann", "bob"])

    # A person's tabs are one entry.
    bobs_other_tab = open_tab(pages, bob, "/rooms/lobby")
    connected(bobs_other_tab)
    expect(present(ann)).to_have_text(["ann", "bob (2 tabs)"])
    bobs_other_tab.close()
    expect(present(ann)).to_have_text(["ann", "bob"])

    # Leaving the room ends the page's presence there; joining brings it back.
    bob.click("#leave")
    expect(present(ann)).to_have_text(["ann"])
    expect(present(bob)).to_have_count(0)
    bob.click("#leave")
    for page in (ann, bob):
        expect(present(page)).to_have_text(["ann", "bob"])
