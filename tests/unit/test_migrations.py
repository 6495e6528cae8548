"""The alembic history is linear and matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from herald_service.storage.database import make_engine
from herald_service.storage.migrate import alembic_config, upgrade
from herald_service.storage.models import Base


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1, "merge or renumber migrations: more than one head"


def test_migrations_match_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)  # idempotent on an up-to-date database
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_migrated_primary_keys_match_the_models(database_url: str) -> None:
    # compare_metadata does not compare primary keys; the stats upserts conflict on them.
    from sqlalchemy import inspect

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        inspector = inspect(connection)
        for name in ("stats_counters", "stats_latency"):
            migrated = inspector.get_pk_constraint(name)["constrained_columns"]
            assert migrated == [c.name for c in Base.metadata.tables[name].primary_key.columns]
    engine.dispose()
