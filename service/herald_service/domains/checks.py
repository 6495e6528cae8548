"""Verify a domain's DNS records, switch DKIM keys after a rotation, re-check periodically."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import datetime, timedelta
from typing import Any

import dns.asyncresolver
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.domain_verdicts import (
    KeyState,
    RecordCheck,
    advance_keys,
    dkim_check,
    dmarc_check,
    judge_domain,
    lookup_failed,
    mx_check,
    resolves_back,
    spf_check,
)
from herald_service.core.states import DkimKeyStatus, RecordStatus
from herald_service.dns import Answer, lookup, lookup_addresses
from herald_service.domains.records import DnsRecord, expected_records
from herald_service.settings import Settings
from herald_service.storage.models import DkimKey, Domain


def check_spf(answer: Answer, settings: Settings) -> RecordCheck:
    """One ``v=spf1`` record listing every sending IP (or ``a:HOSTNAME``) and ``-all``."""
    if answer.error:
        return lookup_failed(answer.error)
    return spf_check(answer.values, settings.sending_ips, settings.hostname)


def check_mx(answer: Answer, settings: Settings) -> RecordCheck:
    """An MX pointing at Herald's host."""
    if answer.error:
        return lookup_failed(answer.error)
    return mx_check(answer.values, settings.hostname)


def check_dkim(answer: Answer, key: DkimKey) -> RecordCheck:
    """A TXT record whose ``p=`` is this key's public key, with the right ``k=``."""
    if answer.error:
        return lookup_failed(answer.error)
    return dkim_check(answer.values, key.public_key, key.algorithm)


def check_cname(answer: Answer, target: str) -> RecordCheck:
    """A CNAME to ``target`` (the tracking host: Herald's public host name)."""
    if answer.error:
        return lookup_failed(answer.error)
    found = [value.rstrip(".").lower() for value in answer.values]
    if not found:
        return RecordCheck(RecordStatus.MISSING, [], "no CNAME record")
    if target.rstrip(".").lower() in found:
        return RecordCheck(RecordStatus.VERIFIED, found, f"points at {target}")
    return RecordCheck(RecordStatus.MISMATCH, found, f"should point at {target}")


def check_dmarc(answer: Answer) -> RecordCheck:
    """One valid ``v=DMARC1`` record, whatever its policy."""
    if answer.error:
        return lookup_failed(answer.error)
    return dmarc_check(answer.values)


async def check_fcrdns(resolver: dns.asyncresolver.Resolver, ip: str, reverse: str) -> RecordCheck:
    """The address has a PTR whose name resolves back to it (forward-confirmed rDNS)."""
    ptr = await lookup(resolver, reverse, "PTR")
    if ptr.error:
        return lookup_failed(ptr.error)
    if not ptr.values:
        return RecordCheck(RecordStatus.MISSING, [], f"{ip} has no PTR record")
    found = []
    for name in ptr.values:
        forward = await lookup_addresses(resolver, name)
        if forward.error:
            return lookup_failed(forward.error)
        found.append(f"{name} -> {', '.join(forward.values) or '(no address)'}")
        if resolves_back(ip, forward.values):
            return RecordCheck(RecordStatus.VERIFIED, found, f"{ip} <-> {name}")
    return RecordCheck(RecordStatus.MISMATCH, found, f"no PTR name of {ip} resolves back to it")


def _selector(dkim_host: str) -> str:
    return dkim_host.split("._domainkey.", 1)[0]


