"""What people see of retention: ``herald prune``, a message whose source is gone (API and
console), and the retention settings on the console's overview."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from herald_service.api.app import create_app
from herald_service.storage.models import Event, Message
from herald_service.storage.types import utcnow
from support import retention as rows
from support.console import add_user, sign_in
from support.harness import Herald
from support.processes import HERALD, child_env, herald_json


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_RETENTION_EVENTS": "10d", "HERALD_RETENTION_CAPTURED": "0"}


async def test_herald_prune_reports_each_kind_and_dry_run_changes_nothing(
    herald: Herald, settings_env: dict[str, str]
) -> None:
    tenant = await herald.create_tenant()
    now = utcnow()
    for age in (timedelta(days=40), timedelta(days=20), timedelta(days=1)):
        rows.message(herald.engine, tenant.account_id, tenant.domain_id, now - age)
    rows.captured(herald.engine, now - timedelta(days=400))

    dry = herald_json(settings_env, "prune", "--dry-run")
    assert dry["dry_run"] is True
    assert rows.count(herald.engine, Event) == 3
    report = herald_json(settings_env, "prune")
    expected = {"bodies": 1, "events": 2, "attempts": 0}
    assert {kind: report["pruned"][kind] for kind in expected} == expected
    assert report["pruned"]["captured"] == 0  # HERALD_RETENTION_CAPTURED=0: kept forever
    assert dry["pruned"] == report["pruned"] and report["total"] == 3
    assert report["kept_for"]["events"] == "10d" and report["kept_for"]["captured"] == "forever"
    assert rows.count(herald.engine, Event) == 1

    table = subprocess.run(
        [*HERALD, "prune", "--dry-run"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert table[0].split() == ["kind", "would", "prune", "kept", "for"]
    assert table[1].split() == ["message", "sources", "0", "30d"]
    assert table[2].split() == ["events", "0", "10d"]
    assert table[-1].split()[:2] == ["total", "0"]


@pytest.fixture
async def client(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        with herald.serving(c):
            yield c


async def test_a_pruned_source_is_gone_and_the_message_still_shows(
    herald: Herald,
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    accepted = utcnow() - timedelta(days=31)
    message_id = rows.message(herald.engine, tenant.account_id, tenant.domain_id, accepted)
    kept = await client.get(f"/v1/messages/{message_id}/raw", headers=tenant.headers)
    assert kept.status_code == 200 and kept.content == rows.RAW
    with Session(herald.engine) as session, session.begin():
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(raw=b"", body_pruned_at=accepted + timedelta(days=30, hours=1))
        )

    gone = await client.get(f"/v1/messages/{message_id}/raw", headers=tenant.headers)
    assert gone.status_code == 410, gone.text
    problem: dict[str, Any] = gone.json()
    assert problem["title"] == "Source pruned" and problem["type"] == "/problems#source-pruned"
    assert problem["detail"].startswith(f"message {message_id}: the source was pruned on ")
    assert problem["detail"].endswith(", 30 days after it was accepted")
    shown = await client.get(f"/v1/messages/{message_id}", headers=tenant.headers)
    assert shown.status_code == 200 and shown.json()["status"] == "delivered"

    await add_user(herald.settings.database_url, "ops@example.com", "viewer", tenant.account_id)
    assert (await sign_in(client, "ops@example.com")).status_code == 303
    page = await client.get(f"/console/messages/{message_id}")
    assert page.status_code == 200, page.text
    assert 'id="source-pruned"' in page.text and "30 days after it was accepted" in page.text
    assert 'id="raw-source"' not in page.text and "<iframe" not in page.text
    overview = await client.get(f"/console/overview?account={tenant.account_id}")
    assert overview.status_code == 200, overview.text
    retention = overview.text.split('id="retention"')[1]
    assert "The workers prune every 5m, 500 rows per transaction" in retention
    assert (
        '<th scope="row">events</th><td data-label="Kept for">10d</td>'
        '<td data-label="Setting"><code>HERALD_RETENTION_EVENTS</code></td>'
    ) in retention
    assert '<th scope="row">captured messages</th><td data-label="Kept for">forever</td>' in (
        retention
    )
