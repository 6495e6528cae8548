"""``herald messages`` and ``herald queue``: the operator's view of messages.

Any account's message (or one account's with ``--account``), read and written in the
database directly with the rules of the API: ``cancel`` is ``POST /v1/messages/{id}/cancel``
(the event and its webhooks included), ``queue retry`` makes deferred recipients due now
(:mod:`herald_service.messages.retry`). ``herald queue`` is to Herald what ``mailq``,
``postqueue -f`` and ``postsuper -d`` are to Postfix.
"""

from __future__ import annotations

from typing import Any

import click
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.cli.output import emit, with_session
from herald_service.messages.cancel import cancel_in
from herald_service.messages.queue import WAITING, waiting
from herald_service.messages.retry import retry_deferred, retry_message
from herald_service.messages.scheduled import scheduled_messages
from herald_service.messages.schemas import message_out
from herald_service.messages.store import get_message, message_events
from herald_service.settings import get_settings
from herald_service.shaping.schemas import QueueDestination
from herald_service.shaping.service import destinations_view, shaping_redis
from herald_service.storage.models import Message


@click.group()
def messages() -> None:
    """Scheduled messages: list and cancel."""


@messages.command("cancel")
@click.argument("message_id")
@click.option("--account", "account_id", default=None, help="Only if it is this account's.")
@click.option("--json", "as_json", is_flag=True)
def messages_cancel(message_id: str, account_id: str | None, as_json: bool) -> None:
    """Cancel a message whose recipients have not started (scheduled or not yet tried)."""
    canceled = with_session(get_settings(), lambda s: cancel_in(s, account_id, message_id))
    emit(
        as_json,
        {"id": message_id, "status": "canceled", "recipients": canceled},
        f"canceled {message_id} ({len(canceled)} recipient{'s' if len(canceled) != 1 else ''})",
    )


@messages.command("scheduled")
@click.option("--account", "account_id", required=True)
@click.option("--json", "as_json", is_flag=True)
def messages_scheduled(account_id: str, as_json: bool) -> None:
    """List an account's scheduled messages, the soonest due first."""
    rows = with_session(get_settings(), lambda s: scheduled_messages(s, account_id))
    payload = {
        "data": [
            {
                "id": m.id,
                "send_at": m.send_at.isoformat() if m.send_at else None,
                "subject": m.subject,
                "recipients": [r.email for r in m.recipients],
            }
            for m in rows
        ]
    }
    lines = [
        f"{m.id}  {m.send_at.isoformat() if m.send_at else '-'}  {len(m.recipients):>4}  "
        f"{m.subject}"
        for m in rows
    ]
    emit(as_json, payload, "\n".join(lines) or "no scheduled messages")


@click.group()
def queue() -> None:
    """Mail waiting to go: list, show, retry now, cancel."""


@queue.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in WAITING]),
    default=None,
    help="Only this status (default: all of them).",
)
@click.option("--domain", default=None, help="Only recipients at this domain.")
@click.option("--account", "account_id", default=None, help="Only this account's.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
def queue_list(
    status: str | None, domain: str | None, account_id: str | None, limit: int, as_json: bool
) -> None:
    """Recipients waiting to go, the soonest due first, with their last reply."""

    async def read(session: AsyncSession) -> list[dict[str, Any]]:
        return await waiting(session, status, domain, account_id, limit)

    rows = with_session(get_settings(), read)
    lines = [
        f"{r['message_id']}  {r['status']:9} {r['attempts']:>3}  {r['next_attempt_at'] or '-':32} "
        f"{r['email']}  {r['last_response']}"
        for r in rows
    ]
    emit(as_json, {"data": rows}, "\n".join(lines) or "the queue is empty")


@queue.command("show")
@click.argument("message_id")
@click.option("--account", "account_id", default=None, help="Only if it is this account's.")
@click.option("--json", "as_json", is_flag=True)
def queue_show(message_id: str, account_id: str | None, as_json: bool) -> None:
    """A message with each recipient's status and attempts (``GET /v1/messages/{id}``)."""

    async def read(session: AsyncSession) -> dict[str, Any]:
        owner = account_id or await session.scalar(
            select(Message.account_id).where(Message.id == message_id)
        )
        message = await get_message(session, owner or "", message_id)
        shown: dict[str, Any] = msgspec.to_builtins(
            message_out(message, await message_events(session, message.id))
        )
        return shown

    shown = with_session(get_settings(), read)
    lines = [f"{shown['id']}  {shown['status']}  from {shown['from']}  {shown['subject']}"]
    for recipient in shown["recipients"]:
        last = recipient["attempts"][-1]["response"] if recipient["attempts"] else ""
        lines.append(f"  {recipient['email']}  {recipient['status']}  {last}".rstrip())
    emit(as_json, shown, "\n".join(lines))


@queue.command("retry")
@click.argument("message_id", required=False)
@click.option("--all", "every", is_flag=True, help="Every deferred recipient.")
@click.option("--domain", default=None, help="With --all: only recipients at this domain.")
@click.option("--account", "account_id", default=None, help="Only this account's.")
@click.option("--json", "as_json", is_flag=True)
def queue_retry(
    message_id: str | None, every: bool, domain: str | None, account_id: str | None, as_json: bool
) -> None:
    """Deliver deferred mail now: one message, or --all (the workers' next sweep)."""
    if every == (message_id is not None):
        raise click.UsageError("give a MESSAGE_ID or --all, not both")
    if message_id is not None:
        emails = with_session(get_settings(), lambda s: retry_message(s, account_id, message_id))
        emit(
            as_json,
            {"id": message_id, "retried": emails},
            f"{message_id}: {len(emails)} recipient(s) due now",
        )
        return
    count = with_session(get_settings(), lambda s: retry_deferred(s, account_id, domain))
    emit(as_json, {"retried": count}, f"{count} deferred recipient(s) due now")


@queue.command("destinations")
@click.option("--account", "account_id", default=None, help="Only this account's mail.")
@click.option("--json", "as_json", is_flag=True)
def queue_destinations_command(account_id: str | None, as_json: bool) -> None:
    """Waiting mail per recipient domain, with the rate allowed there now, halvings,
    suspensions and the last reply (``GET /v1/queue/destinations``; Postfix's qshape)."""
    settings = get_settings()

    async def read(session: AsyncSession) -> list[QueueDestination]:
        redis = shaping_redis(settings.redis_url)
        try:
            return await destinations_view(session, settings, redis, account_id)
        finally:
            await redis.aclose()

    rows = with_session(settings, read)
    lines = [
        f"{'domain':30} {'queued':>7} {'deferred':>8} {'held':>5}  rate        state",
        *(_destination_line(r) for r in rows),
    ]
    emit(
        as_json,
        msgspec.to_builtins({"data": rows}),
        "\n".join(lines) if rows else "no destinations",
    )


def _destination_line(row: QueueDestination) -> str:
    rate = f"{row.per_minute}/min" if row.per_minute else "unlimited"
    state = []
    if row.halved and row.halved_until:
        state.append(f"halved until {row.halved_until:%H:%M:%S}")
    if row.suspended_until:
        state.append(f"suspended until {row.suspended_until:%Y-%m-%d %H:%M:%S}")
    if row.last_reply:
        state.append(f"last: {row.last_reply.code or ''} {row.last_reply.response}".strip())
    return (
        f"{row.domain:30} {row.queued:>7} {row.deferred:>8} {row.held:>5}  {rate:11} "
        f"{'; '.join(state)}"
    ).rstrip()


queue.add_command(messages_cancel, "cancel")  # the same rules as POST .../cancel
