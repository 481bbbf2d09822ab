"""The example chat, end to end: a live server, browsers and real sockets."""

from __future__ import annotations

import json
import re
import typing as t
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from example_app import realtime as example_realtime
from example_app.store import MessageStore

from ..support import Browser
from ..support import Closed
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
    """Open a room page and connect its socket, attached and present in the
    room once this returns: the page sends "here" once its socket is open."""
    socket = browser.open(f"/rooms/{room}").connect()
    assert socket.request("here", room=room)["body"] == "ok"
    return socket


def frames_until_pong(socket: Socket) -> list[t.Any]:
    """Every frame the socket got before the pong of a ping, presence
    frames included."""
    socket.send(json.dumps({"action": "ping", "id": "p"}))
    frames = []
    while (frame := socket.receive()) != {"id": "p", "body": "pong"}:
        frames.append(frame)
    return frames


def is_presence(frame: t.Any) -> bool:
    return "presence" in frame or "presence_state" in frame


def receive(socket: Socket) -> t.Any:
    """The next push or reply, past the presence frames: every room page is
    present in its room, so pages come and go in most tests. Presence has
    tests of its own."""
    while is_presence(frame := socket.receive()):
        pass
    return frame


def receive_close(socket: Socket) -> Closed:
    """How the server closes the socket, past the presence frames."""
    try:
        frame = receive(socket)
    except Closed as closed:
        return closed
    raise AssertionError(f"expected a close, got {frame!r}")


def assert_nothing_pushed(socket: Socket) -> None:
    """The next frame the socket gets after a ping is the pong: nothing was
    pushed to it before."""
    socket.send(json.dumps({"action": "ping", "id": 1}))
    assert receive(socket) == {"id": 1, "body": "pong"}


def message_texts(html: str) -> list[str]:
    return re.findall(r"<span>(.*?)</span>", html)


def message_authors(html: str) -> list[str]:
    return re.findall(r"<b>(.*?)</b>", html)


def my_name(html: str) -> str:
    """The name the room page says the browser posts under."""
    match = re.search(r'<b id="me">(.*?)</b>', html)
    assert match, html
    return match.group(1)


def log_in(browser: Browser, name: str) -> None:
    status, _ = post_no_redirect(browser, "/login", {"name": name, "room": "lobby"})
    assert status == 303


def call(socket: Socket, uri: str, input: t.Any = None) -> t.Any:
    """POST to a route over the socket, as ``realtime.call()`` does, and
    return the reply, which must be the next frame: nothing was pushed to
    this socket before it."""
    message = {"action": "call-route", "id": "c1", "uri": uri, "method": "POST"}
    if input is not None:
        message["input"] = input
    socket.send(json.dumps(message))
    reply = receive(socket)
    assert reply["id"] == "c1", f"a push came before the reply: {reply}"
    return reply


def store(app: t.Any) -> MessageStore:
    return t.cast(MessageStore, app.extensions["example_app.messages"])


def test_index_redirects_to_the_lobby(browser):
    request = urllib.request.Request(browser.server_url + "/")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.url == browser.server_url + "/rooms/lobby"


