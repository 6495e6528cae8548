"""BatchedWriter: concurrent submissions share transactions, each caller gets its own results,
and a bad submission fails on its own (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.storage.batched_writes import BatchedWriter
from herald_service.storage.database import async_session_factory, make_async_engine

Writer = BatchedWriter[AsyncSession, int, int]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS batched_t"))
        await connection.execute(text("CREATE TABLE batched_t (v INTEGER UNIQUE)"))
    yield engine
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE batched_t"))
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_session_factory(engine)


async def _insert(session: AsyncSession, values: list[int]) -> list[int]:
    """Insert the values (a duplicate fails the statement); ten times each, in order."""
    await session.execute(text("INSERT INTO batched_t (v) VALUES (:v)"), [{"v": v} for v in values])
    return [v * 10 for v in values]


async def _slow_insert(session: AsyncSession, values: list[int]) -> list[int]:
    """:func:`_insert` after 50 ms, so a transaction is still open when the test acts."""
    await asyncio.sleep(0.05)
    return await _insert(session, values)


async def _stored(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        return sorted((await connection.execute(text("SELECT v FROM batched_t"))).scalars())


async def test_concurrent_submissions_share_a_transaction_with_aligned_results(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer: Writer = BatchedWriter(sessions.begin, _insert, parallel=2)
    sizes = [1 + i % 3 for i in range(30)]
    starts = [sum(sizes[:i]) for i in range(30)]
    submissions = [list(range(s, s + n)) for s, n in zip(starts, sizes, strict=True)]
    singles = range(1000, 1020)
    many, one = await asyncio.gather(
        asyncio.gather(*(writer.submit_many(items) for items in submissions)),
        asyncio.gather(*(writer.submit(v) for v in singles)),
    )
    assert many == [[v * 10 for v in items] for items in submissions]
    assert one == [v * 10 for v in singles]
    assert writer.transactions <= 2  # 50 submissions, at most one transaction per flusher
    assert await _stored(engine) == [v for items in submissions for v in items] + list(singles)
    assert await writer.submit_many([]) == []


async def test_a_bad_submission_fails_alone(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer: Writer = BatchedWriter(sessions.begin, _insert, parallel=1)
    await writer.submit(7)
    before = writer.transactions
    outcomes = await asyncio.gather(
        writer.submit_many([1000]),
        writer.submit_many([7, 1001]),  # 7 is taken: this submission fails, all of it
        writer.submit_many([1002, 1003]),
        writer.submit(1004),
        return_exceptions=True,
    )
    assert outcomes[0] == [10000] and outcomes[2] == [10020, 10030] and outcomes[3] == 10040
    assert isinstance(outcomes[1], Exception)
    assert writer.transactions - before == 3  # the shared one failed; three retried alone
    assert await _stored(engine) == [7, 1000, 1002, 1003, 1004]

    async def boom(session: AsyncSession, values: list[int]) -> list[int]:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):  # a lone caller gets the write's own error
        await BatchedWriter(sessions.begin, boom).submit(1)

    async def too_few(session: AsyncSession, values: list[int]) -> list[int]:
        await _insert(session, values)
        return []

    with pytest.raises(ValueError, match="0 results for 2 items"):
        await BatchedWriter(sessions.begin, too_few).submit_many([50, 51])
    assert 50 not in await _stored(engine)  # rolled back


async def test_submissions_are_never_split_and_batches_stay_small(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    batches: list[list[int]] = []

    async def record(session: AsyncSession, values: list[int]) -> list[int]:
        batches.append(values)
        return await _insert(session, values)

    writer: Writer = BatchedWriter(sessions.begin, record, max_items=4, parallel=1)
    pairs = [[2 * i, 2 * i + 1] for i in range(10)]
    results = await asyncio.gather(
        *(writer.submit_many(p) for p in pairs), writer.submit_many(list(range(100, 106)))
    )
    assert results[:10] == [[10 * v for v in p] for p in pairs]
    assert results[10] == [10 * v for v in range(100, 106)]
    assert [len(b) for b in batches] == [4] * 5 + [6]  # too big for a batch: one of its own
    assert writer.transactions == 6


async def test_a_cancelled_caller_does_not_stop_the_commit(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer: Writer = BatchedWriter(sessions.begin, _slow_insert, parallel=1)
    gone = asyncio.create_task(writer.submit_many([1, 2]))  # the first: it starts the flush
    await asyncio.sleep(0)
    others = [
        asyncio.create_task(writer.submit_many([3, 4])),
        asyncio.create_task(writer.submit(5)),
    ]
    await asyncio.sleep(0.01)  # the shared transaction is under way
    gone.cancel()
    assert await asyncio.wait_for(asyncio.gather(*others), 5) == [[30, 40], 50]
    with pytest.raises(asyncio.CancelledError):
        await gone
    await writer.close()
    assert await _stored(engine) == [1, 2, 3, 4, 5]  # the cancelled caller's items too
    assert writer.transactions == 1


async def test_close_waits_for_the_transactions_under_way(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer: Writer = BatchedWriter(sessions.begin, _slow_insert)
    submitted = [asyncio.create_task(writer.submit_many([i])) for i in range(5)]
    await asyncio.sleep(0.01)  # the transaction is under way
    await writer.close()
    assert await _stored(engine) == [0, 1, 2, 3, 4]
    assert await asyncio.gather(*submitted) == [[0], [10], [20], [30], [40]]
    await writer.close()  # nothing under way: returns at once


@pytest.mark.parametrize("window", [0.0, 0.3])
async def test_a_window_gathers_submissions_that_arrive_spread_out(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], window: float
) -> None:
    writer: Writer = BatchedWriter(sessions.begin, _insert, parallel=1, window=window)

    async def later(value: int) -> int:
        await asyncio.sleep(0.03 * value)  # 0, 30, 60, 90 ms after the first
        return await writer.submit(value)

    assert await asyncio.gather(*(later(v) for v in range(4))) == [0, 10, 20, 30]
    assert await _stored(engine) == [0, 1, 2, 3]
    if window:
        assert writer.transactions == 1  # all four arrived within the window
    else:
        assert writer.transactions >= 2  # each goes as soon as nothing else is waiting


async def test_a_full_batch_does_not_wait_for_the_end_of_the_window(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer: Writer = BatchedWriter(sessions.begin, _insert, max_items=4, parallel=1, window=5.0)

    async def later(value: int) -> int:
        await asyncio.sleep(0.01 * value)  # spread out, each alone
        return await writer.submit(value)

    started = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(asyncio.gather(*(later(v) for v in range(4))), 2) == [
        0,
        10,
        20,
        30,
    ]
    assert asyncio.get_running_loop().time() - started < 1  # not the 5 s window
    assert writer.transactions == 1
    # One item alone still waits for the window (up to its end, not beyond).
    writer = BatchedWriter(sessions.begin, _insert, max_items=4, parallel=1, window=0.2)
    started = asyncio.get_running_loop().time()
    assert await writer.submit(9) == 90
    assert 0.2 <= asyncio.get_running_loop().time() - started < 1.5
