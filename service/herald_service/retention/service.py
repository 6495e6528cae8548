"""Pruning rounds: every kind past its age, batch after batch, each batch its own short
transaction, so no lock is held longer than one batch and other writers (the API, the
deliveries) interleave between batches. Safe in many processes at once: a row two
rounds both choose is pruned by one of them, and the other's write finds nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.retention import Kind, cutoffs
from herald_service.retention.queries import WALKS, prune_batch, prune_hour_counters
from herald_service.retention.schemas import PruneReport, kept_for, retention_ages
from herald_service.settings import Settings
from herald_service.storage.types import utcnow

log = logging.getLogger(__name__)


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Prune everything older than its ``HERALD_RETENTION_*`` age (``dry_run``: count it)."""
    now = now or utcnow()
    limit = max(1, settings.retention_batch_size)
    pruned = {kind.value: 0 for kind in Kind}
    batches = 0
    for kind, cutoff in cutoffs(retention_ages(settings), now).items():
        walk = _walk_counters if kind is Kind.HOUR_COUNTERS else _walk
        async for count in walk(sessions, kind, cutoff, limit, now, dry_run):
            pruned[kind.value] += count
            batches += 1
    return PruneReport(dry_run=dry_run, pruned=pruned, kept_for=kept_for(settings), batches=batches)


async def _walk(
    sessions: async_sessionmaker[AsyncSession],
    kind: Kind,
    cutoff: datetime,
    limit: int,
    now: datetime,
    dry_run: bool,
) -> AsyncIterator[int]:
    """One kind's walk in key order, a transaction per batch; yields each batch's count."""
    after = None
    while True:
        async with sessions.begin() as session:
            step = await prune_batch(
                session,
                WALKS[kind],
                cutoff=cutoff,
                after=after,
                limit=limit,
                now=now,
                dry_run=dry_run,
            )
        yield step.pruned
        if step.finished:
            return
        after = step.after


async def _walk_counters(
    sessions: async_sessionmaker[AsyncSession],
    kind: Kind,
    cutoff: datetime,
    limit: int,
    now: datetime,
    dry_run: bool,
) -> AsyncIterator[int]:
    """The hour counters, batch after batch until fewer than ``limit`` were left."""
    while True:
        async with sessions.begin() as session:
            count = await prune_hour_counters(session, cutoff=cutoff, limit=limit, dry_run=dry_run)
        yield count
        if dry_run or count < limit:
            return


async def prune_round(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """A worker's retention duty: one round, logged when it pruned anything; how many."""
    report = await prune(sessions, settings)
    if report.total:
        done = ", ".join(f"{kind} {count}" for kind, count in report.pruned.items() if count)
        log.info("pruned %s (%d batches)", done, report.batches)
    return report.total