def test_room_page_has_the_socket_attributes_and_recent_messages(browser):
    log_in(browser, "ann")
    for text in ("first", "second"):
        status, _ = browser.request(
            "/rooms/python/messages",
            method="POST",
            data={"text": text},
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
    assert message_authors(page.html) == ["ann", "ann"]
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


def test_form_post_redirects_and_the_message_shows_on_the_next_render(
    browser, new_browser
):
    # A form posted without JavaScript comes from no page socket: nobody is
    # left out, not even this browser's open page.
    own_page = watch(browser, "random")
    other = watch(new_browser(), "random")
    status, location = post_no_redirect(
        browser, "/rooms/random/messages", {"text": "  hello  "}
    )
    assert status == 303
    assert location == "/rooms/random"
    assert message_texts(browser.open("/rooms/random").html) == ["hello"]
    for socket in (own_page, other):
        assert receive(socket)["payload"]["text"] == "hello"


def test_fetch_post_is_pushed_to_the_other_browsers_in_the_room(browser, new_browser):
    log_in(browser, "ann")
    other = new_browser()
    in_lobby = watch(other, "lobby")
    own_page = watch(browser, "lobby")
    elsewhere = watch(other, "python")

    status, body = browser.request(
        "/rooms/lobby/messages",
        method="POST",
        data={"text": "hi all"},
        headers=FETCH,
    )
    assert (status, body) == (204, "")
    # Nobody is left out either: this request names no page.

    for socket in (in_lobby, own_page):
        push = receive(socket)
        assert push["channel"] == "room:lobby"
        payload = push["payload"]
        assert {k: payload[k] for k in ("author", "text", "room")} == {
            "author": "ann",
            "text": "hi all",
            "room": "lobby",
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", payload["at"])
    assert_nothing_pushed(elsewhere)


def test_a_browser_that_has_not_logged_in_posts_as_a_guest(browser, new_browser):
    name = my_name(browser.open("/rooms/lobby").html)
    assert re.fullmatch(r"anonymous-\d+", name)
    # The session keeps the name, on every page...
    assert my_name(browser.open("/rooms/python").html) == name
    # ...and another browser is another guest.
    assert my_name(new_browser().open("/rooms/lobby").html) != name

    socket = watch(new_browser(), "lobby")
    browser.request(
        "/rooms/lobby/messages",
        method="POST",
        # A name the client sends is not used: only the session's is.
        data={"text": "x", "author": "ann"},
        headers=FETCH,
    )
    assert receive(socket)["payload"]["author"] == name


@pytest.mark.parametrize(
    ("path", "data", "status", "error"),
    [
        ("/rooms/lobby/messages", {"text": ""}, 400, "empty"),
        ("/rooms/lobby/messages", {"text": " \n\t "}, 400, "empty"),
        ("/rooms/lobby/messages", {}, 400, "empty"),
        ("/rooms/lobby/messages", {"text": "x" * 501}, 400, "at most 500"),
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
    log_in(browser, "b" * 40)
    socket = watch(browser, "a" * 32)
    status, _ = browser.request(
        f"/rooms/{'a' * 32}/messages",
        method="POST",
        data={"text": "c" * 500},
        headers=FETCH,
    )
    assert status == 204
    payload = receive(socket)["payload"]
    assert (payload["author"], payload["text"]) == ("b" * 40, "c" * 500)


@pytest.mark.parametrize("name", ["lob.by", "a" * 33, "%C3%A9t%C3%A9", "a%2Fb"])
def test_bad_room_name_is_not_found(browser, name):
    status, _ = browser.request(f"/rooms/{name}")
    assert status == 404


def test_html_in_a_message_is_escaped(browser):
    log_in(browser, "<i>eve</i>")
    socket = watch(browser, "lobby")
    browser.request(
        "/rooms/lobby/messages",
        method="POST",
        data={"text": '<script>alert("x")</script>'},
        headers=FETCH,
    )
    # Pushed as is: the page script inserts it with textContent.
    assert receive(socket)["payload"]["text"] == '<script>alert("x")</script>'
    html = browser.open("/rooms/lobby").html
    assert "<script>alert" not in html
    assert "<i>eve</i>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;i&gt;eve&lt;/i&gt;" in html


# Posting over the socket: everyone but the sender.


def test_a_message_posted_over_the_socket_reaches_everyone_but_its_page(
    app, browser, new_browser
):
    log_in(browser, "ann")
    ann = watch(browser, "lobby")
    ann_other_tab = watch(browser, "lobby")
    bob = watch(new_browser(), "lobby")

    reply = call(ann, "/rooms/lobby/messages", {"text": "hi bob"})
    # The page shows its message from the reply...
    assert reply["status"] == 201
    assert {k: reply["body"][k] for k in ("author", "text", "room")} == {
        "author": "ann",
        "text": "hi bob",
        "room": "lobby",
    }
    # ...and gets no push of it: the route excluded it.
    assert_nothing_pushed(ann)
    # Everyone else in the room gets it, the sender's other tabs included:
    # exclude names a page, not a person.
    for socket in (bob, ann_other_tab):
        push = receive(socket)
        assert push["channel"] == "room:lobby"
        assert push["payload"] == reply["body"]
    assert store(app).recent("lobby") == [reply["body"]]


@pytest.mark.parametrize(
    ("input", "error"),
    [
        ({"text": ""}, "The message is empty."),
        ({"text": 5}, "The message must be text."),
        ({"text": ["x"]}, "The message must be text."),
        ({"text": "x" * 501}, "The message must have at most 500 characters."),
        (["not", "an", "object"], "The message is empty."),
    ],
)
def test_bad_input_over_the_socket_is_a_400_and_nothing_is_pushed(
    app, browser, new_browser, input, error
):
    sender = watch(browser, "lobby")
    other = watch(new_browser(), "lobby")
    reply = call(sender, "/rooms/lobby/messages", input)
    assert (reply["status"], reply["body"]) == (400, error)
    assert_nothing_pushed(other)
    assert store(app).recent("lobby") == []


# Leaving and joining a room over the socket.


def test_a_page_that_leaves_a_room_stops_receiving_and_joining_starts_again(
    browser, new_browser
):
    ann = watch(browser, "lobby")
    bob = watch(new_browser(), "lobby")

    def bob_says(text: str) -> None:
        assert call(bob, "/rooms/lobby/messages", {"text": text})["status"] == 201

    reply = call(ann, "/rooms/lobby/leave")
    assert (reply["status"], reply["body"]) == (
        200,
        {"room": "lobby", "listening": False},
    )
    bob_says("anyone here?")
    assert_nothing_pushed(ann)
    # A page that left may still post: the room gets it.
    assert call(ann, "/rooms/lobby/messages", {"text": "just passing"})["status"] == 201
    assert receive(bob)["payload"]["text"] == "just passing"

    reply = call(ann, "/rooms/lobby/join")
    assert (reply["status"], reply["body"]) == (
        200,
        {"room": "lobby", "listening": True},
    )
    bob_says("welcome back")
    # New pushes only: nothing of what was said meanwhile.
    assert receive(ann)["payload"]["text"] == "welcome back"


def test_leave_and_join_work_over_http_for_a_page_whose_socket_is_down(
    browser, new_browser
):
    # The page's HTTP fallback names the page in X-Socket-Connection-Id.
    page = browser.open("/rooms/lobby")
    headers = {"X-Socket-Connection-Id": t.cast(str, page.connection_id)}
    status, body = browser.request("/rooms/lobby/leave", method="POST", headers=headers)
    assert (status, json.loads(body)) == (200, {"room": "lobby", "listening": False})
    socket = page.connect()
    poster = watch(new_browser(), "lobby")
    assert call(poster, "/rooms/lobby/messages", {"text": "x"})["status"] == 201
    assert_nothing_pushed(socket)

    status, _ = browser.request("/rooms/lobby/join", method="POST", headers=headers)
    assert status == 200
    assert call(poster, "/rooms/lobby/messages", {"text": "y"})["status"] == 201
    assert receive(socket)["payload"]["text"] == "y"


@pytest.mark.parametrize("action", ["leave", "join"])
def test_leave_and_join_from_no_page_are_refused(browser, action):
    status, body = browser.request(f"/rooms/lobby/{action}", method="POST")
    assert status == 400
    assert "realtime.call()" in body
    status, _ = browser.request(f"/rooms/lob.by/{action}", method="POST")
    assert status == 404


def test_leave_a_room_with_a_bad_name_over_the_socket_is_not_found(browser):
    socket = watch(browser, "lobby")
    assert call(socket, "/rooms/lob.by/leave")["status"] == 404
    assert call(socket, "/rooms/lob.by/join")["status"] == 404


# "typing": a handler of the app's own.


def test_typing_reaches_the_others_in_the_room_but_not_the_sender(browser, new_browser):
    log_in(browser, "ann")
    ann = watch(browser, "lobby")
    bob = watch(new_browser(), "lobby")
    elsewhere = watch(new_browser(), "python")

    ann.send(json.dumps({"action": "typing", "id": "t1", "room": "lobby"}))
    assert receive(ann) == {"id": "t1", "body": "ok"}
    assert receive(bob) == {
        "channel": "room:lobby",
        "payload": {"typing": "ann"},
    }
    assert_nothing_pushed(ann)
    assert_nothing_pushed(elsewhere)


def test_typing_carries_the_sessions_name_never_the_messages(browser, new_browser):
    guest = my_name(browser.open("/rooms/lobby").html)
    sender = watch(browser, "lobby")
    other = watch(new_browser(), "lobby")
    reply = sender.request("typing", room="lobby", typing="ann", name="ann")
    assert reply["body"] == "ok"
    assert receive(other)["payload"] == {"typing": guest}


@pytest.mark.parametrize(
    "fields",
    [{}, {"room": ""}, {"room": "lob.by"}, {"room": 7}, {"room": ["lobby"]}],
)
def test_typing_for_a_bad_room_is_an_error_reply_and_nothing_is_pushed(
    browser, new_browser, fields
):
    sender = watch(browser, "lobby")
    other = watch(new_browser(), "lobby")
    reply = sender.request("typing", **fields)
    assert reply["error"] == {
        "code": "invalid_room",
        "message": "The room must be a room's name.",
    }
    # The socket stays open, and nobody was told anything.
    assert_nothing_pushed(sender)
    assert_nothing_pushed(other)


def test_typing_for_a_room_the_page_is_not_in_is_refused(browser, new_browser):
    sender = watch(browser, "lobby")
    in_python = watch(new_browser(), "python")
    reply = sender.request("typing", room="python")
    assert reply["error"]["code"] == "not_in_room"
    # Nor in a room the page has left.
    lobby = watch(new_browser(), "lobby")
    assert call(sender, "/rooms/lobby/leave")["status"] == 200
    assert sender.request("typing", room="lobby")["error"]["code"] == "not_in_room"
    assert_nothing_pushed(in_python)
    assert_nothing_pushed(lobby)


# Posts from other sites.

EVIL = {"Origin": "http://evil.example"}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/rooms/lobby/messages", {"text": "I quit"}),
        ("/logout", {"room": "lobby"}),
        ("/login", {"name": "mallory", "room": "lobby"}),
        ("/rooms/lobby/leave", {}),
    ],
)
def test_a_post_from_another_site_is_refused(app, browser, new_browser, path, data):
    log_in(browser, "ann")
    victim = watch(browser, "lobby")
    other = watch(new_browser(), "lobby")
    status, _ = browser.request(path, method="POST", data=data, headers=EVIL)
    assert status == 403
    assert_nothing_pushed(other)
    assert store(app).recent("lobby") == []
    # Still ann, her page still open.
    assert victim.request("ping")["body"] == "pong"
    assert my_name(browser.open("/rooms/lobby").html) == "ann"


def test_a_post_from_the_apps_own_pages_or_with_no_origin_is_accepted(
    app, browser, new_browser
):
    other = watch(new_browser(), "lobby")
    own = {"Origin": browser.server_url, **FETCH}
    for headers in (own, FETCH):
        status, _ = browser.request(
            "/rooms/lobby/messages", method="POST", data={"text": "x"}, headers=headers
        )
        assert status == 204
        assert receive(other)["payload"]["text"] == "x"


def test_the_session_cookie_is_same_site_lax(browser):
    with urllib.request.urlopen(browser.server_url + "/rooms/lobby") as response:
        assert "SameSite=Lax" in response.headers["Set-Cookie"]


# Logging in and out.


def test_login_names_the_browser_and_returns_to_the_room(browser, new_browser):
    status, location = post_no_redirect(
        browser, "/login", {"name": "  ann  ", "room": "python"}
    )
    assert (status, location) == (303, "/rooms/python")
    html = browser.open("/rooms/python").html
    assert my_name(html) == "ann"
    assert "Logged in as" in html and "Log out" in html

    other = watch(new_browser(), "python")
    browser.request(
        "/rooms/python/messages", method="POST", data={"text": "x"}, headers=FETCH
    )
    assert receive(other)["payload"]["author"] == "ann"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"name": ""}, 400, "The name is empty."),
        ({"name": "   "}, 400, "The name is empty."),
        ({}, 400, "The name is empty."),
        ({"name": "a" * 41}, 400, "The name must have at most 40 characters."),
        ({"name": "anonymous-1"}, 400, "Names beginning with 'anonymous-' are for"),
        # Lookalikes of a guest's name: case, a non-breaking hyphen, a
        # zero-width space in front.
        ({"name": "Anonymous-1"}, 400, "Names beginning with 'anonymous-' are for"),
        (
            {"name": "anonymous\u20111"},
            400,
            "Names beginning with 'anonymous-' are for",
        ),
        (
            {"name": "\u200banonymous-1"},
            400,
            "Names beginning with 'anonymous-' are for",
        ),
        ({"name": "\u200b\u202e"}, 400, "The name is empty."),
        ({"name": "ann", "room": "lob.by"}, 404, None),
        ({"name": "ann", "room": "https://example.com/"}, 404, None),
    ],
)
def test_bad_login_is_refused_and_changes_nothing(browser, data, status, error):
    guest = my_name(browser.open("/rooms/lobby").html)
    socket = watch(browser, "lobby")
    got, body = browser.request("/login", method="POST", data=data)
    assert got == status
    if error is not None:
        assert error in body
    # Still the same guest, and its page's socket still open.
    assert my_name(browser.open("/rooms/lobby").html) == guest
    assert socket.request("ping")["body"] == "pong"


