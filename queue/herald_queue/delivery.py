"""Deliver one message: claim its ready recipients, route per domain, send, record.

The steps are small functions so each can be tested and replaced on its own:
claim → load → drop suppressed → route (MX + MTA-STS / relay / capture) → SMTP
transaction(s) of at most 50 recipients → record outcomes.
Delivery is at-least-once: a recipient is claimed with a lease before it is tried, a
duplicate job finds nothing to claim, and a crashed worker's lease simply runs out. A
recipient's outcome is recorded only while this job still holds its lease, so a recipient
that reached a final state is never sent again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from msgspec import Struct
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.mx import MailHost, Route
from herald_queue.runtime import WorkerRuntime
from herald_queue.smtp import RECIPIENTS_PER_TRANSACTION, Destination, Reply
from herald_service.core.backoff import retry_delay
from herald_service.core.smtp_replies import Outcome, classify, enhanced_code
from herald_service.core.states import EventType, RecipientStatus
from herald_service.mail.return_path import verp_address
from herald_service.services.events import add_events, new_event
from herald_service.services.suppressions import (
    add_suppression,
    normalize,
    suppressed_among,
)
from herald_service.settings import Settings
from herald_service.storage.models import DeliveryAttempt, Domain, Message, Recipient
from herald_service.storage.types import utcnow


class Tried(Struct, frozen=True):
    """The last answer one recipient got, and from where."""

    reply: Reply
    mx: str = ""
    ip: str = ""
    tls: str = ""
    tls_verified: bool = False
    enhanced_code: str = ""


class Job(Struct, frozen=True):
    """The message being delivered, as much of it as delivery needs."""

    id: str
    account_id: str
    created_at: datetime
    raw: bytes
    return_path_host: str


class Claimed(Struct, frozen=True):
    """A recipient this delivery holds the lease of."""

    id: int
    email: str
    domain: str
    attempt_count: int


class Plan(Struct, frozen=True):
    """How to reach one recipient domain: the route, the port, whether TLS must verify."""

    route: Route
    port: int
    require_verified_tls: bool = False


async def claim(
    session: AsyncSession, message_id: str, now: datetime, lease: timedelta
) -> tuple[str, list[Claimed]]:
    """Lease the message's queued recipients to this delivery (empty: nothing to do)."""
    token = secrets.token_hex(8)
    rows = await session.execute(
        update(Recipient)
        .where(
            Recipient.message_id == message_id,
            Recipient.status == RecipientStatus.QUEUED,
            or_(Recipient.lease_token.is_(None), Recipient.next_attempt_at <= now),
        )
        .values(lease_token=token, next_attempt_at=now + lease)
        .returning(Recipient.id, Recipient.email, Recipient.domain, Recipient.attempt_count)
        .execution_options(synchronize_session=False)
    )
    claimed = [Claimed(*row) for row in rows.all()]
    return token, sorted(claimed, key=lambda c: c.id)


async def load_job(session: AsyncSession, message_id: str) -> Job:
    """The message's delivery fields and its domain's return-path host."""
    row = (
        await session.execute(
            select(
                Message.id,
                Message.account_id,
                Message.created_at,
                Message.raw,
                Domain.return_path_host,
            )
            .join(Domain, Domain.id == Message.domain_id)
            .where(Message.id == message_id)
        )
    ).one()
    return Job(*row)


async def plan_for(runtime: WorkerRuntime, domain: str) -> Plan:
    """Where mail for ``domain`` goes in the configured delivery mode, and how."""
    settings = runtime.settings
    if settings.delivery_mode == "capture":
        host = MailHost("capture-inbox", (settings.capture_host,))
        return Plan(Route(hosts=(host,)), settings.capture_port)
    if settings.delivery_mode == "relay":
        host = MailHost(settings.relay_host, (settings.relay_host,))
        return Plan(Route(hosts=(host,)), settings.relay_port)
    route = await runtime.routes.route(domain)
    if not route.hosts:
        return Plan(route, settings.smtp_port)
    policy = await runtime.mta_sts.policy(domain)
    if policy is None or not policy.enforced:
        return Plan(route, settings.smtp_port)
    allowed = tuple(h for h in route.hosts if policy.allows(h.name))
    if not allowed:
        error = f"no MX host of {domain} is listed in its MTA-STS policy"
        return Plan(Route(temporary_error=error, enhanced_code="4.7.5"), settings.smtp_port)
    return Plan(Route(hosts=allowed), settings.smtp_port, require_verified_tls=True)


