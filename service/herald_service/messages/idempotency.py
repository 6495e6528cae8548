"""``Idempotency-Key`` handling: same key and body → the original response, nothing new.

The key is claimed in its own short transaction before any work, so concurrent requests
with the same key see it: they get 409 while the first is in flight, and the stored
response once it has finished. The response is stored in the same transaction as the
work it describes, so a replay never points at something that was not committed.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.errors import Conflict, FieldError, InvalidRequest
from herald_service.storage.models import IdempotencyKey
from herald_service.storage.types import utcnow

RETENTION = timedelta(hours=24)
# A claim older than this whose request never finished (a crashed process) may be retaken.
ABANDONED_AFTER = timedelta(minutes=2)
# A request with a key in progress is answered 409 with this Retry-After (seconds): sends
# take milliseconds, so the retry usually finds the stored answer.
IN_PROGRESS_RETRY_AFTER = 1
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


class Replay(msgspec.Struct, frozen=True):
    """A stored response to send again."""

    status_code: int
    body: bytes


def request_fingerprint(method: str, path: str, body: object) -> str:
    """SHA-256 over the method, path and canonical JSON of the decoded body."""
    canonical = msgspec.json.encode(body, order="sorted")
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def check_key(key: str) -> str:
    """The key if well-formed, else a 422 naming the header."""
    if not KEY_PATTERN.match(key):
        raise InvalidRequest(
            "invalid Idempotency-Key",
            [FieldError("Idempotency-Key", "1-255 printable ASCII characters without spaces")],
        )
    return key


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    account_id: str,
    key: str,
    fingerprint: str,
    now: datetime | None = None,
) -> Replay | None:
    """Claim ``key`` for this request; a :class:`Replay` if it already completed.

    Raises 422 when the key was used with a different request and 409 (with
    ``Retry-After``) while the first request with the key is still being processed.
    """
    now = now or utcnow()
    for _ in range(3):
        try:
            async with sessions.begin() as session:
                session.add(
                    IdempotencyKey(
                        account_id=account_id, key=key, request_hash=fingerprint, created_at=now
                    )
                )
            return None
        except IntegrityError:
            pass
        async with sessions.begin() as session:
            row = (
                await session.execute(
                    select(IdempotencyKey).where(
                        IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
                    )
                )
            ).scalar()
            if row is None:
                continue
            expired = now - row.created_at >= RETENTION
            abandoned = row.status_code is None and now - row.created_at >= ABANDONED_AFTER
            if expired or abandoned:
                await session.delete(row)
                continue
            if row.request_hash != fingerprint:
                raise InvalidRequest(
                    "this Idempotency-Key was used with a different request",
                    [FieldError("Idempotency-Key", "already used with a different request body")],
                )
            if row.status_code is None or row.response is None:
                raise _in_progress("a request with this Idempotency-Key is still being processed")
            return Replay(row.status_code, row.response)
    raise _in_progress("could not claim the Idempotency-Key; retry")


def _in_progress(detail: str) -> Conflict:
    return Conflict(detail, headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)})


async def complete(
    session: AsyncSession, account_id: str, key: str, status_code: int, body: bytes
) -> None:
    """Store the response in the caller's (work) transaction."""
    row = await session.get(IdempotencyKey, (account_id, key))
    if row is not None:
        row.status_code = status_code
        row.response = body


async def release(sessions: async_sessionmaker[AsyncSession], account_id: str, key: str) -> None:
    """Forget an unfinished claim (the request failed), so the key can be used again."""
    async with sessions.begin() as session:
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.account_id == account_id,
                IdempotencyKey.key == key,
                IdempotencyKey.status_code.is_(None),
            )
        )
