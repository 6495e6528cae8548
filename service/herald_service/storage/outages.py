"""Tell "the database is unavailable, try again later" apart from every other database error.

PostgreSQL stopped or restarting, a connection cut, too many connections, a standby that
only reads, SQLite out of disk space, read-only, or locked beyond its busy timeout: none
of these is the request's fault nor a bug, and each passes once the operator acts. The
API answers them ``503`` with ``Retry-After`` (never ``500``), the submission server
``451 4.3.0``, and the workers wait and try the same write again. Anything else (a
constraint violated, a syntax error) stays what it is.

The test is on the driver's error (``exc.orig`` of SQLAlchemy's wrappers, or the error
itself where raw psycopg cursors are used): PostgreSQL's SQLSTATE classes, SQLite's
primary result codes. It costs nothing on the way of a request that succeeds.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

RETRY_AFTER_SECONDS = 5
"""What ``Retry-After`` says while the database is unavailable: long enough not to
hammer a server that is restarting, short enough that clients resume soon after."""

# SQLSTATE classes and codes: connection exception (08), insufficient resources (53:
# disk full, out of memory, too many connections), operator intervention (57P01 admin
# shutdown, 57P02 crash shutdown, 57P03 cannot connect now), system error (58: I/O), and
# a read-only transaction (25006: a standby, as during a failover).
_PG_CLASSES = ("08", "53", "58")
_PG_CODES = ("57P01", "57P02", "57P03", "25006")

# SQLite primary result codes: busy and locked (past the busy timeout), out of memory,
# read-only, I/O error, full, cannot open, lock protocol.
_SQLITE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the database cannot serve now."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if _unavailable(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout):
        return True  # every pooled connection busy for pool_timeout seconds
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return exc.orig is not None and _unavailable(exc.orig)
    if isinstance(exc, psycopg.Error):
        return _pg_unavailable(exc)
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_CODES
    return False


def _pg_unavailable(exc: psycopg.Error) -> bool:
    state = exc.sqlstate
    if state is None:
        # No answer from a server at all: refused, reset, closed, timed out.
        return isinstance(exc, psycopg.OperationalError)
    return state[:2] in _PG_CLASSES or state in _PG_CODES
