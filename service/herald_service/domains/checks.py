"""Verify a domain's DNS records, switch DKIM keys after a rotation, re-check periodically."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import datetime, timedelta
from typing import Any

import dns.asyncresolver
import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.dns import Answer, lookup, lookup_addresses
from herald_service.domains.records import DnsRecord, expected_records
from herald_service.mail.dkim_keys import parse_tags
from herald_service.settings import Settings
from herald_service.storage.models import DkimKey, Domain


class Result(msgspec.Struct, frozen=True):
    """What one record's check concluded."""

    status: str  # verified | missing | mismatch | error
    found: list[str] = msgspec.field(default_factory=list)
    detail: str = ""


def _error(answer: Answer) -> Result:
    return Result("error", [], answer.error)


def _covers(mechanisms: list[str], ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    for term in mechanisms:
        name, _, network = term.lstrip("+").partition(":")
        if name in ("ip4", "ip6") and network:
            try:
                if address in ipaddress.ip_network(network, strict=False):
                    return True
            except ValueError:
                continue
    return False


def check_spf(answer: Answer, settings: Settings) -> Result:
    """One ``v=spf1`` record listing every sending IP (or ``a:HOSTNAME``) and ``-all``."""
    if answer.error:
        return _error(answer)
    found = list(answer.values)
    spf = [v for v in found if v.lower().split(" ", 1)[0] == "v=spf1"]
    if not spf:
        return Result("missing", found, "no v=spf1 record")
    if len(spf) > 1:
        return Result("mismatch", found, "more than one v=spf1 record (a permanent SPF error)")
    terms = spf[0].lower().split()[1:]
    problems = []
    if settings.sending_ips:
        missing = [ip for ip in settings.sending_ips if not _covers(terms, ip)]
        if missing:
            problems.append("sending IPs not listed as ip4:/ip6: " + ", ".join(missing))
    elif f"a:{settings.hostname.lower()}" not in terms:
        problems.append(f"a:{settings.hostname} is not listed")
    if not terms or terms[-1] != "-all":
        problems.append("does not end with -all")
    if problems:
        return Result("mismatch", found, "; ".join(problems))
    return Result("verified", found)


def check_mx(answer: Answer, settings: Settings) -> Result:
    """An MX pointing at Herald's host."""
    if answer.error:
        return _error(answer)
    found = list(answer.values)
    if not found:
        return Result("missing", found, "no MX record")
    hosts = {value.split(" ", 1)[-1].lower() for value in found}
    if settings.hostname.lower() not in hosts:
        return Result("mismatch", found, f"no MX points at {settings.hostname}")
    return Result("verified", found)


def check_dkim(answer: Answer, key: DkimKey) -> Result:
    """A TXT record whose ``p=`` is this key's public key, with the right ``k=``."""
    if answer.error:
        return _error(answer)
    found = list(answer.values)
    if not found:
        return Result("missing", found, "no TXT record at the selector")
    for value in found:
        tags = parse_tags(value)
        if tags.get("p") == key.public_key and tags.get("k", "rsa") == key.algorithm:
            return Result("verified", found)
    return Result("mismatch", found, f"no record publishes this {key.algorithm} key")


def check_dmarc(answer: Answer) -> Result:
    """One valid ``v=DMARC1`` record, whatever its policy."""
    if answer.error:
        return _error(answer)
    found = list(answer.values)
    dmarc = [v for v in found if v.replace(" ", "").upper().startswith("V=DMARC1")]
    if not dmarc:
        return Result("missing", found, "no v=DMARC1 record")
    if len(dmarc) > 1:
        return Result("mismatch", found, "more than one DMARC record: receivers ignore both")
    policy = parse_tags(dmarc[0]).get("p", "")
    if policy not in ("none", "quarantine", "reject"):
        return Result("mismatch", found, "p= must be none, quarantine or reject")
    return Result("verified", found, f"policy p={policy}")


async def check_fcrdns(resolver: dns.asyncresolver.Resolver, ip: str, reverse: str) -> Result:
    """The address has a PTR whose name resolves back to it (forward-confirmed rDNS)."""
    ptr = await lookup(resolver, reverse, "PTR")
    if ptr.error:
        return _error(ptr)
    if not ptr.values:
        return Result("missing", [], f"{ip} has no PTR record")
    found = []
    address = ipaddress.ip_address(ip)
    for name in ptr.values:
        forward = await lookup_addresses(resolver, name)
        if forward.error:
            return _error(forward)
        found.append(f"{name} -> {', '.join(forward.values) or '(no address)'}")
        if any(ipaddress.ip_address(a) == address for a in forward.values):
            return Result("verified", found, f"{ip} <-> {name}")
    return Result("mismatch", found, f"no PTR name of {ip} resolves back to it")


async def check_record(
    resolver: dns.asyncresolver.Resolver, record: DnsRecord, domain: Domain, settings: Settings
) -> Result:
    """Look ``record`` up and compare what is published with what should be."""
    if record.purpose in ("spf", "spf_from"):
        return check_spf(await lookup(resolver, record.host, "TXT"), settings)
    if record.purpose == "return_path":
        return check_mx(await lookup(resolver, record.host, "MX"), settings)
    if record.purpose == "dmarc":
        return check_dmarc(await lookup(resolver, record.host, "TXT"))
    if record.purpose == "dkim":
        selector = record.host.split("._domainkey.", 1)[0]
        key = next(k for k in domain.dkim_keys if k.selector == selector)
        return check_dkim(await lookup(resolver, record.host, "TXT"), key)
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
    """Promote a verified rotation; retire keys whose overlap has ended."""
    pending = [k for k in domain.dkim_keys if k.status == "pending"]
    if pending and all(k.selector in verified_selectors for k in pending):
        for key in domain.dkim_keys:
            if key.status == "active":
                key.status = "retiring"
                key.retire_at = now + timedelta(seconds=overlap)
        for key in pending:
            key.status = "active"
            key.activated_at = now
    for key in domain.dkim_keys:
        if key.status == "retiring" and key.retire_at is not None and key.retire_at <= now:
            key.status = "retired"
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
    lookup (``error``) changes nothing, so a DNS outage never unverifies a domain.
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
                "status": result.status,
                "found": result.found,
                "detail": result.detail,
            }
        )
    required = [r.status for rec, r in zip(records, results, strict=True) if rec.required]
    if all(status == "verified" for status in required):
        if domain.status != "verified":
            domain.verified_at = now
        domain.status = "verified"
    elif any(status in ("missing", "mismatch") for status in required):
        domain.status = "pending"
    verified_selectors = {
        rec.host.split("._domainkey.", 1)[0]
        for rec, result in zip(records, results, strict=True)
        if rec.purpose == "dkim" and result.status == "verified"
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