async def check_record(
    resolver: dns.asyncresolver.Resolver, record: DnsRecord, domain: Domain, settings: Settings
) -> RecordCheck:
    """Look ``record`` up and compare what is published with what should be."""
    if record.purpose in ("spf", "spf_from"):
        return check_spf(await lookup(resolver, record.host, "TXT"), settings)
    if record.purpose == "return_path":
        return check_mx(await lookup(resolver, record.host, "MX"), settings)
    if record.purpose == "dmarc":
        return check_dmarc(await lookup(resolver, record.host, "TXT"))
    if record.purpose == "dkim":
        key = next(k for k in domain.dkim_keys if k.selector == _selector(record.host))
        return check_dkim(await lookup(resolver, record.host, "TXT"), key)
    if record.purpose == "tracking":
        return check_cname(await lookup(resolver, record.host, "CNAME"), record.value)
    if record.purpose == "ptr":
        ip = next(
            ip
            for ip in settings.sending_ips
            if ipaddress.ip_address(ip).reverse_pointer == record.host
        )
        return await check_fcrdns(resolver, ip, record.host)
    raise ValueError(f"no check for records of purpose {record.purpose}")


def _advance_keys(
    domain: Domain, verified_selectors: set[str], now: datetime, overlap: float
) -> None:
    """Promote a verified rotation; retire keys whose overlap has ended (erasing them)."""
    before = [KeyState(k.selector, k.status, k.retire_at, k.activated_at) for k in domain.dkim_keys]
    after = advance_keys(before, verified_selectors, now, overlap)
    for key, old, new in zip(domain.dkim_keys, before, after, strict=True):
        if new == old:
            continue
        key.status, key.retire_at, key.activated_at = new.status, new.retire_at, new.activated_at
        if new.status == DkimKeyStatus.RETIRED:
            key.private_key_encrypted = b""


async def verify_domain(
    session: AsyncSession,
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
    domain: Domain,
    now: datetime,
) -> Domain:
    """Check every record of ``domain`` and update its status, report and keys.

    The domain is verified when every required record (return-path MX and SPF, the active
    DKIM keys) is; it falls back to ``pending`` when one is missing or wrong. A failed
    lookup (``error``) changes nothing, so a DNS outage never unverifies a domain (the
    rules: :mod:`herald_service.core.domain_verdicts`).
    """
    records = expected_records(domain, settings)
    results = await asyncio.gather(
        *(check_record(resolver, record, domain, settings) for record in records)
    )
    report: list[dict[str, Any]] = []
    for record, result in zip(records, results, strict=True):
        report.append(
            {
                "type": record.type,
                "host": record.host,
                "value": record.value,
                "status": result.status.value,
                "found": result.found,
                "detail": result.detail,
            }
        )
    required = [r.status for rec, r in zip(records, results, strict=True) if rec.required]
    verdict = judge_domain(domain.status, required)
    if verdict.newly_verified:
        domain.verified_at = now
    if verdict.status != domain.status:
        domain.status = verdict.status
    verified_selectors = {
        _selector(rec.host)
        for rec, result in zip(records, results, strict=True)
        if rec.purpose == "dkim" and result.status == RecordStatus.VERIFIED
    }
    _advance_keys(domain, verified_selectors, now, settings.dkim_rotation_overlap)
    domain.check_report = {"checked_at": now.isoformat(), "records": report}
    domain.last_checked_at = now
    await session.flush()
    return domain


async def recheck_due_domains(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
    now: datetime,
    limit: int = 100,
) -> int:
    """Verify domains not checked for ``HERALD_DOMAIN_CHECK_INTERVAL``; returns how many.

    Each domain is claimed with a conditional UPDATE, so concurrent workers never check
    the same domain twice in one interval.
    """
    cutoff = now - timedelta(seconds=settings.domain_check_interval)
    due_clause = or_(Domain.last_checked_at.is_(None), Domain.last_checked_at <= cutoff)
    async with sessions() as session:
        due = (
            (
                await session.execute(
                    select(Domain.id)
                    .where(Domain.deleted_at.is_(None), due_clause)
                    .order_by(Domain.last_checked_at.is_not(None), Domain.last_checked_at)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    checked = 0
    for domain_id in due:
        async with sessions.begin() as session:
            claimed = await session.execute(
                update(Domain)
                .where(Domain.id == domain_id, due_clause)
                .values(last_checked_at=now)
                .execution_options(synchronize_session=False)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue
            domain = await session.get(Domain, domain_id)
            assert domain is not None
            await verify_domain(session, settings, resolver, domain, now)
            checked += 1
    return checked
