"""insert_rows: rows of several tables stored as Core would store them, all or none, also
when one statement on a connection in autocommit mode carries them (PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from herald_service.storage import bulk_insert
from herald_service.storage.bulk_insert import TableRows, insert_rows
from herald_service.storage.database import make_async_engine
from herald_service.storage.types import UTCDateTime
from support.databases import PostgresDatabase

metadata = MetaData()


def _parent_columns() -> list[Column[Any]]:
    return [
        Column("id", String(20), primary_key=True),
        Column("payload", LargeBinary),
        Column("data", JSON),
        Column("at", UTCDateTime),
        Column("note", String(20), nullable=True),
    ]


parents = Table("bulk_parents", metadata, *_parent_columns())
children = Table(
    "bulk_children",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("parent_id", ForeignKey("bulk_parents.id")),
    Column("name", String(20)),
)
counters = Table(
    "bulk_counters",
    metadata,
    Column("key", String(20), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
)
# The same columns as ``parents``, filled by a plain Core insert for comparison.
reference = Table("bulk_reference", metadata, *_parent_columns())


async def _engine_with_tables(url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
        await connection.run_sync(metadata.create_all)
    yield engine
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
    await engine.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """SQLite or PostgreSQL."""
    async for engine in _engine_with_tables(database_url):
        yield engine


@pytest.fixture
async def postgres(postgres_database: PostgresDatabase) -> AsyncIterator[AsyncEngine]:
    """PostgreSQL: only there do the rows go in one statement, outside a transaction."""
    postgres_database.truncate()
    async for engine in _engine_with_tables(postgres_database.url):
        yield engine


def _parent(index: int) -> dict[str, Any]:
    return {
        "id": f"p{index}",
        "payload": bytes(range(256)) * 3,
        "data": {"tags": ["a", "é"], "n": index, "nested": {"ok": True}},
        "at": datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=timezone(timedelta(hours=2))),
        "note": None if index % 2 else "even",
    }


async def _autocommit(connection: AsyncConnection) -> AsyncConnection:
    return await connection.execution_options(isolation_level="AUTOCOMMIT")


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return len((await connection.execute(select(table))).all())


async def test_rows_read_back_as_a_core_insert_stores_them(engine: AsyncEngine) -> None:
    rows = [_parent(i) for i in range(5)]
    async with engine.begin() as connection:
        await insert_rows(
            connection,
            TableRows(parents, rows),
            TableRows(children, [{"parent_id": "p1", "name": "c"}]),
        )
        await connection.execute(insert(reference), rows)
    async with engine.connect() as connection:
        stored = (await connection.execute(select(parents).order_by(parents.c.id))).all()
        expected = (await connection.execute(select(reference).order_by(reference.c.id))).all()
        child = (await connection.execute(select(children.c.parent_id, children.c.name))).one()
    assert [tuple(r) for r in stored] == [tuple(r) for r in expected]
    assert stored[0].data == {"tags": ["a", "é"], "n": 0, "nested": {"ok": True}}
    assert stored[0].at == datetime(2026, 1, 2, 1, 4, 5, 678_000, tzinfo=UTC)
    assert stored[1].note is None
    assert tuple(child) == ("p1", "c")


async def test_one_statement_is_all_or_nothing_without_a_transaction(postgres: AsyncEngine) -> None:
    engine = postgres
    async with engine.connect() as plain:
        connection = await _autocommit(plain)
        # Parents and a child that refers to a parent inserted by the same statement.
        await insert_rows(
            connection,
            TableRows(parents, [_parent(1)]),
            TableRows(children, [{"parent_id": "p1", "name": "ok"}]),
        )
        # The last table's rows break a foreign key: the parents before them are not kept.
        with pytest.raises(IntegrityError):
            await insert_rows(
                connection,
                TableRows(parents, [_parent(2), _parent(3)]),
                TableRows(children, [{"parent_id": "missing", "name": "bad"}]),
            )
    assert await _count(engine, parents) == 1
    assert await _count(engine, children) == 1


async def test_rows_beyond_one_statement_are_split_and_still_all_or_nothing(
    postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = postgres
    monkeypatch.setattr(bulk_insert, "MAX_PARAMETERS", 12)  # two parents (5 columns) each
    async with engine.connect() as plain:
        connection = await _autocommit(plain)
        rows = [_parent(i) for i in range(7)]
        await insert_rows(
            connection,
            TableRows(parents, rows),
            TableRows(children, [{"parent_id": f"p{i}", "name": "c"} for i in range(7)]),
        )
        assert await _count(engine, parents) == 7
        assert await _count(engine, children) == 7
        # A duplicate in the last of four statements: the first three are rolled back.
        with pytest.raises(IntegrityError):
            await insert_rows(
                connection, TableRows(parents, [_parent(i) for i in (10, 11, 12, 13, 14, 15, 3)])
            )
    assert await _count(engine, parents) == 7


async def test_rows_of_one_table_must_set_the_same_columns(postgres: AsyncEngine) -> None:
    uneven = [{"parent_id": None, "name": "a"}, {"name": "b"}]
    async with postgres.begin() as connection:
        with pytest.raises(ValueError, match="bulk_children"):
            await insert_rows(connection, TableRows(children, uneven))


async def test_nothing_to_insert_sends_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await insert_rows(connection, TableRows(parents, []), TableRows(children, []))
    assert await _count(engine, parents) == 0


async def test_counter_rows_add_to_the_stored_ones_on_a_conflict(engine: AsyncEngine) -> None:
    async with engine.connect() as plain:
        connection = await _autocommit(plain) if engine.dialect.name == "postgresql" else plain
        for sent in (1, 2):
            async with (
                connection.begin() if connection.dialect.name != "postgresql" else nullcontext()
            ):
                await insert_rows(
                    connection,
                    TableRows(parents, [_parent(sent)]),
                    TableRows(
                        counters,
                        [{"key": "a", "day": 1, "sent": sent}, {"key": "b", "day": 1, "sent": 5}],
                        ("sent",),
                    ),
                )
        async with connection.begin() if connection.dialect.name != "postgresql" else nullcontext():
            await insert_rows(
                connection, TableRows(counters, [{"key": "a", "day": 1, "failed": 3}], ("failed",))
            )
    async with engine.connect() as connection:
        rows = (await connection.execute(select(counters).order_by(counters.c.key))).all()
    assert [tuple(r) for r in rows] == [("a", 1, 3, 3), ("b", 1, 10, 0)]


def test_counters_are_updated_last_in_one_statement(postgres: AsyncEngine) -> None:
    # PostgreSQL runs the main INSERT first and the CTEs last to first: the counters'
    # upsert is the first CTE, so their hot rows are locked at the very end.
    sets = [
        TableRows(parents, [_parent(1)]),
        TableRows(counters, [{"key": "a", "day": 1, "sent": 1}], ("sent",)),
        TableRows(children, [{"parent_id": "p1", "name": "c"}]),
    ]
    [(sql, parameters)] = bulk_insert._statements(postgres.dialect, sets)
    assert sql.startswith(
        "WITH i0 AS (INSERT INTO bulk_counters (key, day, sent) VALUES ($6, $7, $8)"
    )
    assert "ON CONFLICT (key, day) DO UPDATE SET sent = bulk_counters.sent + EXCLUDED.sent" in sql
    assert sql.index("INSERT INTO bulk_parents") < sql.index("INSERT INTO bulk_children")
    assert parameters[5:8] == ["a", 1, 1]  # the parameters stay in the given order
