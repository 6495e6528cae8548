"""Sending domains: add (with DKIM keys), read, delete, rotate keys.

Also the face of the domains slice for the send path and the console: the resolution of a
From domain (:mod:`herald_service.domains.sending`) and the verification of a domain's
records (:mod:`herald_service.domains.checks`) are re-exported here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import DkimKeyStatus, DomainStatus
from herald_service.domains.checks import verify_domain
from herald_service.domains.readiness import SenderReadiness, sender_readiness
from herald_service.domains.records import DnsRecord, dns_records
from herald_service.domains.sending import (
    SendingDomain,
    SendingDomainCache,
    SigningKeyCache,
    ensure_sender_allowed,
)
from herald_service.errors import Conflict, FieldError, InvalidRequest, NotFound
from herald_service.ip_pools.service import check_pool_names
from herald_service.mail.addresses import special_use_problem
from herald_service.mail.dkim_keys import (
    SELECTOR_PATTERN,
    dated_selector_base,
    generate_ed25519,
    generate_rsa,
    selector_for,
    txt_record_value,
)
from herald_service.security import secretbox
from herald_service.settings import Settings
from herald_service.storage.models import DkimKey, Domain
from herald_service.storage.types import utcnow

__all__ = [
    "RETURN_PATH_LABEL",
    "DnsRecord",
    "SenderReadiness",
    "SendingDomain",
    "SendingDomainCache",
    "SigningKeyCache",
    "add_domain",
    "delete_domain",
    "dns_records",
    "ensure_sender_allowed",
    "get_domain",
    "list_domains",
    "normalize_domain_name",
    "rotate_dkim_keys",
    "sender_readiness",
    "update_domain_defaults",
    "verify_domain",
]

RETURN_PATH_LABEL = "bounces"


def normalize_domain_name(name: str, field: str = "name") -> str:
    """Lower-case A-label form of a domain name, or :class:`InvalidRequest` naming ``field``."""
    cleaned = name.strip().rstrip(".").lower()
    problem = InvalidRequest(
        f"{name!r} is not a valid domain name",
        [FieldError(field, "must be a domain name such as example.com")],
    )
    try:
        ascii_name = cleaned.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise problem from exc
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or any(
            not label
            or len(label) > 63
            or label.startswith("-")
            or label.endswith("-")
            or not all(c.isalnum() or c == "-" for c in label)
            for label in labels
        )
        or labels[-1].isdigit()
    ):
        raise problem
    reserved = special_use_problem(ascii_name)
    if reserved is not None:
        raise InvalidRequest(reserved, [FieldError(field, reserved)])
    return ascii_name


def _selector_base(domain: Domain, requested: str | None, now: datetime) -> str:
    """``requested`` (validated) or a dated base not yet used by ``domain``."""
    used = {key.selector for key in domain.dkim_keys}
    if requested is not None:
        base = requested.strip().lower()
        if not SELECTOR_PATTERN.match(base):
            raise InvalidRequest(
                f"{requested!r} is not a valid DKIM selector",
                [FieldError("dkim_selector", "use 1-42 letters, digits or inner hyphens")],
            )
        if {selector_for(base, "rsa"), selector_for(base, "ed25519")} & used:
            raise Conflict(
                f"selector {base} is already used by {domain.name}",
                [FieldError("dkim_selector", "already used by this domain")],
            )
        return base
    base = dated_selector_base(now)
    candidate, counter = base, 1
    while selector_for(candidate, "rsa") in used:
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def _new_keys(secret_key: str, base: str, status: DkimKeyStatus) -> list[DkimKey]:
    """A fresh RSA-2048 and Ed25519 pair under selectors derived from ``base``."""
    keys = []
    for pair in (generate_rsa(), generate_ed25519()):
        keys.append(
            DkimKey(
                id=new_id("dkim"),
                selector=selector_for(base, pair.algorithm),
                algorithm=pair.algorithm,
                private_key_encrypted=secretbox.encrypt(secret_key, pair.private_key),
                public_key=pair.public_key,
                status=status,
                created_at=utcnow(),
                activated_at=utcnow() if status == DkimKeyStatus.ACTIVE else None,
            )
        )
    return keys


async def add_domain(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    name: str,
    *,
    dkim_selector: str | None = None,
    allow_subdomains: bool = False,
    verified: bool = False,
) -> Domain:
    """Create a domain with a fresh RSA-2048 and Ed25519 DKIM key (``verified``: tests)."""
    domain_name = normalize_domain_name(name)
    existing = await session.execute(
        select(Domain.id).where(
            Domain.account_id == account_id,
            Domain.name == domain_name,
            Domain.deleted_at.is_(None),
        )
    )
    if existing.first() is not None:
        raise Conflict(
            f"domain {domain_name} already exists in this account",
            [FieldError("name", "already a domain of this account")],
        )
    secret_key = settings.require_secret_key()
    now = utcnow()
    domain = Domain(
        id=new_id("dom"),
        account_id=account_id,
        name=domain_name,
        status=DomainStatus.VERIFIED if verified else DomainStatus.PENDING,
        verified_at=now if verified else None,
        return_path_host=f"{RETURN_PATH_LABEL}.{domain_name}",
        allow_subdomains=allow_subdomains,
        check_report={},
        created_at=now,
        dkim_keys=[],
    )
    base = _selector_base(domain, dkim_selector, now)
    domain.dkim_keys.extend(_new_keys(secret_key, base, DkimKeyStatus.ACTIVE))
    session.add(domain)
    await session.flush()
    return domain


async def list_domains(session: AsyncSession, account_id: str) -> list[Domain]:
    """The account's domains, oldest first."""
    result = await session.execute(
        select(Domain)
        .where(Domain.account_id == account_id, Domain.deleted_at.is_(None))
        .order_by(Domain.created_at, Domain.id)
    )
    return list(result.scalars())


