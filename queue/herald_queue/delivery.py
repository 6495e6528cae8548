"""Deliver one message: claim its ready recipients, route per domain, send, record.

The steps are small functions so each can be tested and replaced on its own:
claim → load → route (MX / relay / capture) → SMTP transaction(s) → record outcomes.
Delivery is at-least-once: a recipient is claimed with a lease before it is tried, a
duplicate job finds nothing to claim, and a crashed worker's lease simply runs out.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from msgspec import Struct
from sqlalchemy import or_, select, update

from herald_queue.mx import MailHost, Route, resolve_route
from herald_queue.runtime import WorkerRuntime
from herald_queue.smtp import Reply, send_transaction
from herald_service.core.backoff import retry_delay
from herald_service.core.smtp_replies import Outcome, classify, enhanced_code
from herald_service.core.states import EventType, RecipientStatus
from herald_service.services.events import add_events, new_event
from herald_service.storage.models import DeliveryAttempt, Domain, Event, Message, Recipient
from herald_service.storage.types import utcnow

DELIVERY_LEASE = timedelta(minutes=5)


class Tried(Struct, frozen=True):
    """The last answer one recipient got, and from where."""

    reply: Reply
    mx: str = ""
    ip: str = ""
    tls: str = ""
    tls_verified: bool = False
    enhanced_code: str = ""


async def claim(runtime: WorkerRuntime, message_id: str, now: datetime) -> str | None:
    """Lease the message's queued recipients to this job; None if there is nothing to do."""
    token = secrets.token_hex(8)
    async with runtime.sessions.begin() as session:
        result = await session.execute(
            update(Recipient)
            .where(
                Recipient.message_id == message_id,
                Recipient.status == RecipientStatus.QUEUED,
                or_(Recipient.lease_token.is_(None), Recipient.next_attempt_at <= now),
            )
            .values(lease_token=token, next_attempt_at=now + DELIVERY_LEASE)
            .execution_options(synchronize_session=False)
        )
    return token if result.rowcount else None  # type: ignore[attr-defined]


async def route_for(runtime: WorkerRuntime, domain: str) -> tuple[Route, int]:
    """Where mail for ``domain`` goes in the configured delivery mode, and on which port."""
    settings = runtime.settings
    if settings.delivery_mode == "capture":
        host = MailHost("capture-inbox", (settings.capture_host,))
        return Route(hosts=(host,)), settings.capture_port
    if settings.delivery_mode == "relay":
        return Route(hosts=(MailHost(settings.relay_host, (settings.relay_host,)),)), (
            settings.relay_port
        )
    return await resolve_route(runtime.resolver, domain), settings.smtp_port


async def deliver_group(
    runtime: WorkerRuntime, route: Route, port: int, mail_from: str, emails: list[str], raw: bytes
) -> dict[str, Tried]:
    """Try the route's hosts in order until every recipient has a real answer."""
    if route.permanent_error or route.temporary_error:
        code = 550 if route.permanent_error else None
        text = route.permanent_error or route.temporary_error
        status = "5.1.10" if "null MX" in text else ("5.1.2" if code else "")
        return {e: Tried(Reply(code, text), enhanced_code=status) for e in emails}
    results: dict[str, Tried] = {}
    pending = list(emails)
    for host in route.hosts:
        for address in host.addresses:
            outcome = await send_transaction(
                address=address,
                port=port,
                helo_name=runtime.settings.hostname,
                mail_from=mail_from,
                recipients=pending,
                data=raw,
                command_timeout=runtime.settings.smtp_timeout,
            )
            for email, reply in outcome.replies.items():
                results[email] = Tried(
                    reply,
                    host.name,
                    address,
                    outcome.tls,
                    outcome.tls_verified,
                    enhanced_code(reply.text),
                )
            # No answer at all, or 421 (service closing): the next host may do better.
            pending = [e for e in pending if results[e].reply.code in (None, 421)]
            if not pending:
                return results
    return results


def _event(message: Message, recipient: Recipient, kind: EventType, tried: Tried) -> Event:
    return new_event(
        account_id=message.account_id,
        message_id=message.id,
        recipient=recipient.email,
        type=kind,
        data={
            "mx": tried.mx,
            "code": tried.reply.code,
            "enhanced_code": tried.enhanced_code,
            "response": tried.reply.text,
            "tls": tried.tls,
        },
    )


async def record(
    runtime: WorkerRuntime, message: Message, recipients: list[Recipient], results: dict[str, Tried]
) -> None:
    """Store one attempt per recipient, its new status, the event, and any retry time."""
    settings = runtime.settings
    now = utcnow()
    async with runtime.sessions.begin() as session:
        for recipient in recipients:
            tried = results[recipient.email]
            outcome = classify(tried.reply.code, tried.reply.text)
            if outcome is Outcome.DEFERRED and now - message.created_at >= timedelta(
                seconds=settings.retry_max_age
            ):
                outcome = Outcome.BOUNCED
                tried = Tried(
                    Reply(tried.reply.code, f"expired after retrying: {tried.reply.text}"),
                    tried.mx,
                    tried.ip,
                    tried.tls,
                    tried.tls_verified,
                    "4.4.7",
                )
            session.add(
                DeliveryAttempt(
                    recipient_id=recipient.id,
                    at=now,
                    mx=tried.mx,
                    ip=tried.ip,
                    code=tried.reply.code,
                    enhanced_code=tried.enhanced_code,
                    response=tried.reply.text[:2000],
                    outcome=outcome,
                    tls=tried.tls,
                    tls_verified=tried.tls_verified,
                )
            )
            attempts = recipient.attempt_count + 1
            values: dict[str, object] = {
                "attempt_count": attempts,
                "lease_token": None,
                "updated_at": now,
                "status": outcome.value,
                "next_attempt_at": None,
            }
            if outcome is Outcome.DEFERRED:
                delay = retry_delay(attempts, settings.retry_schedule)
                values["next_attempt_at"] = now + timedelta(seconds=delay)
            await session.execute(
                update(Recipient).where(Recipient.id == recipient.id).values(**values)
            )
            kind = {
                Outcome.DELIVERED: EventType.DELIVERED,
                Outcome.DEFERRED: EventType.DEFERRED,
                Outcome.BOUNCED: EventType.BOUNCED,
            }[outcome]
            await add_events(session, [_event(message, recipient, kind, tried)])


async def deliver_message(runtime: WorkerRuntime, message_id: str) -> None:
    """Deliver every ready recipient of one message, grouped by recipient domain."""
    token = await claim(runtime, message_id, utcnow())
    if token is None:
        return
    async with runtime.sessions() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        domain = await session.get(Domain, message.domain_id)
        assert domain is not None
        claimed = list(
            (
                await session.execute(select(Recipient).where(Recipient.lease_token == token))
            ).scalars()
        )
    mail_from = f"bounce+{message.id}@{domain.return_path_host}"
    by_domain: dict[str, list[Recipient]] = defaultdict(list)
    for recipient in claimed:
        by_domain[recipient.domain].append(recipient)

    async def one_domain(rcpt_domain: str, group: list[Recipient]) -> None:
        route, port = await route_for(runtime, rcpt_domain)
        results = await deliver_group(
            runtime, route, port, mail_from, [r.email for r in group], message.raw
        )
        await record(runtime, message, group, results)

    await asyncio.gather(*(one_domain(d, g) for d, g in by_domain.items()))
