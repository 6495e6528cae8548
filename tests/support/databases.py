"""Throw-away databases: a fresh SQLite file, or a PostgreSQL database made for the session."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import Engine, MetaData, text
from sqlalchemy.engine import make_url

from herald_service.storage.database import make_engine
from herald_service.storage.migrate import upgrade
from herald_service.storage.models import Base

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """A URL of a role that may create databases (``HERALD_TEST_POSTGRES_URL``)."""
    return os.environ.get("HERALD_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


class PostgresDatabase:
    """A database created for this test session and dropped at its end."""

    def __init__(self) -> None:
        admin = make_url(postgres_admin_url())
        self.name = f"herald_test_{secrets.token_hex(4)}"
        self._admin = make_engine(admin.render_as_string(False), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.engine = make_engine(self.url)
        upgrade(self.engine)

    def truncate(self) -> None:
        """Empty every table, so each test starts from a clean, migrated schema."""
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with self.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def drop(self) -> None:
        """Drop the database."""
        self.engine.dispose()
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def migrated_sqlite(path: str) -> str:
    """Create and migrate a SQLite database file; return its URL."""
    url = f"sqlite:///{path}"
    engine: Engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for assertions such as 'nothing was created'."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {
            name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in meta.tables
            if name != "alembic_version"
        }
