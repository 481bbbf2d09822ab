"""The Redis backend's URLs: one server, or a master behind Sentinel."""

from __future__ import annotations

import pytest

redis = pytest.importorskip("redis", reason="the redis extra is missing")

from flask_realtime.backends.redis.connect import connect  # noqa: E402
from flask_realtime.backends.urls import without_password  # noqa: E402


def pool(url):
    """The pool of ``url``'s client, and how many replicas a push waits for."""
    connected = connect(url, max_connections=100, timeout=5, socket_timeout=5)
    return connected.client.connection_pool, connected.replicas


def test_a_sentinel_url_names_the_sentinels_the_master_and_its_database():
    found, replicas = pool(
        "redis+sentinel://:secret@10.0.0.1:26379,[::1]:26380,sentinel-c"
        "/mymaster/2?max_connections=7&sentinel_password=s3"
    )
    assert replicas == 1  # behind Sentinel a push waits for a replica
    assert found.service_name == "mymaster"
    assert found.max_connections == 7
    assert found.connection_kwargs["db"] == 2
    assert found.connection_kwargs["password"] == "secret"
    assert found.connection_kwargs["socket_timeout"] == 5
    sentinels = [
        (
            s.connection_pool.connection_kwargs["host"],
            s.connection_pool.connection_kwargs["port"],
        )
        for s in found.sentinel_manager.sentinels
    ]
    assert sentinels == [("10.0.0.1", 26379), ("::1", 26380), ("sentinel-c", 26379)]
    assert found.sentinel_manager.sentinel_kwargs == {
        "socket_timeout": 5,
        "password": "s3",
    }
    assert isinstance(found, redis.BlockingConnectionPool)  # waits for a connection


@pytest.mark.parametrize(
    ("url", "replicas"),
    [
        ("redis://localhost:6379/0", 0),
        ("redis://localhost:6379/0?wait_for_replicas=2", 2),
        ("redis+sentinel://h1/mymaster?wait_for_replicas=0", 0),
    ],
)
def test_how_many_replicas_a_push_waits_for(url, replicas):
    assert pool(url)[1] == replicas


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://h1:26379", "names its master"),
        ("redis+sentinel://h1:26379/", "names its master"),
        ("redis+sentinel://h1:26379/mymaster/zero", "not a number"),
        ("redis+sentinel://h1:port/mymaster", "malformed address"),
        ("redis+sentinel://h1:70000/mymaster", "malformed address"),
        ("redis+sentinel://h1,,h2/mymaster", "malformed address"),
        ("redis+sentinel://[::1/mymaster", "Invalid IPv6 URL"),
        ("redis+sentinel://[::1]x/mymaster", "malformed address"),
        ("redis+sentinel:///mymaster", "malformed address"),
        ("redis+sentinel://h1/mymaster?wait_for_replicas=-1", "whole number"),
        ("redis+sentinel://h1/mymaster?wait_for_replicas=1000", "whole number"),
        ("redis+sentinel://h1/mymaster?max_connections=x", "max_connections"),
        ("redis://h1/0?sentinel_password=x", "for Sentinel URLs"),
    ],
)
def test_a_malformed_url_says_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        pool(url)


@pytest.mark.parametrize(
    "url", ["redis+cluster://:hunter2@[::1:7000", "redis://:hunter2@[::1"]
)
def test_a_malformed_url_is_not_shown(url):
    assert without_password(url) == "(a malformed URL)"


def test_no_password_is_shown():
    url = "redis+sentinel://u:secret@h1,h2/mymaster?sentinel_password=s3"
    shown = without_password(url)
    assert "secret" not in shown and "s3" not in shown
    assert shown.startswith("redis+sentinel://u:***@h1,h2/mymaster?")


def test_a_unix_socket_url_keeps_its_path():
    found, replicas = pool("unix:///run/redis.sock?db=3&wait_for_replicas=1")
    assert found.connection_kwargs["path"] == "/run/redis.sock"
    assert found.connection_kwargs["db"] == 3
    assert replicas == 1


def test_a_cluster_url_connects_at_the_first_command():
    # The client is made lazily: nothing listens on these ports.
    connected = connect(
        "redis+cluster://127.0.0.1:1,[::1]:2,localhost/0",
        max_connections=100,
        timeout=5,
    )
    assert connected.sharded and connected.replicas == 0
    connected.client.close()  # closing a client never made connects to nothing
    with pytest.raises(redis.exceptions.RedisClusterException, match="connect"):
        connected.client.ping()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+cluster://h1:7000/1", "one database"),
        ("redis+cluster://h1:7000,h2:x", "malformed address"),
        ("redis+cluster://h1?wait_for_replicas=1", "not supported on a cluster"),
        ("redis+cluster://h1?sentinel_password=x", "for Sentinel URLs"),
        ("redis+cluster://h1?socket_timeout=abc", "socket_timeout"),
        ("redis+cluster://h1?max_connections=abc", "max_connections"),
        ("redis+cluster://h1?max_connections=1", "at least 2"),
        ("redis+cluster://:pw@[::1:7000", "Invalid IPv6 URL"),
    ],
)
def test_a_malformed_cluster_url_says_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        connect(url, max_connections=100, timeout=5)
