"""Which database errors mean "unavailable, retry later" (503, 451, a worker that waits).

Real errors from real drivers: SQLite files that are full, read-only or locked, and a
PostgreSQL port nobody listens on; a syntax error or a constraint stays a plain error.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from herald_service.storage.outages import database_unavailable
from support.processes import free_port


def _error(path: Path, *statements: str, uri: bool = False) -> sqlite3.Error:
    connection = sqlite3.connect(str(path), uri=uri, timeout=0.05, isolation_level=None)
    try:
        for statement in statements:
            connection.execute(statement)
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("no error")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "herald.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB UNIQUE)")
        connection.execute("INSERT INTO t (body) VALUES (x'00')")
    return path


def test_sqlite_full_read_only_and_locked_are_unavailable(database: Path) -> None:
    full = _error(
        database,
        "PRAGMA max_page_count = 3",
        "INSERT INTO t (body) VALUES (zeroblob(100000))",
    )
    assert "full" in str(full)
    read_only = _error(
        Path(f"file:{database}?mode=ro"), "INSERT INTO t (body) VALUES (x'01')", uri=True
    )
    assert "readonly" in str(read_only)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = _error(database, "INSERT INTO t (body) VALUES (x'02')")
    finally:
        holder.close()
    assert "locked" in str(locked)
    for exc in (full, read_only, locked):
        assert database_unavailable(exc)
        assert database_unavailable(DBAPIError.instance("INSERT", None, exc, sqlite3.Error))


def test_sqlite_mistakes_are_not_unavailable(database: Path) -> None:
    assert not database_unavailable(_error(database, "SELEC 1"))
    assert not database_unavailable(_error(database, "INSERT INTO t (body) VALUES (x'00')"))
    assert not database_unavailable(ValueError("database or disk is full"))


def test_postgres_refused_is_unavailable_also_when_raised_from() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/herald")
    with pytest.raises(DBAPIError) as refused:
        engine.connect()
    assert database_unavailable(refused.value)
    assert isinstance(refused.value.orig, psycopg.OperationalError)
    assert database_unavailable(refused.value.orig)
    wrapped = RuntimeError("while storing")
    wrapped.__cause__ = refused.value
    assert database_unavailable(wrapped)


def test_postgres_admin_shutdown_and_too_many_connections_are_unavailable() -> None:
    for state, unavailable in (("57P01", True), ("53300", True), ("23505", False)):
        error_class = psycopg.errors.lookup(state)
        assert database_unavailable(error_class("x")) is unavailable, state
    engine = create_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(DBAPIError) as mistake:
        connection.execute(text("SELEC 1"))
    assert not database_unavailable(mistake.value)
