"""How ready a From domain is to send, as the account's domains and their last DNS
verification say: no DNS lookup is made here."""

from __future__ import annotations

from collections.abc import Collection

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.domains.records import DnsRecord, dns_records
from herald_service.domains.sending import ensure_sender_allowed, sending_domain
from herald_service.errors import HeraldError
from herald_service.settings import Settings
from herald_service.storage.models import Domain


class SenderReadiness(Struct, frozen=True):
    """The account's domain a From domain resolves to ("" if none), why it may not send
    ("" if it may), and that domain's records with their last verification status."""

    domain: str
    problem: str
    records: list[DnsRecord]
    checked_at: str = ""


async def sender_readiness(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    sender_domain: str,
    allowed_domains: Collection[str] = (),
) -> SenderReadiness:
    """What a send from ``sender_domain`` would meet, without refusing anything.

    The problem is the one a send would be refused with (the key's domain restriction, a
    domain missing or not verified); the records are those of the closest domain of the
    account (the From domain itself, else a parent), verified or not.
    """
    name = sender_domain.lower().rstrip(".")
    problem = ""
    try:
        ensure_sender_allowed(allowed_domains, name)
        domain: Domain | None = await sending_domain(session, account_id, name)
    except HeraldError as refusal:
        problem = refusal.errors[0].message if refusal.errors else refusal.detail
        domain = await closest_domain(session, account_id, name)
    if domain is None:
        return SenderReadiness("", problem, [])
    checked_at = str(domain.check_report.get("checked_at", ""))
    return SenderReadiness(domain.name, problem, dns_records(domain, settings), checked_at)


async def closest_domain(session: AsyncSession, account_id: str, name: str) -> Domain | None:
    """The account's domain named ``name`` or, failing that, its closest parent."""
    labels = name.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    rows = await session.execute(
        select(Domain).where(
            Domain.account_id == account_id,
            Domain.name.in_(candidates),
            Domain.deleted_at.is_(None),
        )
    )
    by_name = {domain.name: domain for domain in rows.scalars()}
    return next((by_name[c] for c in candidates if c in by_name), None)
