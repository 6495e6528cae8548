"""Per-process cache of sending-domain resolution, so a send makes no SELECT in the common case.

A send needs the verified domain behind its From address and that domain's decrypted
active signing keys. :class:`SendingDomainCache` remembers that answer per
``(account, From domain)`` for ``ttl`` seconds (5 s by default, the same bound as API key
revocation). So a change made elsewhere (domain deleted, keys rotated or retired by the
verifier in another process, tracking or unsubscribe defaults changed) reaches every API
and submission process within ``ttl``; the process that makes the change calls
:meth:`SendingDomainCache.forget` (or :meth:`SendingDomainCache.forget_domain`) and sees it
at once. Refusals are never cached: a domain added or verified a moment ago is usable at
once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.states import DkimKeyStatus, DomainStatus, RecordStatus
from herald_service.errors import FieldError, Forbidden, InvalidRequest
from herald_service.mail.dkim_signing import SigningKey
from herald_service.security import secretbox
from herald_service.storage.models import Domain

DEFAULT_TTL_SECONDS = 5.0


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


class DomainPaused(Forbidden):
    """The sending domain is paused by the reputation guard: sends are refused until an
    admin resumes it."""

    title = "Domain paused"


def refuse_paused(domain: Domain) -> None:
    """403 naming ``from`` when ``domain`` is paused, with the reason and how to resume."""
    if domain.paused_at is None:
        return
    reason = domain.pause_reason or "paused"
    raise DomainPaused(
        f"{domain.name} is paused: {reason}. Find and fix the cause (a bad list, a broken "
        f"form), then resume it: POST /v1/domains/{domain.id}/resume or "
        f"`herald domains resume {domain.name}`. Its queued mail is held until then.",
        [FieldError("from", f"domain {domain.name} is paused: {reason}")],
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
    """The caller's verified domain for a From address, or a 422 naming ``from`` (a 403
    when the domain is paused).

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
        if domain.status == DomainStatus.VERIFIED:
            refuse_paused(domain)
            return domain
        problem = "is not verified" if name == candidates[0] else f"needs {name} verified"
        break
    raise InvalidRequest(
        f"cannot send from {sender_domain}: it {problem}",
        [FieldError("from", f"domain {sender_domain} {problem}")],
    )


class SigningKeyCache:
    """Decrypted private keys by key id, so each is decrypted once per process."""

    def __init__(self, secret_key: str, size: int = 1024) -> None:
        self._secret_key = secret_key
        self._size = size
        self._entries: OrderedDict[str, SigningKey] = OrderedDict()

    def keys_for(self, domain: Domain) -> list[SigningKey]:
        """The keys ``domain`` signs with now (its ``active`` ones), decrypted."""
        keys = []
        for key in domain.dkim_keys:
            if key.status != DkimKeyStatus.ACTIVE:
                continue
            cached = self._entries.get(key.id)
            if cached is None:
                cached = SigningKey(
                    domain=domain.name,
                    selector=key.selector,
                    algorithm=key.algorithm,
                    private_key=secretbox.decrypt(self._secret_key, key.private_key_encrypted),
                )
                self._entries[key.id] = cached
                if len(self._entries) > self._size:
                    self._entries.popitem(last=False)
            keys.append(cached)
        return keys


class SendingDomain(Struct, frozen=True):
    """What a send needs of its domain: ids, names and the keys it signs with now."""

    id: str
    account_id: str
    name: str
    return_path_host: str
    keys: tuple[SigningKey, ...]
    tracking_opens: bool = False
    tracking_clicks: bool = False
    unsubscribe_default: bool = False
    tracking_host: str = ""
    """The domain's own tracking host, once its CNAME verified; empty: the public URL."""


class SendingDomainCache:
    """Resolved sending domains by ``(account, From domain)``, each kept ``ttl`` seconds."""

    def __init__(
        self,
        signing_keys: SigningKeyCache,
        ttl: float = DEFAULT_TTL_SECONDS,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._signing_keys = signing_keys
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, SendingDomain]] = OrderedDict()

    def get(self, account_id: str, sender_domain: str) -> SendingDomain | None:
        """The cached resolution, or None when absent or older than ``ttl``."""
        key = (account_id, sender_domain)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[key]
            return None
        return entry[1]

    def put(self, account_id: str, sender_domain: str, domain: Domain) -> SendingDomain:
        """Remember ``domain`` (loaded with its keys) as the answer for ``sender_domain``."""
        resolved = SendingDomain(
            id=domain.id,
            account_id=domain.account_id,
            name=domain.name,
            return_path_host=domain.return_path_host,
            keys=tuple(self._signing_keys.keys_for(domain)),
            tracking_opens=domain.tracking_opens,
            tracking_clicks=domain.tracking_clicks,
            unsubscribe_default=domain.unsubscribe_default,
            tracking_host=verified_tracking_host(domain),
        )
        self._entries[(account_id, sender_domain)] = (self._clock() + self._ttl, resolved)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return resolved

    def forget(self, account_id: str) -> None:
        """Drop every entry of ``account_id`` (after a change to one of its domains)."""
        for key in [k for k in self._entries if k[0] == account_id]:
            del self._entries[key]

    def forget_domain(self, domain_id: str) -> None:
        """Drop every entry that resolved to ``domain_id`` (after its settings changed).

        Entries are keyed by the From domain asked about, so a domain that allows
        subdomains may stand behind several; each is dropped.
        """
        for key in [k for k, (_, d) in self._entries.items() if d.id == domain_id]:
            del self._entries[key]

    async def resolve(
        self, session: AsyncSession, account_id: str, sender_domain: str
    ) -> SendingDomain:
        """The account's domain for a From domain: cached, else looked up (422 if none)."""
        name = sender_domain.lower().rstrip(".")
        cached = self.get(account_id, name)
        if cached is not None:
            return cached
        domain = await sending_domain(session, account_id, name)
        return self.put(account_id, name, domain)

    async def resolve_with(
        self, sessions: async_sessionmaker[AsyncSession], account_id: str, sender_domain: str
    ) -> SendingDomain:
        """:meth:`resolve`, opening a session only when the cache has no answer."""
        cached = self.get(account_id, sender_domain.lower().rstrip("."))
        if cached is not None:
            return cached
        async with sessions() as session:
            return await self.resolve(session, account_id, sender_domain)


def verified_tracking_host(domain: Domain) -> str:
    """``domain.tracking_host`` if its last verification found its CNAME, else ``""``."""
    host = domain.tracking_host
    if not host:
        return ""
    for record in domain.check_report.get("records", []):
        if record.get("type") == "CNAME" and record.get("host") == host:
            return host if record.get("status") == RecordStatus.VERIFIED.value else ""
    return ""
