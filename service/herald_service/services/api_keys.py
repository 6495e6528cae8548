"""API keys: creation, and authentication with argon2 kept off the hot path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from msgspec import Struct
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.errors import InvalidRequest, Unauthorized
from herald_service.security.hashing import DECOY_HASH, hash_secret, keyed_digest, verify_secret
from herald_service.security.tokens import new_token, parse_token
from herald_service.storage.models import ApiKey

SCOPES = ("send", "read", "admin")


class AuthContext(Struct, frozen=True):
    """Who is calling: the key and its account, and what the key may do."""

    key_id: str
    account_id: str
    scopes: frozenset[str]


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Validate scope names and return them in canonical order."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = wanted - set(SCOPES)
    if unknown or not wanted:
        raise InvalidRequest(
            f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {sorted(wanted)}"
        )
    return [s for s in SCOPES if s in wanted]


async def create_api_key(
    session: AsyncSession, account_id: str, scopes: Iterable[str], name: str = ""
) -> tuple[ApiKey, str]:
    """A new key for ``account_id``; returns the row and the token (shown once)."""
    key_id, token = new_token()
    parsed = parse_token(token)
    assert parsed is not None
    secret_hash = await asyncio.to_thread(hash_secret, parsed.secret)
    key = ApiKey(
        id=key_id,
        account_id=account_id,
        name=name,
        secret_hash=secret_hash,
        scopes=normalize_scopes(scopes),
    )
    session.add(key)
    await session.flush()
    return key, token


class _CacheEntry(Struct):
    context: AuthContext
    checked_at: float


class Authenticator:
    """Turns a presented token into an :class:`AuthContext`.

    The first use of a token costs one argon2id verification; afterwards the token's
    HMAC digest maps to the verified context in this process. Every ``recheck_seconds``
    the key row is re-read (a cheap primary-key lookup, no argon2) so that a revoked key
    stops working within that time on every process.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pepper: bytes,
        recheck_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ) -> None:
        self._sessions = sessions
        self._pepper = pepper
        self._recheck = recheck_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[bytes, _CacheEntry] = {}

    async def authenticate(self, token: str) -> AuthContext:
        """The caller's context, or :class:`Unauthorized` for any bad token."""
        digest = keyed_digest(self._pepper, token)
        entry = self._cache.get(digest)
        now = self._clock()
        if entry is not None and now - entry.checked_at < self._recheck:
            return entry.context
        parsed = parse_token(token)
        if parsed is None:
            await asyncio.to_thread(verify_secret, DECOY_HASH, token)
            raise Unauthorized("missing, malformed or unknown API key")
        async with self._sessions() as session:
            key = await session.get(ApiKey, parsed.key_id)
        if entry is not None and key is not None and key.revoked_at is None:
            entry.checked_at = now
            return entry.context
        self._cache.pop(digest, None)
        valid = await asyncio.to_thread(
            verify_secret, key.secret_hash if key else DECOY_HASH, parsed.secret
        )
        if key is None or not valid or key.revoked_at is not None:
            raise Unauthorized("missing, malformed or unknown API key")
        context = AuthContext(key.id, key.account_id, frozenset(key.scopes))
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[digest] = _CacheEntry(context, now)
        return context
