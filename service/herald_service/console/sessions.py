"""Console sessions and sign-in lock-out, both kept in Redis with their expiry.

The browser holds a random 256-bit token; Redis holds only its SHA-256 under a key that
expires with the session, so a Redis dump cannot be replayed as a cookie. Each session
carries its own CSRF token. A session opened with an admin API key (in development, see
``HERALD_CONSOLE_KEY_SIGN_IN``) names that key instead of a user, so each request can check
that the key still lives. Failed sign-ins are counted per email (passwords only) and per
client address in fixed 15-minute windows.
"""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from redis.asyncio import Redis

SESSION_COOKIE = "herald_console"
PRE_SESSION_COOKIE = "herald_console_pre"  # the CSRF token of the sign-in form

MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
FAILURE_WINDOW_SECONDS = 15 * 60


class ConsoleSession(msgspec.Struct, frozen=True):
    """What a session token stands for: a user, or (``key_id`` set, ``user_id`` empty) an
    API key. Sessions stored before key sessions existed decode with ``key_id`` None."""

    user_id: str
    csrf: str
    key_id: str | None = None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SessionStore:
    """Open, look up and close sessions."""

    def __init__(self, redis: Redis, lifetime: float) -> None:
        self._redis = redis
        self._lifetime = max(1, int(lifetime))

    @staticmethod
    def _key(token: str) -> str:
        return f"herald:console:session:{_digest(token)}"

    async def open(self, user_id: str, *, key_id: str | None = None) -> str:
        """A new session for ``user_id`` (or, with ``user_id`` empty, for the API key
        ``key_id``); returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        session = ConsoleSession(user_id=user_id, csrf=secrets.token_urlsafe(32), key_id=key_id)
        await self._redis.set(self._key(token), msgspec.json.encode(session), ex=self._lifetime)
        return token

    async def load(self, token: str | None) -> ConsoleSession | None:
        """The live session of ``token``, if any."""
        if not token or len(token) > 100:
            return None
        raw = await self._redis.get(self._key(token))
        return None if raw is None else msgspec.json.decode(raw, type=ConsoleSession)

    async def close(self, token: str | None) -> None:
        """End the session of ``token`` (nothing happens for an unknown token)."""
        if token and len(token) <= 100:
            await self._redis.delete(self._key(token))


class SignInLimiter:
    """Counts failed sign-ins; refuses further attempts once a count reaches its limit."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def _email_key(email: str) -> str:
        return f"herald:console:failures:email:{_digest(email)}"

    @staticmethod
    def _client_key(client: str) -> str:
        return f"herald:console:failures:client:{_digest(client)}"

    def _keys(self, email: str | None, client: str) -> list[tuple[str, int]]:
        keys = [(self._client_key(client), MAX_FAILURES_PER_CLIENT)]
        if email is not None:
            keys.append((self._email_key(email), MAX_FAILURES_PER_EMAIL))
        return keys

    async def locked_for(self, email: str | None, client: str) -> int:
        """Seconds until attempts are allowed again (0: allowed now); ``email`` None (an
        API key sign-in) counts the client address only."""
        keys = self._keys(email, client)
        counts = await self._redis.mget([key for key, _ in keys])
        limits = [(key, count, limit) for (key, limit), count in zip(keys, counts, strict=True)]
        wait = 0
        for key, count, limit in limits:
            if count is not None and int(count) >= limit:
                wait = max(wait, int(await self._redis.ttl(key)), 1)
        return wait

    async def failed(self, email: str | None, client: str) -> None:
        """Count one failed attempt against ``email`` (unless None) and ``client``."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, _ in self._keys(email, client):
                pipe.incr(key)
                pipe.expire(key, FAILURE_WINDOW_SECONDS, nx=True)
            await pipe.execute()

    async def succeeded(self, email: str) -> None:
        """Forget the failures of ``email`` (those of the client address stay)."""
        await self._redis.delete(self._email_key(email))
