"""Group commit: shared transactions, and a failing unit does not sink the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.group_commit import GroupCommit
from herald_service.storage.database import async_session_factory, make_async_engine


async def test_units_share_transactions_and_failures_stay_alone(tmp_path: Path) -> None:
    engine = make_async_engine(f"sqlite:///{tmp_path / 'g.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (v INTEGER UNIQUE)"))
    writes = GroupCommit(async_session_factory(engine))

    async def insert(session: AsyncSession, value: int) -> int:
        await session.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        return value * 10

    results = await asyncio.gather(
        *(writes.run(lambda s, v=v: insert(s, v)) for v in range(20)),  # type: ignore[misc]
        return_exceptions=True,
    )
    assert results == [v * 10 for v in range(20)]
    assert writes.transactions == 1

    mixed = await asyncio.gather(
        writes.run(lambda s: insert(s, 100)),
        writes.run(lambda s: insert(s, 5)),  # duplicate: fails
        writes.run(lambda s: insert(s, 101)),
        return_exceptions=True,
    )
    assert mixed[0] == 1000 and mixed[2] == 1010
    assert isinstance(mixed[1], Exception)
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one()
    assert count == 22
    await engine.dispose()
    with pytest.raises(ZeroDivisionError):
        await GroupCommit(async_session_factory(engine)).run(lambda s: _boom())


async def _boom() -> None:
    raise ZeroDivisionError
