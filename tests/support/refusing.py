"""A database that refuses to store a chosen message: for the paths where storing fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from support.harness import Herald


@contextmanager
def refused_subject(herald: Herald, subject: str) -> Iterator[None]:
    """While the block runs, the database itself refuses to store a message with
    ``subject`` (a trigger, dropped afterwards)."""
    with herald.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_subject BEFORE INSERT ON messages "
                    f"WHEN NEW.subject = '{subject}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION refuse_subject() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.subject = '{subject}' THEN RAISE EXCEPTION 'refused'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_subject BEFORE INSERT ON messages "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_subject()"
                )
            )
    try:
        yield
    finally:
        with herald.engine.begin() as connection:
            connection.execute(
                text(
                    "DROP TRIGGER IF EXISTS refuse_subject ON messages"
                    if connection.dialect.name != "sqlite"
                    else "DROP TRIGGER IF EXISTS refuse_subject"
                )
            )