def test_logout_ends_the_sessions_sockets_with_4003(browser, new_browser):
    log_in(browser, "ann")
    tabs = [watch(browser, "lobby"), watch(browser, "python")]
    someone_else = watch(new_browser(), "lobby")

    status, location = post_no_redirect(browser, "/logout", {"room": "python"})
    assert (status, location) == (303, "/rooms/python")
    for socket in tabs:
        assert receive_close(socket).code == 4003
    # Another browser's session goes on.
    assert someone_else.request("ping")["body"] == "pong"
    # The browser is a guest again, with a new socket key.
    assert my_name(browser.open("/rooms/lobby").html).startswith("anonymous-")
    assert watch(browser, "lobby").request("ping")["body"] == "pong"


def test_login_ends_the_guests_sockets_with_4003(browser):
    guest_tab = watch(browser, "lobby")
    log_in(browser, "ann")
    assert receive_close(guest_tab).code == 4003


# Presence: who is here.


def present_names(html: str) -> list[str]:
    match = re.search(r'<ul id="present">(.*?)</ul>', html, re.S)
    assert match, html
    return re.findall(r"<li>(.*?)</li>", match.group(1))


def next_presence(socket: Socket) -> t.Any:
    """The next presence frame, past pushes and replies."""
    while not is_presence(frame := socket.receive()):
        pass
    return frame


