"""What a domain's DNS answers prove: per record, for the domain, and for its DKIM keys.

The lookups happen elsewhere; these functions judge the published values against what
Herald expects, so the rules read (and test) as tables. A failed lookup proves nothing
either way: it yields ``error`` for the record and leaves the domain's status alone, so a
DNS outage never unverifies a domain.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

import msgspec

from herald_service.core.states import DkimKeyStatus, DomainStatus, RecordStatus

DMARC_POLICIES = ("none", "quarantine", "reject")


class RecordCheck(msgspec.Struct, frozen=True):
    """What one record's check concluded, what was found, and why."""

    status: RecordStatus
    found: list[str] = msgspec.field(default_factory=list)
    detail: str = ""


def parse_tags(value: str) -> dict[str, str]:
    """The ``tag=value`` pairs of a DKIM or DMARC record (whitespace removed from values)."""
    tags: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, raw = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), "".join(raw.split()))
    return tags


def lookup_failed(error: str) -> RecordCheck:
    """The lookup itself failed (SERVFAIL, timeout): try again later."""
    return RecordCheck(RecordStatus.ERROR, [], error)


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


def spf_check(published: Sequence[str], sending_ips: Sequence[str], hostname: str) -> RecordCheck:
    """One ``v=spf1`` record listing every sending IP (or ``a:HOSTNAME``) and ``-all``."""
    found = list(published)
    spf = [v for v in found if v.lower().split(" ", 1)[0] == "v=spf1"]
    if not spf:
        return RecordCheck(RecordStatus.MISSING, found, "no v=spf1 record")
    if len(spf) > 1:
        why = "more than one v=spf1 record (a permanent SPF error)"
        return RecordCheck(RecordStatus.MISMATCH, found, why)
    terms = spf[0].lower().split()[1:]
    problems = []
    if sending_ips:
        missing = [ip for ip in sending_ips if not _covers(terms, ip)]
        if missing:
            problems.append("sending IPs not listed as ip4:/ip6: " + ", ".join(missing))
    elif f"a:{hostname.lower()}" not in terms:
        problems.append(f"a:{hostname} is not listed")
    if not terms or terms[-1] != "-all":
        problems.append("does not end with -all")
    if problems:
        return RecordCheck(RecordStatus.MISMATCH, found, "; ".join(problems))
    return RecordCheck(RecordStatus.VERIFIED, found)


def mx_check(published: Sequence[str], hostname: str) -> RecordCheck:
    """An MX pointing at Herald's host."""
    found = list(published)
    if not found:
        return RecordCheck(RecordStatus.MISSING, found, "no MX record")
    hosts = {value.split(" ", 1)[-1].lower() for value in found}
    if hostname.lower() not in hosts:
        return RecordCheck(RecordStatus.MISMATCH, found, f"no MX points at {hostname}")
    return RecordCheck(RecordStatus.VERIFIED, found)


def dkim_check(published: Sequence[str], public_key: str, algorithm: str) -> RecordCheck:
    """A TXT record whose ``p=`` is this public key, with the right ``k=``."""
    found = list(published)
    if not found:
        return RecordCheck(RecordStatus.MISSING, found, "no TXT record at the selector")
    for value in found:
        tags = parse_tags(value)
        if tags.get("p") == public_key and tags.get("k", "rsa") == algorithm:
            return RecordCheck(RecordStatus.VERIFIED, found)
    return RecordCheck(RecordStatus.MISMATCH, found, f"no record publishes this {algorithm} key")


def dmarc_check(published: Sequence[str]) -> RecordCheck:
    """One valid ``v=DMARC1`` record, whatever its policy."""
    found = list(published)
    dmarc = [v for v in found if v.replace(" ", "").upper().startswith("V=DMARC1")]
    if not dmarc:
        return RecordCheck(RecordStatus.MISSING, found, "no v=DMARC1 record")
    if len(dmarc) > 1:
        why = "more than one DMARC record: receivers ignore both"
        return RecordCheck(RecordStatus.MISMATCH, found, why)
    policy = parse_tags(dmarc[0]).get("p", "")
    if policy not in DMARC_POLICIES:
        return RecordCheck(RecordStatus.MISMATCH, found, "p= must be none, quarantine or reject")
    return RecordCheck(RecordStatus.VERIFIED, found, f"policy p={policy}")


def resolves_back(ip: str, addresses: Iterable[str]) -> bool:
    """One of a PTR name's addresses is ``ip`` itself (forward-confirmed reverse DNS)."""
    address = ipaddress.ip_address(ip)
    return any(ipaddress.ip_address(a) == address for a in addresses)


class DomainVerdict(msgspec.Struct, frozen=True):
    """The domain's status after a check; ``newly_verified``: stamp ``verified_at``."""

    status: str
    newly_verified: bool = False


def judge_domain(current: str, required: Iterable[str]) -> DomainVerdict:
    """Verified when every required record is; ``pending`` when one is missing or wrong.

    Otherwise (a required lookup failed, the rest verified) ``current`` stays.
    """
    statuses = list(required)
    if all(status == RecordStatus.VERIFIED for status in statuses):
        return DomainVerdict(DomainStatus.VERIFIED, current != DomainStatus.VERIFIED)
    if any(status in (RecordStatus.MISSING, RecordStatus.MISMATCH) for status in statuses):
        return DomainVerdict(DomainStatus.PENDING)
    return DomainVerdict(current)


class KeyState(msgspec.Struct, frozen=True):
    """The part of a DKIM key that a rotation moves along."""

    selector: str
    status: str
    retire_at: datetime | None = None
    activated_at: datetime | None = None


def _overlap_ended(key: KeyState, now: datetime) -> bool:
    retiring = key.status == DkimKeyStatus.RETIRING
    return retiring and key.retire_at is not None and key.retire_at <= now


def advance_keys(
    keys: Sequence[KeyState], verified_selectors: Collection[str], now: datetime, overlap: float
) -> list[KeyState]:
    """``keys`` after a check, in the same order.

    A rotation is promoted once every pending key's record is verified: the pending keys
    sign from now on and the active ones retire after ``overlap`` seconds. Keys whose
    overlap has ended are retired (the caller erases their private keys).
    """
    pending = [k for k in keys if k.status == DkimKeyStatus.PENDING]
    promote = bool(pending) and all(k.selector in verified_selectors for k in pending)
    advanced = []
    for key in keys:
        if promote and key.status == DkimKeyStatus.ACTIVE:
            retire_at = now + timedelta(seconds=overlap)
            key = msgspec.structs.replace(key, status=DkimKeyStatus.RETIRING, retire_at=retire_at)
        elif promote and key.status == DkimKeyStatus.PENDING:
            key = msgspec.structs.replace(key, status=DkimKeyStatus.ACTIVE, activated_at=now)
        if _overlap_ended(key, now):
            key = msgspec.structs.replace(key, status=DkimKeyStatus.RETIRED)
        advanced.append(key)
    return advanced
