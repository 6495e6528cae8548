"""Accept a message (build, sign, persist) and read messages back."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.message import OutgoingMessage
from herald_service.core.mime import build_mime, new_message_id
from herald_service.core.states import EventType, RecipientStatus
from herald_service.errors import FieldError, Forbidden, InvalidRequest, NotFound
from herald_service.mail.dkim_signing import sign
from herald_service.services.domains import SigningKeyCache
from herald_service.services.events import add_events, new_event
from herald_service.storage.models import Domain, Event, Message, Recipient
from herald_service.storage.types import utcnow

# A committed message whose job never reached a worker is enqueued again by the sweeper
# once this grace period has passed.
ENQUEUE_GRACE = timedelta(seconds=30)


def ensure_sender_allowed(allowed_domains: Collection[str], sender_domain: str) -> None:
    """403 naming ``from`` when the key is restricted to other sending domains.

    A key restricted to ``example.com`` may also send from its subdomains (when the
    domain itself allows subdomains, which :func:`sending_domain` checks).
    """
    if allowed_domains and not any(
        sender_domain == d or sender_domain.endswith("." + d) for d in allowed_domains
    ):
        allowed = ", ".join(sorted(allowed_domains))
        raise Forbidden(
            f"this API key may not send from {sender_domain}",
            [FieldError("from", f"the key may send only from {allowed}")],
        )


def _parent_names(name: str) -> list[str]:
    """``name`` and each parent with at least two labels, longest first."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


async def sending_domain(
    session: AsyncSession,
    account_id: str,
    sender_domain: str,
    allowed_domains: Collection[str] = (),
) -> Domain:
    """The caller's verified domain for a From address, or a 422 naming ``from``.

    The From domain must be a verified domain of the account, or a subdomain of one that
    allows subdomains (``allow_subdomains``); the labels must match exactly, so a
    look-alike such as ``example.com.evil.test`` or ``myexample.com`` never matches.
    """
    ensure_sender_allowed(allowed_domains, sender_domain)
    candidates = _parent_names(sender_domain.lower().rstrip("."))
    rows = (
        await session.execute(
            select(Domain).where(
                Domain.account_id == account_id,
                Domain.name.in_(candidates),
                Domain.deleted_at.is_(None),
            )
        )
    ).scalars()
    by_name = {domain.name: domain for domain in rows}
    problem = "is not a sending domain of this account"
    for name in candidates:
        domain = by_name.get(name)
        if domain is None:
            continue
        if name != candidates[0] and not domain.allow_subdomains:
            problem = f"is a subdomain of {name}, which does not allow sending from subdomains"
            continue
        if domain.status == "verified":
            return domain
        problem = "is not verified" if name == candidates[0] else f"needs {name} verified"
        break
    raise InvalidRequest(
        f"cannot send from {sender_domain}: it {problem}",
        [FieldError("from", f"domain {sender_domain} {problem}")],
    )


async def accept_message(
    session: AsyncSession,
    account_id: str,
    outgoing: OutgoingMessage,
    signing_keys: SigningKeyCache,
    hostname: str,
    allowed_domains: Collection[str] = (),
) -> Message:
    """Build, DKIM-sign and store ``outgoing`` with its recipients and events (not committed)."""
    domain = await sending_domain(session, account_id, outgoing.sender.domain, allowed_domains)
    message_id_header = new_message_id(hostname)
    raw = sign(build_mime(outgoing, message_id=message_id_header), signing_keys.keys_for(domain))
    now = utcnow()
    status = RecipientStatus.CAPTURED if outgoing.sandbox else RecipientStatus.QUEUED
    message = Message(
        id=new_id("msg"),
        account_id=account_id,
        domain_id=domain.id,
        from_email=outgoing.sender.email,
        subject=outgoing.subject,
        message_id_header=message_id_header,
        raw=raw,
        tags=list(outgoing.tags),
        metadata_=dict(outgoing.metadata),
        sandbox=outgoing.sandbox,
        created_at=now,
        recipients=[
            Recipient(
                email=address.email,
                domain=address.domain,
                kind=kind,
                status=status,
                attempt_count=0,
                next_attempt_at=None if outgoing.sandbox else now + ENQUEUE_GRACE,
                updated_at=now,
            )
            for kind, address in outgoing.envelope_recipients()
        ],
    )
    session.add(message)
    await session.flush()  # events reference the message row
    await add_events(
        session,
        (
            new_event(
                account_id=account_id,
                message_id=message.id,
                type=EventType.ACCEPTED,
                recipient=recipient.email,
                data={"sandbox": outgoing.sandbox},
                at=now,
            )
            for recipient in message.recipients
        ),
    )
    await session.flush()
    return message


async def get_message(session: AsyncSession, account_id: str, message_id: str) -> Message:
    """The caller's message with recipients and attempts, or :class:`NotFound`."""
    message = await session.get(Message, message_id)
    if message is None or message.account_id != account_id:
        raise NotFound(f"no message {message_id}")
    return message


async def message_events(session: AsyncSession, message_id: str) -> list[Event]:
    """The timeline of a message, oldest first."""
    result = await session.execute(
        select(Event).where(Event.message_id == message_id).order_by(Event.at, Event.id)
    )
    return list(result.scalars())
