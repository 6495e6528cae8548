"""API keys: create, list, revoke and update them, and authenticate with argon2 off the hot path."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Sequence

import msgspec
from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.key_grants import Grantor, KeyGrant
from herald_service.core.key_grants import KeyLimits as KeyLimits  # re-exported
from herald_service.domains.service import normalize_domain_name
from herald_service.errors import FieldError, InvalidRequest, NotFound, Unauthorized
from herald_service.keys.grants import (
    SCOPES,
    check_limits,
    ensure_within,
    key_grant,
    key_limits,
    normalize_scopes,
)
from herald_service.keys.usage import KeyUsage
from herald_service.security.hashing import hash_secret, keyed_digest, verify_secret
from herald_service.security.tokens import new_token, parse_token
from herald_service.storage.models import ApiKey, Domain
from herald_service.storage.types import utcnow

UNAUTHORIZED = "missing, malformed or unknown API key"
ADMIN_SCOPE = "admin"  # manages the account: keys, domains, webhooks, suppressions


class AuthContext(Struct, frozen=True):
    """Who is calling: the key and its account, and what the key may do."""

    key_id: str
    account_id: str
    scopes: frozenset[str]
    allowed_domains: frozenset[str] = frozenset()
    limits: KeyLimits = KeyLimits()

    def grant(self) -> KeyGrant:
        """What this key may grant to keys it creates or changes."""
        return KeyGrant(scopes=self.scopes, domains=self.allowed_domains, limits=self.limits)


def auth_context(key: ApiKey) -> AuthContext:
    """The caller's context for a stored key."""
    return AuthContext(
        key.id,
        key.account_id,
        frozenset(key.scopes),
        frozenset(key.allowed_domains or ()),
        key_limits(key),
    )


async def _account_domains(
    session: AsyncSession, account_id: str, names: Sequence[str]
) -> list[str]:
    """``names`` normalized, each required to be a sending domain of the account."""
    normalized: list[str] = []
    errors = []
    for index, name in enumerate(names):
        try:
            normalized.append(normalize_domain_name(name))
        except InvalidRequest as exc:
            errors.append(FieldError(f"domains[{index}]", exc.detail))
    if not errors and normalized:
        known = set(
            (
                await session.execute(
                    select(Domain.name).where(
                        Domain.account_id == account_id, Domain.name.in_(normalized)
                    )
                )
            ).scalars()
        )
        errors = [
            FieldError(f"domains[{i}]", f"{n} is not a sending domain of this account")
            for i, n in enumerate(normalized)
            if n not in known
        ]
    if errors:
        raise InvalidRequest("unknown sending domains", errors)
    return sorted(set(normalized))


async def create_api_key(
    session: AsyncSession,
    account_id: str,
    scopes: Iterable[str],
    name: str = "",
    *,
    domains: Sequence[str] = (),
    limits: KeyLimits | None = None,
    grantor: Grantor | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``account_id``; returns the row and the token (shown once).

    ``domains`` restricts the key to those sending domains of the account (empty: all).
    Made by ``grantor`` (an API key), it is refused beyond that key's own grant, and its
    unset quotas take the grantor's own overrides.
    """
    overrides = check_limits(limits or KeyLimits())
    if grantor is not None:
        overrides = grantor.inherit(overrides)
    scope_names = normalize_scopes(scopes)
    allowed_domains = await _account_domains(session, account_id, domains)
    wanted = KeyGrant(
        scopes=frozenset(scope_names), domains=frozenset(allowed_domains), limits=overrides
    )
    ensure_within(grantor, wanted, "create")
    key_id, token = new_token()
    parsed = parse_token(token)
    assert parsed is not None
    key = ApiKey(
        id=key_id,
        account_id=account_id,
        name=name,
        scopes=scope_names,
        allowed_domains=allowed_domains,
        rate_per_second=overrides.requests_per_second,
        rate_burst=overrides.burst,
        daily_recipients=overrides.daily_recipients,
        secret_hash=await asyncio.to_thread(hash_secret, parsed.secret),
    )
    session.add(key)
    await session.flush()
    return key, token


async def list_api_keys(session: AsyncSession, account_id: str) -> list[ApiKey]:
    """The account's keys, oldest first (revoked ones included)."""
    result = await session.execute(
        select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at)
    )
    return list(result.scalars())


async def get_api_key(session: AsyncSession, account_id: str, key_id: str) -> ApiKey:
    """The account's key ``key_id``, or :class:`NotFound`."""
    key = await session.get(ApiKey, key_id)
    if key is None or key.account_id != account_id:
        raise NotFound(f"no API key {key_id}")
    return key


async def find_live_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    """Key ``key_id`` unless it is unknown or revoked: one primary-key read, no secret
    check, no cache. For a caller that authenticated the key's token earlier (a console
    key session) and must stop the moment the key is revoked."""
    key = await session.get(ApiKey, key_id)
    return None if key is None or key.revoked_at is not None else key


def unrestricted(key: ApiKey) -> bool:
    """Whether ``key`` holds every scope, every domain of its account and the server's
    default quotas: whatever it does through a surface that does not bound grants by the
    acting key (the console), it cannot give more than it holds."""
    grant = key_grant(key)
    return grant.scopes == frozenset(SCOPES) and not grant.domains and grant.limits == KeyLimits()


