"""The socket's cookie jar alone: what its integration tests cannot reach."""

from __future__ import annotations

from flask_realtime.cookie_jar import CookieJar
from flask_realtime.cookie_jar import MAX_COOKIE_SIZE
from flask_realtime.cookie_jar import MAX_COOKIES
from flask_realtime.cookie_jar import request_path


def handshake(cookie: str, host: str = "www.example.com") -> dict[str, str]:
    return {"HTTP_HOST": host, "PATH_INFO": "/_realtime", "HTTP_COOKIE": cookie}


def test_handshake_cookies_are_host_cookies_for_the_root():
    jar = CookieJar(handshake("a=1; b=2; a=shadowed; junk; =x"))
    assert jar.header("/") == "a=1; b=2; junk="
    assert jar.header("/deep/path") == "a=1; b=2; junk="


def test_the_handshake_is_bounded_too():
    cookies = "; ".join(f"c{n}=v" for n in range(MAX_COOKIES + 10))
    jar = CookieJar(handshake(f"big={'x' * MAX_COOKIE_SIZE}; {cookies}"))
    assert len(jar) == MAX_COOKIES and "big=" not in jar.header("/")


def test_an_odd_host_header_does_not_break_the_jar():
    for host in ("[::1", "", "EXAMPLE.com:8080", "[::1]:5000"):
        jar = CookieJar(handshake("a=1", host=host))
        jar.update("/x", ["b=2"])
        assert jar.header("/") == "a=1; b=2"


def test_domain_cookies_reach_subdomains_only_if_they_cover_the_host():
    jar = CookieJar(handshake(""))
    jar.update("/", ["a=1; Domain=.Example.com", "b=2; Domain=com.example.com"])
    jar.update("/", ["c=3; Domain=ample.com", "d=4; Domain=."])
    assert jar.header("/") == "a=1"


def test_the_script_root_is_part_of_the_path():
    environ = {"SCRIPT_NAME": "/app/", "PATH_INFO": "/items"}
    assert request_path(environ) == "/app/items"
    assert request_path({}) == "/"
