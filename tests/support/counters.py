"""Stats counter rows written straight into the database, for tests of what reads them
(the console's Overview and Stats pages) at chosen hours and days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from herald_service.storage.database import make_async_engine
from herald_service.storage.models import StatsCounter


async def add_counts(
    database_url: str,
    account_id: str,
    domain: str,
    granularity: str,
    bucket: datetime,
    tag: str = "",
    **counts: int,
) -> None:
    """One counter row (stripe 0) of ``account_id``'s ``domain`` for the hour or day
    starting at ``bucket``; ``tag`` ``""`` is the row of every message."""
    engine = make_async_engine(database_url)
    try:
        async with engine.begin() as db:
            await db.execute(
                insert(StatsCounter).values(
                    account_id=account_id,
                    granularity=granularity,
                    tag=tag,
                    bucket=bucket,
                    domain=domain,
                    stripe=0,
                    **counts,
                )
            )
    finally:
        await engine.dispose()
