"""Keep a worker's delivery leases alive while it works, so a dead worker's are short.

A delivery leases its recipients for ``HERALD_DELIVERY_LEASE`` (30 s by default). While
the worker lives, a heartbeat renews the leases of every recipient it still holds, all of
them with one UPDATE per beat (a beat every third of the lease), however many deliveries
are in flight: the cost is per worker, not per message. A delivery that takes longer
than the lease (slow MX hosts, timeouts) keeps its recipients; a worker that dies stops
renewing, and the sweeper hands its recipients to another worker within about one lease.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.states import RecipientStatus
from herald_service.storage.models import Recipient
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow

_RECIPIENTS = Base.metadata.tables[Recipient.__tablename__]
_QUEUED = RecipientStatus.QUEUED.value
CHUNK = 1000  # recipient ids per statement: far below any driver's bind-parameter limit


async def renew_leases(session: AsyncSession, held: dict[str, set[int]], lease: timedelta) -> int:
    """Push the lease of every recipient in ``held`` (token → recipient ids) that is still
    queued under that token to ``lease`` from now; how many rows it renewed.

    Rows another transaction is writing right now (an outcome being recorded) are
    skipped (PostgreSQL ``SKIP LOCKED``): they are about to leave the lease anyway, and
    waiting for them could deadlock with a transaction that updates several groups.
    """
    ids = sorted(rid for rids in held.values() for rid in rids)
    tokens = sorted(held)
    r = _RECIPIENTS.c
    renewed = 0
    for start in range(0, len(ids), CHUNK):
        mine = (
            r.id.in_(ids[start : start + CHUNK]),
            r.lease_token.in_(tokens),
            r.status == _QUEUED,
        )
        free = select(r.id).where(*mine).with_for_update(skip_locked=True).scalar_subquery()
        result = await session.execute(
            update(_RECIPIENTS)
            .where(r.id.in_(free), *mine)
            .values(next_attempt_at=utcnow() + lease)
        )
        renewed += int(getattr(result, "rowcount", 0) or 0)
    return renewed


class LeaseKeeper:
    """The recipients this worker's deliveries hold, and the heartbeat that renews them.

    ``hold`` and ``release`` run on the worker's event loop, once per delivery (a set
    update each); the runtime calls :meth:`beat` every ``interval`` seconds.
    """

    def __init__(
        self,
        begin: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        lease: timedelta,
        interval: float | None = None,
    ) -> None:
        self._begin = begin
        self.lease = lease
        self.interval = interval if interval is not None else lease.total_seconds() / 3
        self._held: dict[str, set[int]] = {}
        self.beats = 0
        """Heartbeats that renewed at least one lease."""

    def hold(self, token: str, recipient_ids: Iterable[int]) -> None:
        """Renew these recipients' leases (taken under ``token``) until released."""
        self._held.setdefault(token, set()).update(recipient_ids)

    def release(self, token: str, recipient_ids: Iterable[int]) -> None:
        """Stop renewing these recipients' leases (their delivery has ended)."""
        ids = self._held.get(token)
        if ids is None:
            return
        ids.difference_update(recipient_ids)
        if not ids:
            del self._held[token]

    def held(self) -> int:
        """How many recipients the heartbeat renews at the moment."""
        return sum(len(ids) for ids in self._held.values())

    def snapshot(self) -> dict[str, set[int]]:
        """The recipients held right now, by lease token (a copy)."""
        return {token: set(ids) for token, ids in self._held.items()}

    async def hand_back(self, held: dict[str, set[int]]) -> int:
        """End the leases in ``held`` that are still queued under their token, so the
        sweeper hands those recipients to another worker at once; how many it ended.

        A worker that stops before its deliveries finish calls this rather than leave
        them leased until the lease runs out. Recipients whose outcome was recorded
        meanwhile have left the lease and are not touched.
        """
        if not held:
            return 0
        async with self._begin() as session:
            return await renew_leases(session, held, timedelta(0))

    async def beat(self) -> int:
        """Renew every held lease now; how many recipients it renewed."""
        if not self._held:
            return 0
        async with self._begin() as session:
            renewed = await renew_leases(session, self.snapshot(), self.lease)
        self.beats += 1
        return renewed
