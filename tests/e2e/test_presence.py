"""Presence in a real browser: realtime.presence() and onPresence()."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask import g
from flask import render_template_string
from flask import request

from flask_realtime import Realtime

from .conftest import connected
from .conftest import expect

if t.TYPE_CHECKING:
    from .conftest import Pages

ROOM = """<!doctype html>
<html><head><meta charset="utf-8"><title>room</title>
<link rel="icon" href="data:,"></head>
<body>
  <p id="status">not connected</p>
  <ul id="people"></ul>
  {{ realtime_script() }}
  <script type="module">
    window.changes = []
    realtime.onEvent("open", () => {
      document.getElementById("status").textContent = "connected"
    })
    realtime.onPresence("room", (list, change) => {
      window.changes.push(change)
      document.getElementById("people").replaceChildren(
        ...Object.keys(list).sort().map((key) => {
          const item = document.createElement("li")
          item.textContent = `${key} (${list[key].length})`
          return item
        })
      )
    })
  </script>
</body></html>
"""


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="e2e secret")
    Realtime(app)

    @app.get("/room")
    def room() -> str:
        g.socket.subscribe("room")
        g.socket.track("room", request.args["key"], {"tab": request.args.get("tab")})
        return render_template_string(ROOM)

    return app


def people(page: t.Any) -> t.Any:
    return page.locator("#people li")


def test_pages_see_who_comes_and_goes(pages: Pages):
    ann = pages.open("/room?key=ann")
    connected(ann)
    expect(people(ann)).to_have_text(["ann (1)"])
    bob_tabs = [pages.open(f"/room?key=bob&tab={n}") for n in (1, 2)]
    for bob in bob_tabs:
        connected(bob)
    # One key, two tabs; every page has the same list.
    for page in (ann, *bob_tabs):
        expect(people(page)).to_have_text(["ann (1)", "bob (2)"])
    assert ann.evaluate("realtime.presence('room')") == {
        "ann": [{"tab": None}],
        "bob": [{"tab": "1"}, {"tab": "2"}],
    }
    bob_tabs[0].close()  # the page unloads: its socket closes cleanly
    expect(people(ann)).to_have_text(["ann (1)", "bob (1)"])
    bob_tabs[1].close()
    expect(people(ann)).to_have_text(["ann (1)"])
    assert ann.evaluate("window.changes.at(-1)") == {
        "joins": {},
        "leaves": {"bob": [{"tab": "2"}]},
    }
