"""The queue per destination, ``qshape`` with the limits beside it: waiting recipients
counted per recipient domain, the shaping rule each matches (by domain, or by the MX host
of its latest attempt), the rate allowed now with any halving (from Redis), reputation
cool-downs (suspensions) and the latest reply.

An operator's command line reads every account (``account_id`` None); the API and the
console one account. Rates and halvings are the server's own, shared by all accounts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.shaping import (
    Rule,
    ShapingRules,
    effective_per_hour,
    effective_per_minute,
)
from herald_service.messages.service import WAITING, waiting_by_domain
from herald_service.settings import Settings
from herald_service.shaping.rules import shaping_rules
from herald_service.shaping.schemas import DestinationRule, LastReply, QueueDestination
from herald_service.shaping.store import Halving, ShapingStore
from herald_service.shaping.store import shaping_redis as shaping_redis  # the CLI's client
from herald_service.storage.models import DeliveryAttempt, DestinationCooldown, Message, Recipient
from herald_service.storage.types import utcnow

log = logging.getLogger("herald.shaping")


async def destinations_view(
    session: AsyncSession, settings: Settings, redis: Redis | None, account_id: str | None
) -> list[QueueDestination]:
    """:func:`queue_destinations` with the rules in force and the halvings in ``redis``."""
    store = ShapingStore(redis) if redis is not None else None
    return await queue_destinations(session, store, shaping_rules(settings), account_id)


async def queue_destinations(
    session: AsyncSession,
    store: ShapingStore | None,
    rules: ShapingRules,
    account_id: str | None,
) -> list[QueueDestination]:
    """Every recipient domain with waiting mail, a running halving or a suspension."""
    now = utcnow()
    counts = await waiting_by_domain(session, account_id)
    replies = await _last_replies(session, account_id)
    suspended = await _suspensions(session, account_id, now)
    halvings: dict[str, Halving] = {}
    if store is not None:
        try:
            halvings = await store.factors()
        except RedisError as exc:  # the view still shows the queue
            log.warning("halved destinations unavailable: %s", exc)
    matcher = rules.matcher()
    domains = list(counts)
    domains += sorted((set(suspended) | set(halvings)) - set(counts))
    rows = []
    for domain in domains:
        reply, mx = replies.get(domain, (None, ""))
        rule = matcher.match(domain, [mx] if mx else [])
        if rule is None and domain not in counts:
            rule = rules.by_name(domain)  # a halved destination by its rule's name (gmail)
        name = rule.name if rule is not None else domain
        halving = halvings.get(name)
        factor = halving.factor if halving is not None else 1.0
        per_minute = effective_per_minute(rule, rules.adaptive, factor)
        per_hour = effective_per_hour(rule, factor)
        waiting = counts.get(domain, {})
        rows.append(
            QueueDestination(
                domain=domain,
                destination=name,
                queued=waiting.get("queued", 0),
                deferred=waiting.get("deferred", 0),
                held=waiting.get("held", 0),
                scheduled=waiting.get("scheduled", 0),
                rule=_rule_out(rule) if rule is not None else None,
                per_minute=per_minute or None,
                per_hour=per_hour or None,
                halved=halving is not None,
                rate_factor=factor,
                halved_until=(
                    datetime.fromtimestamp(halving.until, UTC) if halving is not None else None
                ),
                suspended_until=suspended.get(domain),
                last_reply=reply,
            )
        )
    return rows


def _rule_out(rule: Rule) -> DestinationRule:
    return DestinationRule(
        rule.name, rule.connections, rule.messages_per_connection, rule.per_minute, rule.per_hour
    )


async def _last_replies(
    session: AsyncSession, account_id: str | None
) -> dict[str, tuple[LastReply, str]]:
    """The latest attempt per recipient domain among the waiting recipients, and the MX
    host of the latest one that reached a host (a deferral for a budget names none)."""
    reached = case((DeliveryAttempt.mx != "", DeliveryAttempt.id), else_=None)
    latest = (
        select(Recipient.domain, func.max(DeliveryAttempt.id), func.max(reached))
        .join(DeliveryAttempt, DeliveryAttempt.recipient_id == Recipient.id)
        .where(Recipient.status.in_([s.value for s in WAITING]))
        .group_by(Recipient.domain)
    )
    if account_id is not None:
        latest = latest.join(Message, Message.id == Recipient.message_id).where(
            Message.account_id == account_id
        )
    found = [(str(d), int(last), mx_id) for d, last, mx_id in await session.execute(latest)]
    if not found:
        return {}
    wanted = {i for _, last, mx_id in found for i in (last, mx_id) if i is not None}
    attempts = {
        a.id: a
        for a in await session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.id.in_(wanted))
        )
    }
    replies = {}
    for domain, last, mx_id in found:
        a = attempts[last]
        reply = LastReply(
            at=a.at if a.at.tzinfo else a.at.replace(tzinfo=UTC),
            code=a.code,
            enhanced_code=a.enhanced_code,
            response=a.response,
            mx=a.mx,
        )
        replies[domain] = (reply, attempts[mx_id].mx if mx_id is not None else "")
    return replies


async def _suspensions(
    session: AsyncSession, account_id: str | None, now: datetime
) -> dict[str, datetime]:
    """Until when each destination's reputation cool-down runs (the latest, if several of
    the account's domains have one)."""
    query = select(DestinationCooldown.destination, func.max(DestinationCooldown.until)).where(
        DestinationCooldown.until > now
    )
    if account_id is not None:
        query = query.where(DestinationCooldown.account_id == account_id)
    rows = await session.execute(query.group_by(DestinationCooldown.destination))
    return {
        str(d): (u if u.tzinfo else u.replace(tzinfo=UTC)) for d, u in rows.all() if u is not None
    }