async def get_domain(session: AsyncSession, account_id: str, domain_id: str) -> Domain:
    """The caller's domain, or :class:`NotFound` (also for other accounts' domains)."""
    domain = await session.get(Domain, domain_id)
    if domain is None or domain.account_id != account_id or domain.deleted_at is not None:
        raise NotFound(f"no domain {domain_id}")
    return domain


async def update_domain_defaults(
    session: AsyncSession,
    account_id: str,
    domain_id: str,
    *,
    opens: bool | None = None,
    clicks: bool | None = None,
    unsubscribe: bool | None = None,
    tracking_host: bool | None = None,
    ip_pool: str | None = None,
) -> Domain:
    """Set what the domain's messages get unless they say otherwise: open tracking, click
    tracking, hosted one-click unsubscribe (``None``: unchanged, so nothing given changes
    nothing).

    API processes cache a domain for a few seconds (:class:`SendingDomainCache`): the caller
    forgets it in its own process; the others see the change within the cache's TTL.
    """
    domain = await get_domain(session, account_id, domain_id)
    if opens is not None:
        domain.tracking_opens = opens
    if clicks is not None:
        domain.tracking_clicks = clicks
    if unsubscribe is not None:
        domain.unsubscribe_default = unsubscribe
    if tracking_host is not None:
        domain.tracking_host = f"track.{domain.name}" if tracking_host else None
    if ip_pool is not None:
        if ip_pool:
            await check_pool_names(session, [ip_pool], "ip_pool")
        domain.ip_pool = ip_pool or None
    await session.flush()
    return domain


async def dkim_key_records(session: AsyncSession, domain_id: str) -> dict[str, str]:
    """The DKIM TXT record of every key the domain ever had (retired ones too, so old
    messages still verify), by ``selector._domainkey.name``: verification without DNS."""
    domain = await session.get(Domain, domain_id)
    if domain is None:
        return {}
    return {
        f"{key.selector}._domainkey.{domain.name}".lower(): txt_record_value(
            key.algorithm, key.public_key
        )
        for key in domain.dkim_keys
    }


async def delete_domain(session: AsyncSession, account_id: str, domain_id: str) -> None:
    """Stop sending from the domain and erase its private keys.

    The row stays for the messages that refer to it; the name can be added again.
    """
    domain = await get_domain(session, account_id, domain_id)
    domain.deleted_at = utcnow()
    domain.status = DomainStatus.DELETED
    for key in domain.dkim_keys:
        key.status = DkimKeyStatus.RETIRED
        key.private_key_encrypted = b""
    await session.flush()


async def rotate_dkim_keys(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    domain_id: str,
    dkim_selector: str | None = None,
) -> Domain:
    """Add a new key pair under a new selector as ``pending``.

    Signing switches to it when verification finds its record published; the keys it
    replaces stay published for ``HERALD_DKIM_ROTATION_OVERLAP``, then are retired.
    """
    domain = await get_domain(session, account_id, domain_id)
    if any(key.status == DkimKeyStatus.PENDING for key in domain.dkim_keys):
        raise Conflict(
            f"a key rotation of {domain.name} is already waiting for its DNS records; "
            "publish them and verify the domain"
        )
    base = _selector_base(domain, dkim_selector, utcnow())
    domain.dkim_keys.extend(_new_keys(settings.require_secret_key(), base, DkimKeyStatus.PENDING))
    await session.flush()
    return domain
