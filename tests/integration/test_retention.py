"""Retention on SQLite and PostgreSQL: what is old goes, what is recent or still in flight
stays, what stats and suppressions need is never touched, and every batch is small."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from herald_service.retention.service import prune
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.models import (
    CapturedMessage,
    DeliveryAttempt,
    Event,
    Message,
    Recipient,
    StatsCounter,
    Suppression,
    WebhookAttempt,
    WebhookDelivery,
)
from herald_service.storage.types import utcnow
from support import retention as rows
from support.harness import Herald

NOW = utcnow().replace(microsecond=0)
OLD = rows.ago(NOW, days=100)  # past every default age
RECENT = rows.ago(NOW, hours=1)


@pytest.fixture
async def engine(herald: Herald) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(herald.settings.database_url)
    yield engine
    await engine.dispose()


async def _prune(engine: AsyncEngine, settings: Settings, **options: Any) -> Any:
    return await prune(async_session_factory(engine), settings, now=NOW, **options)


async def test_old_rows_go_and_recent_pending_stats_and_suppressions_stay(
    herald: Herald, engine: AsyncEngine
) -> None:
    tenant = await herald.create_tenant()
    db, account, domain = herald.engine, tenant.account_id, tenant.domain_id
    hook = rows.endpoint(db, account)
    old_final = rows.message(db, account, domain, OLD, ("delivered", "bounced"), endpoint_id=hook)
    old_deferred = rows.message(db, account, domain, OLD, ("delivered", "deferred"))
    old_scheduled = rows.message(db, account, domain, OLD, ("scheduled",))
    old_pending_hook = rows.message(
        db, account, domain, OLD, ("delivered",), endpoint_id=hook, webhook_status="pending"
    )
    recent = rows.message(db, account, domain, RECENT, ("delivered",), endpoint_id=hook)
    rows.captured(db, OLD)
    kept_capture = rows.captured(db, RECENT)
    rows.counters(db, account, "hour", NOW.replace(minute=0, second=0) - timedelta(hours=49))
    rows.counters(db, account, "hour", NOW.replace(minute=0, second=0) - timedelta(hours=48))
    rows.counters(db, account, "day", OLD.replace(hour=0, minute=0, second=0))
    rows.suppression(db, account, OLD)

    dry = await _prune(engine, herald.settings, dry_run=True)
    report = await _prune(engine, herald.settings)

    assert report.pruned == {
        "bodies": 2,  # old_final's and old_pending_hook's (its recipient is final)
        "events": 6,  # every old message's: two, two, one, one
        "attempts": 6,
        "webhook_deliveries": 2,  # old_final's two; old_pending_hook's is still pending
        "captured": 1,
        "hour_counters": 1,
    }
    assert dry.dry_run and dry.pruned == report.pruned
    assert report.kept_for["bodies"] == "30d" and report.kept_for["hour_counters"] == "2d"
    with Session(herald.engine) as session:
        sources = dict(session.execute(select(Message.id, Message.raw)).all())
        pruned_at = session.get(Message, old_final)
        assert pruned_at is not None and pruned_at.body_pruned_at == NOW
    assert sources[old_final] == sources[old_pending_hook] == b""
    for kept in (old_deferred, old_scheduled, recent):
        assert sources[kept] == rows.RAW, kept
    assert rows.count(db, Recipient) == 7  # metadata stays, pruned source or not
    assert rows.count(db, Event) == rows.count(db, DeliveryAttempt) == 1
    assert rows.count(db, Event, Event.message_id == recent) == 1
    pending = rows.count(db, WebhookDelivery, WebhookDelivery.status == "pending")
    assert (pending, rows.count(db, WebhookDelivery), rows.count(db, WebhookAttempt)) == (1, 2, 2)
    with Session(herald.engine) as session:
        assert session.execute(select(CapturedMessage.id)).scalars().all() == [kept_capture]
        buckets = session.execute(select(StatsCounter.granularity, StatsCounter.bucket)).all()
    assert sorted(g for g, _ in buckets) == ["day", "hour"]
    assert rows.count(db, Suppression) == 1

    again = await _prune(engine, herald.settings)
    assert again.total == 0
    # Once the last recipient is final, the source goes at the next round.
    with Session(herald.engine) as session, session.begin():
        session.query(Recipient).filter(Recipient.message_id == old_deferred).update(
            {"status": "bounced"}
        )
    assert (await _prune(engine, herald.settings)).pruned["bodies"] == 1


async def test_every_batch_is_its_own_small_transaction(
    herald: Herald, engine: AsyncEngine
) -> None:
    tenant = await herald.create_tenant()
    for _ in range(10):
        rows.message(herald.engine, tenant.account_id, tenant.domain_id, OLD)
    settings = msgspec.structs.replace(herald.settings, retention_batch_size=3)
    deletes: list[int] = []
    commits: list[int] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM EVENTS"):
            deletes.append(cursor.rowcount)

    event.listen(engine.sync_engine, "after_cursor_execute", record)
    event.listen(engine.sync_engine, "commit", lambda _conn: commits.append(1))
    report = await _prune(engine, settings)

    assert report.pruned["events"] == report.pruned["bodies"] == 10
    assert deletes and max(deletes) <= 3 and sum(deletes) == 10
    assert len(deletes) >= 4
    # Four batches of 3 each for sources, events and attempts (the fourth finds one row);
    # one finding nothing for webhook deliveries, captured mail and hour counters.
    assert len(commits) == report.batches == 4 * 3 + 3
    assert rows.count(herald.engine, Event) == 0


async def test_an_age_of_zero_keeps_that_kind_forever(herald: Herald, engine: AsyncEngine) -> None:
    tenant = await herald.create_tenant()
    message_id = rows.message(herald.engine, tenant.account_id, tenant.domain_id, OLD)
    settings = msgspec.structs.replace(herald.settings, retention_bodies=0.0, retention_events=0.0)
    report = await _prune(engine, settings)
    assert report.pruned["bodies"] == report.pruned["events"] == 0
    assert report.pruned["attempts"] == 1
    assert report.kept_for["bodies"] == "forever"
    with Session(herald.engine) as session:
        stored = session.get(Message, message_id)
        assert stored is not None and stored.raw == rows.RAW
    assert rows.count(herald.engine, Event) == 1
