"""The example chat, end to end: a live server, browsers and real sockets."""

from __future__ import annotations

import json
import re
import typing as t
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from example_app.store import MessageStore

from ..support import Browser
from ..support import Socket

FETCH = {"X-Requested-With": "fetch"}


def post_no_redirect(
    browser: Browser, path: str, data: dict[str, str]
) -> tuple[int, str | None]:
    """POST a form the way a browser without JavaScript does, but stop at the
    redirect: return its status and Location (``Browser.request`` follows)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: t.Any, **kwargs: t.Any) -> None:
            return None

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(browser.cookies), NoRedirect
    )
    request = urllib.request.Request(
        browser.server_url + path, data=urlencode(data).encode(), method="POST"
    )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers.get("Location")


def watch(browser: Browser, room: str) -> Socket:
    """Open a room page and connect its socket, attached once this returns."""
    socket = browser.open(f"/rooms/{room}").connect()
    assert socket.request("ping")["body"] == "pong"
    return socket


def assert_nothing_pushed(socket: Socket) -> None:
    """The next frame the socket gets after a ping is the pong: nothing was
    pushed to it before."""
    socket.send(json.dumps({"action": "ping", "id": 1}))
    assert socket.receive() == {"id": 1, "body": "pong"}


def message_texts(html: str) -> list[str]:
    return re.findall(r"<span>(.*?)</span>", html)


def store(app: t.Any) -> MessageStore:
    return t.cast(MessageStore, app.extensions["example_app.messages"])


def test_index_redirects_to_the_lobby(browser):
    request = urllib.request.Request(browser.server_url + "/")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.url == browser.server_url + "/rooms/lobby"


def test_room_page_has_the_socket_attributes_and_recent_messages(browser):
    for text in ("first", "second"):
        status, _ = browser.request(
            "/rooms/python/messages",
            method="POST",
            data={"author": "ann", "text": text},
            headers=FETCH,
        )
        assert status == 204
    page = browser.open("/rooms/python")
    assert re.search(
        r'<body data-socket-connection-id="[A-Za-z0-9_-]{43}"'
        r' data-socket-path="/_realtime">',
        page.html,
    )
    assert message_texts(page.html) == ["first", "second"]
    assert "<b>ann</b>" in page.html
    for room in ("lobby", "python", "random"):
        assert f'href="/rooms/{room}"' in page.html
    # Another room has its own messages.
    assert message_texts(browser.open("/rooms/lobby").html) == []


def test_each_render_is_a_new_page_with_its_own_id(browser):
    first = browser.open("/rooms/lobby")
    second = browser.open("/rooms/lobby")
    assert first.connection_id and second.connection_id
    assert first.connection_id != second.connection_id


def test_the_page_shows_only_the_last_50_messages(app, browser):
    for i in range(60):
        store(app).add(
            "lobby",
            {
                "author": "a",
                "text": f"m{i:02}",
                "room": "lobby",
                "at": "2024-01-01T00:00:00+00:00",
            },
        )
    texts = message_texts(browser.open("/rooms/lobby").html)
    assert texts == [f"m{i:02}" for i in range(10, 60)]


def test_store_forgets_the_least_recently_used_room():
    messages = MessageStore(max_messages=2, max_rooms=2)
    for room in ("a", "b", "a", "c"):
        messages.add(room, {"text": room})
    assert messages.recent("a") == [{"text": "a"}, {"text": "a"}]
    assert messages.recent("b") == []
    assert messages.recent("c") == [{"text": "c"}]


def test_form_post_redirects_and_the_message_shows_on_the_next_render(browser):
    status, location = post_no_redirect(
        browser, "/rooms/random/messages", {"author": "bob", "text": "  hello  "}
    )
    assert status == 303
    assert location == "/rooms/random"
    assert message_texts(browser.open("/rooms/random").html) == ["hello"]


def test_fetch_post_is_pushed_to_the_other_browsers_in_the_room(browser, new_browser):
    other = new_browser()
    in_lobby = watch(other, "lobby")
    own_page = watch(browser, "lobby")
    elsewhere = watch(other, "python")

    status, body = browser.request(
        "/rooms/lobby/messages",
        method="POST",
        data={"author": "ann", "text": "hi all"},
        headers=FETCH,
    )
    assert (status, body) == (204, "")

    for socket in (in_lobby, own_page):
        push = socket.receive()
        assert push["channel"] == "room:lobby"
        payload = push["payload"]
        assert {k: payload[k] for k in ("author", "text", "room")} == {
            "author": "ann",
            "text": "hi all",
            "room": "lobby",
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", payload["at"])
    assert_nothing_pushed(elsewhere)


def test_empty_author_is_anonymous(browser):
    socket = watch(browser, "lobby")
    browser.request(
        "/rooms/lobby/messages", method="POST", data={"text": "x"}, headers=FETCH
    )
    assert socket.receive()["payload"]["author"] == "anonymous"


@pytest.mark.parametrize(
    ("path", "data", "status", "error"),
    [
        ("/rooms/lobby/messages", {"author": "a", "text": ""}, 400, "empty"),
        ("/rooms/lobby/messages", {"author": "a", "text": " \n\t "}, 400, "empty"),
        ("/rooms/lobby/messages", {"author": "a"}, 400, "empty"),
        ("/rooms/lobby/messages", {"text": "x" * 501}, 400, "at most 500"),
        ("/rooms/lobby/messages", {"author": "a" * 41, "text": "x"}, 400, "at most 40"),
        ("/rooms/lob.by/messages", {"text": "x"}, 404, None),
        ("/rooms/lob%20by/messages", {"text": "x"}, 404, None),
        ("/rooms/" + "a" * 33 + "/messages", {"text": "x"}, 404, None),
    ],
)
def test_bad_input_is_refused_and_nothing_is_pushed(
    app, browser, new_browser, path, data, status, error
):
    socket = watch(new_browser(), "lobby")
    for headers in (FETCH, {}):
        got, body = browser.request(path, method="POST", data=data, headers=headers)
        assert got == status
        if error is not None:
            assert error in body
    assert_nothing_pushed(socket)
    assert store(app).recent("lobby") == []


def test_longest_valid_input_is_accepted(browser):
    socket = watch(browser, "a" * 32)
    status, _ = browser.request(
        f"/rooms/{'a' * 32}/messages",
        method="POST",
        data={"author": "b" * 40, "text": "c" * 500},
        headers=FETCH,
    )
    assert status == 204
    assert socket.receive()["payload"]["text"] == "c" * 500


@pytest.mark.parametrize("name", ["lob.by", "a" * 33, "%C3%A9t%C3%A9", "a%2Fb"])
def test_bad_room_name_is_not_found(browser, name):
    status, _ = browser.request(f"/rooms/{name}")
    assert status == 404


def test_html_in_a_message_is_escaped(browser):
    socket = watch(browser, "lobby")
    browser.request(
        "/rooms/lobby/messages",
        method="POST",
        data={"author": "<i>eve</i>", "text": '<script>alert("x")</script>'},
        headers=FETCH,
    )
    # Pushed as is: the page script inserts it with textContent.
    assert socket.receive()["payload"]["text"] == '<script>alert("x")</script>'
    html = browser.open("/rooms/lobby").html
    assert "<script>alert" not in html
    assert "<i>eve</i>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;i&gt;eve&lt;/i&gt;" in html
