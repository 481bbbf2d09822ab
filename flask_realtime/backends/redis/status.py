"""What Redis holds for every process, for ``flask realtime status``: a
process of its own, such as the CLI's, knows nothing of the web processes'
sockets, but Redis does."""

from __future__ import annotations

import re
import typing as t

#: Keys read per SCAN step.
SCAN_COUNT = 1000


def read(client: t.Any, prefix: str, *, sharded: bool = False) -> dict[str, t.Any]:
    """Count, under ``prefix``: the processes whose listener is connected
    (each subscribes to its control channel while it has sockets), the
    channels some process listens to, and the socket records by state:
    ``connected``, ``in_grace`` (waiting for a reconnect) and ``pending``
    (issued, never connected). The records are counted with SCAN, so on a
    large Redis this takes a while; it blocks Redis for no long step. On a
    cluster (``sharded``), every primary is scanned and asked for its
    sharded pub/sub channels."""
    pattern = _glob_escape(prefix)
    sockets = {"connected": 0, "in_grace": 0, "pending": 0}
    for keys in _scan_pages(client, pattern + "{sockets}:socket:*"):
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, "issued", "owner", "attached")
        for record in pipe.execute(raise_on_error=False):
            if isinstance(record, Exception):
                continue  # a key of the prefix that is not ours (WRONGTYPE)
            issued, owner, attached = record
            if issued is None:
                continue  # expired between the scan and the read
            if owner is not None:
                sockets["connected"] += 1
            elif attached is not None:
                sockets["in_grace"] += 1
            else:
                sockets["pending"] += 1
    if sharded:

        def channels(match: str) -> list[bytes]:
            found = client.pubsub_shardchannels(match, target_nodes=client.PRIMARIES)
            return t.cast(list[bytes], found)
    else:
        channels = client.pubsub_channels
    return {
        "processes_listening": len(channels(pattern + "process:*")),
        "channels_listened": len(channels(pattern + "channel:*")),
        "socket_records": sockets,
    }


def _scan_pages(client: t.Any, match: str) -> t.Iterator[list[t.Any]]:
    """Keys that match, a page at a time (on a cluster, of every primary)."""
    page: list[t.Any] = []
    for key in client.scan_iter(match=match, count=SCAN_COUNT):
        page.append(key)
        if len(page) == SCAN_COUNT:
            yield page
            page = []
    if page:
        yield page


def _glob_escape(text: str) -> str:
    # A prefix is matched literally, whatever glob characters it holds.
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
