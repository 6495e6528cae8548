"""``last_used_at`` of API keys without a database write per request.

Each API process notes the latest use of every key in memory (a dict assignment on the
hot path) and writes the buffered times in one short transaction every few seconds, so
``last_used_at`` lags real use by at most the flush interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.storage.models import ApiKey
from herald_service.storage.types import UTCDateTime

log = logging.getLogger(__name__)

_table = cast(Table, ApiKey.__table__)
_RECORD_USE = (
    update(_table)
    .where(
        _table.c.id == bindparam("key_id"),
        or_(
            _table.c.last_used_at.is_(None),
            _table.c.last_used_at < bindparam("used_at", type_=UTCDateTime()),
        ),
    )
    .values(last_used_at=bindparam("used_at", type_=UTCDateTime()))
)


class KeyUsage:
    """Buffers the latest use of each key and writes them in batches."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], float] = time.time
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._pending: dict[str, float] = {}

    def touch(self, key_id: str) -> None:
        """Note that ``key_id`` was used now (memory only)."""
        self._pending[key_id] = self._clock()

    async def flush(self) -> int:
        """Write the buffered uses; returns how many keys were written."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        rows = [
            {"key_id": key_id, "used_at": datetime.fromtimestamp(at, UTC)}
            for key_id, at in pending.items()
        ]
        try:
            async with self._sessions.begin() as session:
                await session.execute(_RECORD_USE, rows)
        except Exception:
            log.warning("could not record API key use; will retry", exc_info=True)
            for key_id, at in pending.items():
                self._pending[key_id] = max(at, self._pending.get(key_id, at))
            return 0
        return len(rows)

    async def run(self, interval: float) -> None:
        """Flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.flush()