async def deliver_group(
    runtime: WorkerRuntime, plan: Plan, mail_from: str, emails: list[str], raw: bytes
) -> dict[str, Tried]:
    """Try the route's hosts (and each host's addresses) in order until every recipient
    has a real answer; a host that cannot be reached or says 421 passes them on."""
    route = plan.route
    if route.permanent_error or route.temporary_error:
        code = 550 if route.permanent_error else None
        text = route.permanent_error or route.temporary_error
        return {e: Tried(Reply(code, text), enhanced_code=route.enhanced_code) for e in emails}
    results: dict[str, Tried] = {}
    pending = list(emails)
    for host in route.hosts:
        for address in host.addresses:
            destination = Destination(address, plan.port, host.name, plan.require_verified_tls)
            outcome = await runtime.smtp.send(destination, mail_from, pending, raw)
            for email, reply in outcome.replies.items():
                results[email] = Tried(
                    reply,
                    host.name,
                    address,
                    outcome.tls,
                    outcome.tls_verified,
                    enhanced_code(reply.text),
                )
            pending = [e for e in pending if results[e].reply.code in (None, 421)]
            if not pending:
                return results
    return results


def should_suppress(tried: Tried) -> bool:
    """Hard bounces suppress the address, except policy rejections (5.7.x: about the
    sender or content, not the mailbox) and recipients that only ran out of retries."""
    code = tried.enhanced_code
    return not code.startswith(("5.7.", "4."))


def _event_data(tried: Tried, attempt: int) -> dict[str, object]:
    return {
        "mx": tried.mx,
        "ip": tried.ip,
        "code": tried.reply.code,
        "enhanced_code": tried.enhanced_code,
        "response": tried.reply.text,
        "tls": tried.tls,
        "tls_verified": tried.tls_verified,
        "attempt": attempt,
    }


async def record(
    runtime: WorkerRuntime,
    message: Job,
    recipients: list[Claimed],
    results: dict[str, Tried],
    token: str,
) -> None:
    """Store one attempt per recipient, its new status, the event, any retry time and
    any suppression, all in one transaction."""
    await runtime.writes.run(
        lambda session: record_in(session, runtime.settings, message, recipients, results, token)
    )


