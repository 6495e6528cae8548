"""Turn bounces and complaints that reach a VERP return path into events and suppressions."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.states import EventType, RecipientStatus
from herald_service.events.service import NewEvent, add_events, new_event, sender_domain
from herald_service.mail.reports import DeliveryReport, parse_complaint, parse_dsn
from herald_service.mail.return_path import ReturnPath
from herald_service.reputation.guard import guard_after
from herald_service.settings import Settings
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow
from herald_service.suppressions.service import add_suppression


def _targets(message: Message, return_path: ReturnPath, named: str) -> list[Recipient]:
    """The recipients a report is about: the one the VERP names, else those it names."""
    if return_path.recipient_id:
        return [r for r in message.recipients if r.id == return_path.recipient_id]
    if named:
        return [r for r in message.recipients if r.email.lower() == named]
    return list(message.recipients) if len(message.recipients) == 1 else []


async def apply_inbound_report(
    session: AsyncSession, return_path: ReturnPath, raw: bytes, settings: Settings | None = None
) -> list[str]:
    """Record what the report in ``raw`` says about the message ``return_path`` names
    and, with ``settings``, let the reputation guard judge its domain.

    Returns the event types written (empty when the report says nothing actionable).
    """
    stored: list[NewEvent] = []
    written = await _apply(session, return_path, raw, stored)
    if settings is not None:
        await guard_after(session, settings, stored)
    return written


async def _apply(
    session: AsyncSession, return_path: ReturnPath, raw: bytes, stored: list[NewEvent]
) -> list[str]:
    message = await session.get(Message, return_path.message_id)
    if message is None:
        return []
    complaint = parse_complaint(raw)
    written: list[str] = []
    now = utcnow()
    if complaint is not None:
        for recipient in _targets(message, return_path, complaint.recipient):
            event = new_event(
                account_id=message.account_id,
                message_id=message.id,
                recipient=recipient.email,
                type=EventType.COMPLAINED,
                data={
                    "feedback_type": complaint.feedback_type,
                    "user_agent": complaint.user_agent,
                    "source": "arf",
                },
                at=now,
                domain=sender_domain(message.from_email),
                tags=message.tags,
            )
            await add_events(session, [event])
            stored.append(event)
            await add_suppression(
                session,
                message.account_id,
                recipient.email,
                "complaint",
                detail=f"ARF {complaint.feedback_type} report",
                message_id=message.id,
                at=now,
            )
            written.append(EventType.COMPLAINED.value)
        return written
    for report in parse_dsn(raw):
        if report.action not in ("failed", "delayed"):
            continue
        for recipient in _targets(message, return_path, report.recipient):
            written.append(await _apply_bounce(session, message, recipient, report, stored))
    return [w for w in written if w]


async def _apply_bounce(
    session: AsyncSession,
    message: Message,
    recipient: Recipient,
    report: DeliveryReport,
    stored: list[NewEvent],
) -> str:
    now = utcnow()
    data: dict[str, object] = {
        "source": "dsn",
        "enhanced_code": report.status,
        "response": report.diagnostic,
        "action": report.action,
    }
    if report.action == "delayed":
        kind = EventType.DEFERRED
    else:
        changed = await session.execute(
            update(Recipient)
            .where(
                Recipient.id == recipient.id,
                Recipient.status.not_in((RecipientStatus.BOUNCED, RecipientStatus.SUPPRESSED)),
            )
            .values(status=RecipientStatus.BOUNCED, next_attempt_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            return ""  # already bounced: the same report twice says nothing new
        kind = EventType.BOUNCED
        data["bounce_type"] = "hard" if report.permanent else "soft"
        if report.permanent and not report.status.startswith("5.7."):
            await add_suppression(
                session,
                message.account_id,
                recipient.email,
                "bounce",
                detail=report.diagnostic or report.status,
                message_id=message.id,
                at=now,
            )
            data["suppressed"] = True
    event = new_event(
        account_id=message.account_id,
        message_id=message.id,
        recipient=recipient.email,
        type=kind,
        data=data,
        at=now,
        domain=sender_domain(message.from_email),
        tags=message.tags,
    )
    await add_events(session, [event])
    stored.append(event)
    return kind.value
