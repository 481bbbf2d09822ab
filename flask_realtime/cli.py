"""``flask realtime``: commands for the shell."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from .backends.memory import MemoryBackend
from .errors import BackendUnavailable

realtime_cli = AppGroup("realtime", help="Realtime channels.")


@realtime_cli.command("push")
@click.argument("channel")
@click.argument("message")
@click.option(
    "--channel",
    "more_channels",
    multiple=True,
    help="Another channel to push to (may be repeated).",
)
def push_command(channel: str, message: str, more_channels: tuple[str, ...]) -> None:
    """Push MESSAGE, a JSON text, to CHANNEL.

    Example: flask realtime push chat '{"text": "The server restarts soon."}'
    """
    try:
        payload = json.loads(message)
    except ValueError as e:
        raise click.BadParameter(f"not valid JSON: {e}", param_hint="MESSAGE") from e
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    realtime = app.extensions["realtime"]
    if isinstance(realtime._state(app).backend, MemoryBackend):
        raise click.ClickException(
            "The memory backend keeps sockets inside the web server's process,"
            " so a push from this command would reach no one. Set"
            " REALTIME_BACKEND to a Redis URL to push from the shell."
        )
    try:
        realtime.push(payload, channel, *more_channels, app=app)
    except (TypeError, ValueError, BackendUnavailable) as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Pushed to {', '.join((channel, *more_channels))}.")


@realtime_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def status_command(as_json: bool) -> None:
    """Print what Redis holds for every process: processes with sockets,
    channels listened to, and socket records by state.

    This command runs in a process of its own, which serves no socket: each
    web process's own counters (pushes, closes, refusals) are in its
    realtime.stats() and its metrics.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backend = app.extensions["realtime"]._state(app).backend
    if isinstance(backend, MemoryBackend):
        raise click.ClickException(
            "The memory backend keeps sockets inside the web server's process,"
            " which this command cannot see. Read realtime.stats() inside the"
            " application, or its Prometheus metrics."
        )
    from .backends.redis import RedisBackend

    assert isinstance(backend, RedisBackend)  # the only other backend
    try:
        shared = backend.shared_stats()
    except BackendUnavailable as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(shared))
        return
    records = shared["socket_records"]
    click.echo(f"Redis: {shared['redis']} (prefix {shared['prefix']!r})")
    click.echo(f"Processes with sockets: {shared['processes_listening']}")
    click.echo(f"Channels listened to: {shared['channels_listened']}")
    click.echo(
        f"Socket records: {records['connected']} connected,"
        f" {records['in_grace']} waiting to reconnect,"
        f" {records['pending']} issued and not yet connected"
    )
