"""Insert the rows of several tables at once: on PostgreSQL in one statement.

Storing an accepted message writes rows to three or four tables. Through SQLAlchemy Core
that is one ``executemany`` per table, each a round trip, each with its own per-row work.
On this kind of machine a PostgreSQL round trip costs ~60 µs of client CPU, so
:func:`insert_rows` renders all the rows as one statement instead::

    WITH i0 AS (INSERT INTO messages (...) VALUES (...), (...)),
         i1 AS (INSERT INTO recipients (...) VALUES (...))
    INSERT INTO events (...) VALUES (...), (...)

One statement is atomic by itself, so it can run without a transaction around it (on a
connection in autocommit mode: no BEGIN and COMMIT round trips either). Foreign keys
between the tables hold, because PostgreSQL checks them at the end of the statement.
Values go through each column's SQLAlchemy bind processor, so they are stored as an ORM or
Core insert would store them (JSON serialised, timestamps converted).

Rows of a table whose :class:`TableRows` names ``add_on_conflict`` columns are counters:
a row whose primary key exists adds those columns to the stored ones (``INSERT ... ON
CONFLICT (primary key) DO UPDATE SET c = c + excluded.c``), within the same statement.

Other databases (SQLite) get one ``executemany`` per table, in the caller's transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import Table, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

# PostgreSQL's protocol allows 65,535 parameters per statement; rows beyond what fits in
# one statement go in further statements, inside one transaction.
MAX_PARAMETERS = 30_000


class TableRows(NamedTuple):
    """Rows for one table; every row has the same keys (the columns to set)."""

    table: Table
    rows: Sequence[Mapping[str, Any]]
    add_on_conflict: tuple[str, ...] = ()
    """Counter columns added to an existing row with the same primary key (none: a
    conflict is an error)."""


_Shape = tuple[Table, tuple[str, ...], int, tuple[str, ...]]
"""A table, the columns set, how many rows, and the counters added on conflict."""


async def insert_rows(connection: AsyncConnection, *row_sets: TableRows) -> None:
    """Insert every row of ``row_sets``, in their order, all or none.

    On PostgreSQL, rows that fit in :data:`MAX_PARAMETERS` go in one statement, which may
    run on a connection in autocommit mode; larger sets are split into several statements
    in one transaction (a savepoint if the caller already has one open). Elsewhere, one
    ``executemany`` per table in the caller's transaction.
    """
    sets = [s for s in row_sets if s.rows]
    if not sets:
        return
    if connection.dialect.name != "postgresql":
        for row_set in sets:
            await connection.execute(_insert(connection.dialect, row_set), list(row_set.rows))
        return
    statements = _statements(connection.dialect, sets)
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    # A raw cursor takes PostgreSQL's own $n placeholders: psycopg does not parse (or,
    # beyond 4 KB of text, re-parse at every call) a statement for %s.
    cursor = psycopg.AsyncRawCursor(driver)
    try:
        if len(statements) == 1:
            await cursor.execute(*statements[0])
            return
        async with driver.transaction():
            for sql, parameters in statements:
                await cursor.execute(sql, parameters)
    except psycopg.Error as exc:
        # The errors SQLAlchemy would raise (IntegrityError, OperationalError, ...).
        raise DBAPIError.instance(
            statements[0][0], None, exc, psycopg.Error, hide_parameters=True
        ) from exc


def _insert(dialect: Dialect, row_set: TableRows) -> Insert:
    """The Core insert of ``row_set`` (an upsert adding its counters, if it has any)."""
    table, adds = row_set.table, row_set.add_on_conflict
    if not adds:
        return insert(table)
    upsert = (postgresql_insert if dialect.name == "postgresql" else sqlite_insert)(table)
    return upsert.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={name: table.c[name] + upsert.excluded[name] for name in adds},
    )


def _statements(dialect: Dialect, sets: list[TableRows]) -> list[tuple[str, list[Any]]]:
    """The statements (text and parameters) that insert ``sets``: as few as fit."""
    statements: list[tuple[str, list[Any]]] = []
    shape: list[_Shape] = []  # of the statement being built
    parameters: list[Any] = []
    for row_set in sets:
        columns = tuple(row_set.rows[0])
        expected = set(columns)
        processors = _bind_processors(dialect, row_set.table, columns)
        count = 0
        for row in row_set.rows:
            if parameters and len(parameters) + len(columns) > MAX_PARAMETERS:
                shape.append((row_set.table, columns, count, row_set.add_on_conflict))
                statements.append((_sql(dialect, tuple(shape)), parameters))
                shape, parameters, count = [], [], 0
            if row.keys() != expected:
                raise ValueError(f"rows for {row_set.table.name} do not all set the same columns")
            for name, process in zip(columns, processors, strict=True):
                value = row[name]
                parameters.append(value if process is None else process(value))
            count += 1
        shape.append((row_set.table, columns, count, row_set.add_on_conflict))
    statements.append((_sql(dialect, tuple(shape)), parameters))
    return statements


@lru_cache(maxsize=512)
def _sql(dialect: Dialect, shape: tuple[_Shape, ...]) -> str:
    """``WITH i0 AS (INSERT ...), ... INSERT ...`` for tables, columns and row counts,
    with placeholders ``$1``, ``$2``, ... in the order of the parameters."""
    quote = dialect.identifier_preparer
    inserts: list[str] = []
    upserts: list[str] = []
    placeholders = (f"${number}" for number in itertools.count(1))
    for table, columns, count, adds in shape:
        if count == 0:
            continue
        names = ", ".join(quote.quote(name) for name in columns)
        values = ", ".join(
            "(" + ", ".join(itertools.islice(placeholders, len(columns))) + ")"
            for _ in range(count)
        )
        # Table and column names come from the metadata, quoted; values are parameters.
        into = f"INSERT INTO {quote.format_table(table)} ({names})"
        (upserts if adds else inserts).append(
            f"{into} VALUES {values}{_on_conflict(dialect, table, adds)}"
        )
    # PostgreSQL runs the main statement first, then the CTEs last to first: counters
    # (hot rows every writer updates) go first in the text so their row locks are taken
    # at the very end, held only until the commit that follows.
    *first, last = [*upserts, *inserts]
    if not first:
        return last
    ctes = ", ".join(f"i{index} AS ({sql})" for index, sql in enumerate(first))
    return f"WITH {ctes} {last}"


def _on_conflict(dialect: Dialect, table: Table, adds: tuple[str, ...]) -> str:
    """`` ON CONFLICT (primary key) DO UPDATE SET c = t.c + EXCLUDED.c, ...`` (or nothing)."""
    if not adds:
        return ""
    quote = dialect.identifier_preparer
    target = ", ".join(quote.quote(column.name) for column in table.primary_key.columns)
    name = quote.format_table(table)
    sets = ", ".join(
        f"{quote.quote(c)} = {name}.{quote.quote(c)} + EXCLUDED.{quote.quote(c)}" for c in adds
    )
    return f" ON CONFLICT ({target}) DO UPDATE SET {sets}"


@lru_cache(maxsize=256)
def _bind_processors(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    """Each column's bind processor for ``dialect`` (None: the value goes as it is)."""
    return tuple(
        table.columns[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    )