async def revoke_api_key(
    session: AsyncSession, account_id: str, key_id: str, grantor: Grantor | None = None
) -> ApiKey:
    """Revoke a key (idempotent). Every API process refuses it within five seconds.

    An API key (``grantor``) may revoke only keys within its own grant (itself included).
    """
    key = await get_api_key(session, account_id, key_id)
    ensure_within(grantor, key_grant(key), "revoke")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


async def update_api_key(
    session: AsyncSession,
    account_id: str,
    key_id: str,
    *,
    name: str | None = None,
    limits: KeyLimits | None = None,
    grantor: Grantor | None = None,
) -> ApiKey:
    """Rename a key or replace its quota overrides (takes effect within five seconds).

    An API key (``grantor``) may change only keys within its own grant (itself included),
    and only to quotas within its own; unset quotas take the grantor's own overrides.
    """
    key = await get_api_key(session, account_id, key_id)
    ensure_within(grantor, key_grant(key), "change")
    if name is not None:
        key.name = name
    if limits is not None:
        check_limits(limits)
        if grantor is not None:
            limits = grantor.inherit(limits)
            ensure_within(grantor, msgspec.structs.replace(key_grant(key), limits=limits), "change")
        key.rate_per_second = limits.requests_per_second
        key.rate_burst = limits.burst
        key.daily_recipients = limits.daily_recipients
    await session.flush()
    return key


class _CacheEntry(Struct):
    context: AuthContext
    checked_at: float


class Authenticator:
    """Turns a presented token into an :class:`AuthContext`.

    The first use of a token costs one argon2id verification; afterwards the token's
    HMAC digest maps to the verified context in this process. Every ``recheck_seconds``
    the key row is re-read (a primary-key lookup, no argon2) so that a revoked key stops
    working, and changed scopes or quotas apply, within that time on every process.

    Refusals (missing, malformed, unknown, revoked or wrong key) all get the same
    :class:`Unauthorized` and are answered no sooner than ``failure_floor`` seconds, nor
    sooner than 1.25 times a recent argon2 verification, after the request began. Only a
    token naming a real key costs an argon2 verification; the others wait without using
    CPU, so garbage tokens cannot exhaust the server, and the
    number of argon2 verifications running at once is bounded. Concurrent requests with
    the same not-yet-cached token share one verification.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pepper: bytes,
        *,
        usage: KeyUsage | None = None,
        recheck_seconds: float = 5.0,
        failure_floor: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ) -> None:
        self._sessions = sessions
        self._pepper = pepper
        self._usage = usage
        self._recheck = recheck_seconds
        self._failure_floor = failure_floor
        self.clock = clock
        self._max_entries = max_entries
        self._cache: dict[bytes, _CacheEntry] = {}
        self._inflight: dict[bytes, asyncio.Future[AuthContext]] = {}
        self._argon2_slots = asyncio.Semaphore(os.cpu_count() or 2)
        self._argon2_seconds = 0.0  # moving average of recent verifications

    async def authenticate(
        self, token: str | None, on_refused: Callable[[], object] | None = None
    ) -> AuthContext:
        """The caller's context, or :class:`Unauthorized` for any missing or bad token.

        ``on_refused`` is called when the token is refused, before the wait for the
        refusal floor (the API takes the request out of its in-flight budget then).
        """
        started = time.monotonic()
        digest = keyed_digest(self._pepper, token) if token else b""
        entry = self._cache.get(digest)
        now = self.clock()
        if entry is not None and now - entry.checked_at < self._recheck:
            context = entry.context
        else:
            pending = self._inflight.get(digest)
            if pending is None:
                pending = asyncio.ensure_future(self._verify(token, digest, entry, now))
                self._inflight[digest] = pending
                pending.add_done_callback(lambda _: self._inflight.pop(digest, None))
            try:
                context = await asyncio.shield(pending)
            except Unauthorized:
                if on_refused is not None:
                    on_refused()
                target = max(self._failure_floor, 1.25 * self._argon2_seconds)
                await asyncio.sleep(target - (time.monotonic() - started))
                raise
        if self._usage is not None:
            self._usage.touch(context.key_id)
        return context

    async def _verify(
        self, token: str | None, digest: bytes, entry: _CacheEntry | None, now: float
    ) -> AuthContext:
        parsed = parse_token(token) if token else None
        if parsed is None:
            raise Unauthorized(UNAUTHORIZED)
        async with self._sessions() as session:
            key = await session.get(ApiKey, parsed.key_id)
        if key is None or key.revoked_at is not None:
            self._cache.pop(digest, None)
            raise Unauthorized(UNAUTHORIZED)
        if entry is None:
            async with self._argon2_slots:
                began = time.monotonic()
                valid = await asyncio.to_thread(verify_secret, key.secret_hash, parsed.secret)
                took = time.monotonic() - began
            average = self._argon2_seconds
            self._argon2_seconds = took if not average else 0.8 * average + 0.2 * took
            if not valid:
                raise Unauthorized(UNAUTHORIZED)
        context = auth_context(key)
        if entry is None and len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[digest] = _CacheEntry(context, now)
        return context