def keys(change: t.Any) -> tuple[list[str], list[str]]:
    """The keys that joined and left in a presence change."""
    presence = change["presence"]
    return sorted(presence["joins"]), sorted(presence["leaves"])


def test_the_room_page_lists_who_is_here_one_entry_per_person(
    app, browser, new_browser
):
    log_in(browser, "ann")
    watch(browser, "lobby")
    watch(browser, "lobby")  # a second tab of ann's
    bob = new_browser()
    log_in(bob, "bob")
    # Ann's two tabs under one name; not this page, whose socket is not
    # open yet.
    assert present_names(bob.open("/rooms/lobby").html) == ["ann (2 tabs)"]
    watch(bob, "lobby")
    assert example_realtime.presence("room:lobby", app=app) == {
        "ann": [None, None],
        "bob": [None],
    }
    assert present_names(bob.open("/rooms/python").html) == []


def test_a_page_is_present_only_once_its_socket_says_here(app, browser, new_browser):
    log_in(browser, "ann")
    ann = watch(browser, "lobby")
    frames_until_pong(ann)
    # Crawlers, curl: pages that never connect. Nobody joins.
    for _ in range(5):
        new_browser().open("/rooms/lobby")
    # Nor does a page whose socket is open but has not said "here".
    quiet = new_browser().open("/rooms/lobby").connect()
    assert quiet.request("ping")["body"] == "pong"
    assert frames_until_pong(ann) == []
    assert example_realtime.presence("room:lobby", app=app) == {"ann": [None]}


