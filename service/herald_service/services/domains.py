"""Sending domains: creation with DKIM keys, the DNS records to publish, signing keys."""

from __future__ import annotations

import time

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.errors import Conflict, InvalidRequest
from herald_service.mail.dkim_keys import (
    KeyPair,
    default_selector,
    generate_ed25519,
    generate_rsa,
    txt_record_value,
)
from herald_service.mail.dkim_signing import SigningKey
from herald_service.security import secretbox
from herald_service.settings import Settings
from herald_service.storage.models import DkimKey, Domain

RETURN_PATH_LABEL = "bounces"


class DnsRecord(msgspec.Struct, frozen=True):
    """One DNS record the domain owner must publish."""

    type: str
    host: str
    value: str
    purpose: str
    status: str = "pending"


def normalize_domain_name(name: str) -> str:
    """Lower-case A-label form of a domain name, or :class:`InvalidRequest`."""
    cleaned = name.strip().rstrip(".").lower()
    try:
        ascii_name = cleaned.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidRequest(f"{name!r} is not a valid domain name") from exc
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or any(
            not label or len(label) > 63 or label.startswith("-") or label.endswith("-")
            for label in labels
        )
    ):
        raise InvalidRequest(f"{name!r} is not a valid domain name")
    return ascii_name


async def add_domain(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    name: str,
    *,
    verified: bool = False,
) -> Domain:
    """Create a domain with a fresh RSA-2048 and Ed25519 DKIM key under dated selectors."""
    domain_name = normalize_domain_name(name)
    existing = await session.execute(
        select(Domain.id).where(Domain.account_id == account_id, Domain.name == domain_name)
    )
    if existing.first() is not None:
        raise Conflict(f"domain {domain_name} already exists in this account")
    secret_key = settings.require_secret_key()
    domain = Domain(
        id=new_id("dom"),
        account_id=account_id,
        name=domain_name,
        status="verified" if verified else "pending",
        return_path_host=f"{RETURN_PATH_LABEL}.{domain_name}",
        dkim_keys=[],
    )
    for pair in (generate_rsa(), generate_ed25519()):
        domain.dkim_keys.append(_stored_key(secret_key, pair))
    session.add(domain)
    await session.flush()
    return domain


def _stored_key(secret_key: str, pair: KeyPair) -> DkimKey:
    return DkimKey(
        id=new_id("dkim"),
        selector=default_selector(pair.algorithm),
        algorithm=pair.algorithm,
        private_key_encrypted=secretbox.encrypt(secret_key, pair.private_key),
        public_key=pair.public_key,
        status="active",
    )


def dns_records(domain: Domain, settings: Settings) -> list[DnsRecord]:
    """The records to publish for ``domain``: SPF, DKIM, DMARC and the return path."""
    ips = " ".join(f"ip6:{ip}" if ":" in ip else f"ip4:{ip}" for ip in settings.sending_ips)
    spf = f"v=spf1 {ips} -all" if ips else "v=spf1 a:" + settings.hostname + " -all"
    records = [
        DnsRecord("MX", domain.return_path_host, f"10 {settings.hostname}", "return_path"),
        DnsRecord("TXT", domain.return_path_host, spf, "spf"),
    ]
    records += [
        DnsRecord(
            "TXT",
            f"{key.selector}._domainkey.{domain.name}",
            txt_record_value(key.algorithm, key.public_key),
            "dkim",
        )
        for key in domain.dkim_keys
        if key.status in ("active", "pending")
    ]
    records.append(
        DnsRecord(
            "TXT",
            f"_dmarc.{domain.name}",
            f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain.name}; adkim=r; aspf=r",
            "dmarc",
        )
    )
    if domain.status == "verified":
        return [msgspec.structs.replace(r, status="verified") for r in records]
    return records


class SigningKeyCache:
    """Decrypted signing keys per domain, kept for ``ttl`` seconds in this process."""

    def __init__(self, secret_key: str, ttl: float = 60.0) -> None:
        self._secret_key = secret_key
        self._ttl = ttl
        self._entries: dict[str, tuple[float, list[SigningKey]]] = {}

    def keys_for(self, domain: Domain) -> list[SigningKey]:
        """The active keys of ``domain``, decrypted."""
        cached = self._entries.get(domain.id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        keys = [
            SigningKey(
                domain=domain.name,
                selector=key.selector,
                algorithm=key.algorithm,
                private_key=secretbox.decrypt(self._secret_key, key.private_key_encrypted),
            )
            for key in domain.dkim_keys
            if key.status == "active"
        ]
        self._entries[domain.id] = (now, keys)
        return keys
