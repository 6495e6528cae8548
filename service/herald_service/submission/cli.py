"""``herald smtp``: the SMTP settings applications type, and the AUTH lock-outs.

The command line is the operator's tool (it holds the server's own Redis and database
settings), so it lists and lifts lock-outs whatever account the locked-out clients meant.
The JSON output is the API's (``GET /v1/smtp/settings``, ``GET /v1/smtp/lockouts``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import msgspec

from herald_service.cli.output import emit
from herald_service.errors import NotFound
from herald_service.keys.quotas import quota_redis
from herald_service.settings import get_settings
from herald_service.submission.lockout import Lockout
from herald_service.submission.schemas import lockout_list, smtp_settings

T = TypeVar("T")


def _with_lockout(work: Callable[[Lockout], Awaitable[T]]) -> T:
    """Run ``work`` with the lock-out every submission process shares."""
    settings = get_settings()

    async def run() -> T:
        redis = quota_redis(settings.redis_url)
        try:
            return await work(Lockout.from_settings(redis, settings))
        finally:
            await redis.aclose()

    return asyncio.run(run())


@click.group()
def smtp() -> None:
    """SMTP submission: settings and AUTH lock-outs."""


@smtp.command("settings")
@click.option("--json", "as_json", is_flag=True)
def smtp_settings_command(as_json: bool) -> None:
    """What an application's mailer needs: host, ports, username and password."""
    shown = smtp_settings(get_settings())
    tls = f" or {shown.tls_port} (TLS)" if shown.tls_port else ""
    human = (
        f"host:     {shown.host}\n"
        f"port:     {shown.port} (STARTTLS){tls}\n"
        f"username: {shown.username} ({shown.username_note})\n"
        f"password: {shown.password}\n"
        f"options:  {', '.join(shown.option_headers)}"
    )
    emit(as_json, msgspec.to_builtins(shown), human)


@smtp.command("lockouts")
@click.option("--json", "as_json", is_flag=True)
def smtp_lockouts(as_json: bool) -> None:
    """The client addresses locked out of AUTH now, most recent first."""
    listed = lockout_list(_with_lockout(lambda lockout: lockout.locked()))
    now = time.time()
    lines = [
        f"{e.address:43} locked {now - e.locked_at:6.0f} s ago, {e.expires_in:6.0f} s to go"
        for e in listed.data
    ]
    emit(as_json, msgspec.to_builtins(listed), "\n".join(lines) or "no lock-outs")


@smtp.command("unlock")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True)
def smtp_unlock(address: str, as_json: bool) -> None:
    """Let ADDRESS (as listed, or any address of a listed IPv6 /64) try AUTH again."""
    if not _with_lockout(lambda lockout: lockout.unlock(address)):
        raise NotFound(f"{address} is not locked out")
    emit(as_json, {"address": address, "unlocked": True}, f"unlocked {address}")