@pytest.mark.parametrize("room", ["python", "lob.by"])
def test_here_for_a_room_the_page_is_not_in_is_refused(app, browser, room):
    socket = browser.open("/rooms/lobby").connect()
    reply = socket.request("here", room=room)
    assert reply["error"]["code"] in ("not_in_room", "invalid_room")
    assert example_realtime.presence("room:python", app=app) == {}
    # Nor after leaving the room.
    assert call(socket, "/rooms/lobby/leave")["status"] == 200
    assert socket.request("here", room="lobby")["error"]["code"] == "not_in_room"
    assert example_realtime.presence("room:lobby", app=app) == {}


def test_pages_hear_who_comes_and_goes(browser, new_browser):
    log_in(browser, "ann")
    page = browser.open("/rooms/lobby")
    ann = page.connect()
    ann.send(json.dumps({"action": "here", "id": "h", "room": "lobby"}))
    frames = []
    while (frame := ann.receive()).get("id") != "h":
        frames.append(frame)
    assert {frame["channel"] for frame in frames} == {"room:lobby"}
    assert members(frames) == {"ann"}

    bob_browser = new_browser()
    log_in(bob_browser, "bob")
    bob = watch(bob_browser, "lobby")
    assert keys(next_presence(ann)) == (["bob"], [])
    bob.close()  # bob's page closes: bob leaves at once
    assert keys(next_presence(ann)) == ([], ["bob"])


