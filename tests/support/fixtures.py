"""pytest fixtures for Herald under test; tests/conftest.py star-imports this module.

``database_url`` is parametrized over SQLite and PostgreSQL, so every test that uses a
database (directly or through ``herald``/``api``) runs on both backends.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.settings import Settings, load_settings
from simnet.dns import DNSServer

from .databases import PostgresDatabase, migrated_sqlite
from .harness import Herald, Tenant
from .private_postgres import PrivateCluster, postgres_bindir
from .redis_server import RedisServer

__all__ = [
    "Herald",
    "Tenant",
    "api",
    "database_url",
    "herald",
    "herald_settings",
    "postgres_database",
    "private_postgres",
    "redis_server",
    "redis_url",
    "settings_env",
]

TEST_HOSTNAME = "mta.herald.example"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private Redis for the whole session."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The private Redis, emptied before the test."""
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    """A PostgreSQL database created (and migrated) for this session, dropped at its end."""
    database = PostgresDatabase()
    yield database
    database.drop()


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of this test's own, migrated, that it may stop and restart;
    skipped only where PostgreSQL is not installed (``scripts/test`` installs it)."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    cluster = PrivateCluster(bindir)
    yield cluster
    cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a new SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        return migrated_sqlite(str(tmp_path / "herald.db"))
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    database.truncate()
    return database.url


@pytest.fixture
def settings_env(
    database_url: str, redis_url: str, dns_server: DNSServer, smtp_port: int, tmp_path: Path
) -> dict[str, str]:
    """``HERALD_*`` variables pointing Herald at the test servers (for subprocesses too)."""
    return {
        "HERALD_DATABASE_URL": database_url,
        "HERALD_REDIS_URL": redis_url,
        "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
        "HERALD_HOSTNAME": TEST_HOSTNAME,
        "HERALD_DNS_NAMESERVERS": dns_server.address,
        "HERALD_DNS_TIMEOUT": "2s",
        "HERALD_SMTP_PORT": str(smtp_port),
        "HERALD_SMTP_TIMEOUT": "5s",
        "HERALD_QUEUE_NAME": f"herald-test-{secrets.token_hex(3)}",
        "HERALD_RETRY_SCHEDULE": "1m,5m,15m",
        "HERALD_SWEEP_INTERVAL": "0.2s",
        "HERALD_OUTCOME_JOURNAL_DIR": str(tmp_path / "outcome-journal"),
        # Generous defaults: quota tests set their limits per key.
        "HERALD_QUOTA_REQUESTS_PER_SECOND": "1000",
        "HERALD_QUOTA_BURST": "5000",
    }


@pytest.fixture
def herald_settings(settings_env: dict[str, str]) -> Settings:
    """Settings built from :func:`settings_env` (no ``.env`` file is read)."""
    return load_settings(settings_env, env_file=Path("/nonexistent"))


@pytest.fixture
async def herald(herald_settings: Settings, dns_server: DNSServer) -> AsyncIterator[Herald]:
    """Herald's storage, queue and worker runtime against the test servers."""
    harness = Herald(herald_settings, dns_server)
    yield harness
    await harness.close()


@pytest.fixture
async def api(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """An in-process HTTP client of the API app (lifespan run); ``herald`` waits for the
    app's background enqueues before it inspects the queue."""
    async with AsyncTestClient(create_app(herald.settings)) as client:
        with herald.serving(client):
            yield client