async def record_in(
    session: AsyncSession,
    settings: Settings,
    message: Job,
    recipients: list[Claimed],
    results: dict[str, Tried],
    token: str,
) -> None:
    """:func:`record` inside the caller's transaction."""
    now = utcnow()
    expired_at = message.created_at + timedelta(seconds=settings.retry_max_age)
    for recipient in recipients:
        tried = results[recipient.email]
        outcome = classify(tried.reply.code, tried.reply.text)
        expired = outcome is Outcome.DEFERRED and now >= expired_at
        if expired:
            outcome = Outcome.BOUNCED
            text = f"expired after retrying: {tried.reply.text}"
            tried = Tried(
                Reply(tried.reply.code, text),
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
        next_at = None
        if outcome is Outcome.DEFERRED:
            delay = retry_delay(attempts, settings.retry_schedule)
            next_at = min(now + timedelta(seconds=delay), max(expired_at, now))
        changed = await session.execute(
            update(Recipient)
            .where(
                Recipient.id == recipient.id,
                Recipient.lease_token == token,
                Recipient.status == RecipientStatus.QUEUED,
            )
            .values(
                attempt_count=attempts,
                lease_token=None,
                updated_at=now,
                status=outcome.value,
                next_attempt_at=next_at,
            )
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            continue  # the lease ran out and another job owns this recipient now
        data = _event_data(tried, attempts)
        if outcome is Outcome.BOUNCED:
            data["bounce_type"] = "expired" if expired else "hard"
            if not expired and should_suppress(tried):
                await add_suppression(
                    session,
                    message.account_id,
                    recipient.email,
                    "bounce",
                    detail=tried.reply.text,
                    message_id=message.id,
                    at=now,
                )
                data["suppressed"] = True
        elif outcome is Outcome.DEFERRED and next_at is not None:
            data["next_attempt_at"] = next_at.isoformat()
        kind = {
            Outcome.DELIVERED: EventType.DELIVERED,
            Outcome.DEFERRED: EventType.DEFERRED,
            Outcome.BOUNCED: EventType.BOUNCED,
        }[outcome]
        await add_events(
            session,
            [
                new_event(
                    account_id=message.account_id,
                    message_id=message.id,
                    recipient=recipient.email,
                    type=kind,
                    data=data,
                    at=now,
                )
            ],
        )


async def drop_suppressed(
    session: AsyncSession, message: Job, claimed: list[Claimed], token: str
) -> list[Claimed]:
    """Mark claimed recipients on the account's suppression list ``suppressed`` with a
    ``message.dropped`` event; returns the recipients still to deliver."""
    entries = await suppressed_among(session, message.account_id, [r.email for r in claimed])
    if not entries:
        return claimed
    now = utcnow()
    keep = []
    for recipient in claimed:
        entry = entries.get(normalize(recipient.email))
        if entry is None:
            keep.append(recipient)
            continue
        await session.execute(
            update(Recipient)
            .where(Recipient.id == recipient.id, Recipient.lease_token == token)
            .values(
                status=RecipientStatus.SUPPRESSED,
                lease_token=None,
                next_attempt_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        event = new_event(
            account_id=message.account_id,
            message_id=message.id,
            recipient=recipient.email,
            type=EventType.DROPPED,
            data={"reason": "suppressed", "suppression_reason": entry.reason},
            at=now,
        )
        await add_events(session, [event])
    return keep


async def deliver_message(runtime: WorkerRuntime, message_id: str) -> None:
    """Deliver every ready recipient of one message, grouped by recipient domain.

    One transaction claims the recipients, loads the message and drops suppressed
    recipients; SMTP runs outside any transaction; one more records each batch's outcome.
    """
    lease = timedelta(seconds=runtime.settings.delivery_lease)

    async def start(session: AsyncSession) -> tuple[str, Job | None, list[Claimed]]:
        token, claimed = await claim(session, message_id, utcnow(), lease)
        if not claimed:
            return token, None, []
        job = await load_job(session, message_id)
        return token, job, await drop_suppressed(session, job, claimed, token)

    token, loaded, claimed = await runtime.writes.run(start)
    if loaded is None:
        return
    message = loaded
    secret_key = runtime.settings.require_secret_key()
    by_domain: dict[str, list[Claimed]] = defaultdict(list)
    for recipient in claimed:
        by_domain[recipient.domain.lower()].append(recipient)

    async def one_batch(plan: Plan, batch: list[Claimed]) -> None:
        recipient_id = batch[0].id if len(batch) == 1 else 0
        mail_from = verp_address(secret_key, message.id, recipient_id, message.return_path_host)
        results = await deliver_group(
            runtime, plan, mail_from, [r.email for r in batch], message.raw
        )
        await record(runtime, message, batch, results, token)

    async def one_domain(rcpt_domain: str, group: list[Claimed]) -> None:
        plan = await plan_for(runtime, rcpt_domain)
        size = RECIPIENTS_PER_TRANSACTION
        batches = [group[i : i + size] for i in range(0, len(group), size)]
        await asyncio.gather(*(one_batch(plan, b) for b in batches))

    await asyncio.gather(*(one_domain(d, g) for d, g in by_domain.items()))
