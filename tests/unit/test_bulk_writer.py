"""BulkWriter: concurrent submissions share transactions; a bad one fails on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.storage.bulk_writer import BulkWriter
from herald_service.storage.database import async_session_factory, make_async_engine


async def _insert(session: AsyncSession, values: Sequence[int]) -> None:
    await session.execute(
        text("INSERT INTO bulk_writer_t (v) VALUES (:v)"), [{"v": v} for v in values]
    )


async def test_submissions_share_transactions_and_failures_stay_alone(database_url: str) -> None:
    engine = make_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE IF NOT EXISTS bulk_writer_t (v INTEGER UNIQUE)")
        )
        await connection.execute(text("DELETE FROM bulk_writer_t"))
    writer: BulkWriter[int] = BulkWriter(async_session_factory(engine), _insert, parallel=2)
    try:
        await asyncio.gather(*(writer.write([2 * i, 2 * i + 1]) for i in range(30)))
        assert writer.transactions <= 2  # 30 requests, at most one transaction per flusher

        before = writer.transactions
        outcomes = await asyncio.gather(
            writer.write([1000]),
            writer.write([7, 1001]),  # 7 is taken: this submission fails, alone
            writer.write([1002, 1003]),
            return_exceptions=True,
        )
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], Exception)
        assert writer.transactions - before == 2  # the shared one failed; two retried alone

        small: BulkWriter[int] = BulkWriter(
            async_session_factory(engine), _insert, max_items=4, parallel=1
        )
        await asyncio.gather(*(small.write([2000 + 2 * i, 2001 + 2 * i]) for i in range(10)))
        assert small.transactions >= 5  # never more than 4 items (2 submissions) at once

        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT v FROM bulk_writer_t"))).scalars()
            stored = set(rows)
        assert stored == set(range(60)) | {1000, 1002, 1003} | set(range(2000, 2020))
    finally:
        await writer.close()
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE bulk_writer_t"))
        await engine.dispose()


async def test_a_caller_that_goes_away_does_not_cancel_the_write(database_url: str) -> None:
    engine = make_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE IF NOT EXISTS bulk_writer_t (v INTEGER UNIQUE)")
        )
        await connection.execute(text("DELETE FROM bulk_writer_t"))
    writer: BulkWriter[int] = BulkWriter(async_session_factory(engine), _insert)
    try:
        task = asyncio.create_task(writer.write([1, 2, 3]))
        await asyncio.sleep(0)
        task.cancel()
        await writer.close()
        async with engine.connect() as connection:
            count = (
                await connection.execute(text("SELECT count(*) FROM bulk_writer_t"))
            ).scalar_one()
        assert count == 3
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE bulk_writer_t"))
        await engine.dispose()