def members(frames: list[t.Any]) -> set[str]:
    """Who is on the channel after these presence frames, as a client
    keeps it (by key alone: enough with one tab per person)."""
    present: set[str] = set()
    for frame in frames:
        if "presence_state" in frame:
            present = set(frame["presence_state"])
        else:
            joins, leaves = keys(frame)
            present = (present | set(joins)) - set(leaves)
    return present


JOIN = {"action": "call-route", "id": "j", "uri": "/rooms/lobby/join", "method": "POST"}


def test_leaving_the_room_ends_the_pages_presence_and_joining_brings_it_back(
    app, browser, new_browser
):
    log_in(browser, "ann")
    ann = watch(browser, "lobby")
    bob = watch(new_browser(), "lobby")
    guest = next(
        iter(example_realtime.presence("room:lobby", app=app).keys() - {"ann"})
    )

    assert call(ann, "/rooms/lobby/leave")["status"] == 200
    assert keys(next_presence(bob)) == ([], ["ann"])
    assert list(example_realtime.presence("room:lobby", app=app)) == [guest]

    ann.send(json.dumps(JOIN))
    frames = []
    while (frame := ann.receive()).get("id") != "j":
        frames.append(frame)
    assert frame["status"] == 200
    # Back in the room, the page is sent the room's whole list again (and
    # its own join), before the reply.
    assert "presence_state" in frames[0]
    assert members(frames) == {"ann", guest}
    assert keys(next_presence(bob)) == (["ann"], [])


def test_logging_out_ends_the_presence_of_the_sessions_pages(app, browser, new_browser):
    log_in(browser, "ann")
    watch(browser, "lobby")
    bob = watch(new_browser(), "lobby")
    post_no_redirect(browser, "/logout", {"room": "lobby"})
    assert keys(next_presence(bob)) == ([], ["ann"])
    assert "ann" not in example_realtime.presence("room:lobby", app=app)
