"""Scheduled send and cancel on SQLite and PostgreSQL: ``send_at`` is checked, a scheduled
message is stored signed and dated ``send_at`` but never queued before its time, the sweep
queues it then, and a cancel ends its recipients ``canceled`` with their events and
webhooks; a message already started is a 409, another account's a 404."""

from __future__ import annotations

import email
import subprocess
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select

from herald_queue.sweeper import sweep_once
from herald_service.delivery_queue import DeliveryQueue
from herald_service.storage.database import session_factory
from herald_service.storage.models import WebhookDelivery
from herald_service.storage.types import utcnow
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.processes import HERALD, child_env, herald_json

SENDER = "app@sender.example"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}


def body(**extra: Any) -> dict[str, Any]:
    return {"from": SENDER, "to": ["ann@receiver.example"], "subject": "Hi", "text": "Hello"} | (
        extra
    )


def rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def sweep_at(herald: Herald, now: datetime) -> int:
    """One sweep round as the workers run it, at ``now``."""
    queue = DeliveryQueue(herald.queue.connection, herald.settings.queue_name)
    return sweep_once(session_factory(herald.engine), queue, now)


async def schedule(
    api: AsyncTestClient[Any], tenant: Tenant, send_at: datetime, **extra: Any
) -> dict[str, Any]:
    response = await api.post(
        "/v1/messages", headers=tenant.headers, json=body(send_at=rfc3339(send_at), **extra)
    )
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def test_send_at_is_refused_naive_past_too_far_or_with_sandbox(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    now = datetime.now(UTC)
    cases = {
        "2030-01-01T09:00:00": (422, "timezone"),
        rfc3339(now - timedelta(minutes=1)): (422, "is in the past"),
        rfc3339(now + timedelta(hours=73)): (422, "more than 72 h ahead"),
        "tomorrow at nine": (400, "RFC3339"),
    }
    for send_at, (status, reason) in cases.items():
        response = await api.post(
            "/v1/messages", headers=tenant.headers, json=body(send_at=send_at)
        )
        assert response.status_code == status, (send_at, response.text)
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == ["send_at"], errors
        assert reason in errors[0]["message"], errors
    sandboxed = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json=body(send_at=rfc3339(now + timedelta(hours=1)), sandbox=True),
    )
    assert sandboxed.status_code == 422
    assert sandboxed.json()["errors"][0]["field"] == "send_at"
    assert herald.queued_message_ids() == []


async def test_a_scheduled_message_waits_signed_and_goes_at_its_time(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    send_at = (utcnow() + timedelta(hours=2)).replace(microsecond=0)

    accepted = await schedule(api, tenant, send_at)
    assert accepted["status"] == "scheduled"
    assert accepted["recipients"] == [{"email": "ann@receiver.example", "status": "scheduled"}]
    assert herald.queued_message_ids() == []

    message = (await api.get(f"/v1/messages/{accepted['id']}", headers=tenant.headers)).json()
    assert message["status"] == "scheduled"
    assert datetime.fromisoformat(message["send_at"]) == send_at
    assert message["events"][0]["data"]["send_at"] == send_at.isoformat()
    listed = await api.get("/v1/messages?status=scheduled", headers=tenant.headers)
    assert [m["id"] for m in listed.json()["data"]] == [accepted["id"]]
    raw = (await api.get(f"/v1/messages/{accepted['id']}/raw", headers=tenant.headers)).content
    parsed = email.message_from_bytes(raw)
    assert parsed["DKIM-Signature"] is not None
    assert parsedate_to_datetime(parsed["Date"]) == send_at

    # Before its time no sweep touches it; at its time one does, once.
    assert sweep_at(herald, utcnow()) == 0
    assert sweep_at(herald, send_at - timedelta(seconds=1)) == 0
    assert await herald.recipients(accepted["id"]) == {"ann@receiver.example": "scheduled"}
    assert sweep_at(herald, send_at) == 1
    assert sweep_at(herald, send_at) == 0
    assert herald.queued_message_ids() == [accepted["id"]]
    await herald.drain_queue()
    assert await herald.recipients(accepted["id"]) == {"ann@receiver.example": "delivered"}
    assert [m.rcpt_tos for m in mx.messages] == [["ann@receiver.example"]]


async def test_a_suppressed_recipient_of_a_scheduled_message_is_dropped_at_once(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    suppressed = await api.post(
        "/v1/suppressions",
        headers=tenant.headers,
        json={"email": "gone@receiver.example", "reason": "complaint"},
    )
    assert suppressed.status_code == 201, suppressed.text
    send_at = utcnow() + timedelta(hours=1)
    accepted = await schedule(api, tenant, send_at, cc=["gone@receiver.example"])
    assert accepted["status"] == "scheduled"
    assert accepted["recipients"] == [
        {"email": "ann@receiver.example", "status": "scheduled"},
        {"email": "gone@receiver.example", "status": "suppressed"},
    ]
    assert sweep_at(herald, send_at) == 1
    assert await herald.recipients(accepted["id"]) == {
        "ann@receiver.example": "queued",
        "gone@receiver.example": "suppressed",
    }


async def test_cancel_writes_the_event_and_webhooks_and_refuses_what_started(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    other = await herald.create_tenant("other.example")
    reader = await herald.create_tenant("reader.example", scopes=("read",))
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    hook = await api.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["message.canceled"]},
    )
    assert hook.status_code == 201, hook.text
    send_at = utcnow() + timedelta(hours=1)
    accepted = await schedule(api, tenant, send_at, cc=["cc@receiver.example"])
    path = f"/v1/messages/{accepted['id']}/cancel"

    assert (await api.post(path, headers=other.headers)).status_code == 404
    assert (await api.post("/v1/messages/msg_nope/cancel", headers=tenant.headers)).status_code == (
        404
    )
    assert (await api.post(path, headers=reader.headers)).status_code == 403

    canceled = await api.post(path, headers=tenant.headers)
    assert canceled.status_code == 200, canceled.text
    message = canceled.json()
    assert message["status"] == "canceled"
    assert {r["status"] for r in message["recipients"]} == {"canceled"}
    events = [(e["type"], e["recipient"]) for e in message["events"]]
    assert ("message.canceled", "ann@receiver.example") in events
    assert ("message.canceled", "cc@receiver.example") in events
    async with herald.runtime.sessions() as session:
        deliveries = (
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == hook.json()["id"])
            )
        ).all()
    assert len(deliveries) == 2

    again = await api.post(path, headers=tenant.headers)
    assert again.status_code == 409
    assert "already canceled" in again.json()["detail"]
    # Its time comes: nothing is queued, nothing is sent.
    assert sweep_at(herald, send_at + timedelta(seconds=1)) == 0
    assert await herald.drain_queue() == 0

    # A message sent at once, canceled before a worker took it: never delivered.
    fresh = await api.post("/v1/messages", headers=tenant.headers, json=body())
    fresh_id = fresh.json()["id"]
    assert (await api.post(f"/v1/messages/{fresh_id}/cancel", headers=tenant.headers)).json()[
        "status"
    ] == "canceled"
    await herald.drain_queue()
    assert await herald.recipients(fresh_id) == {"ann@receiver.example": "canceled"}

    # A delivered message: 409 saying it has started.
    sent = await api.post("/v1/messages", headers=tenant.headers, json=body())
    assert await herald.settle(sent.json()["id"]) == {"ann@receiver.example": "delivered"}
    late = await api.post(f"/v1/messages/{sent.json()['id']}/cancel", headers=tenant.headers)
    assert late.status_code == 409
    assert "already started (it is delivered)" in late.json()["detail"]
    assert len(mx.messages) == 1


async def test_cli_lists_and_cancels_scheduled_messages(
    herald: Herald, api: AsyncTestClient[Any], settings_env: dict[str, str]
) -> None:
    tenant = await herald.create_tenant()
    other = await herald.create_tenant("other.example")
    later = await schedule(api, tenant, utcnow() + timedelta(hours=3))
    sooner = await schedule(api, tenant, utcnow() + timedelta(hours=1))
    others = await api.post(
        "/v1/messages",
        headers=other.headers,
        json=body(send_at=rfc3339(utcnow() + timedelta(hours=2))) | {"from": "a@other.example"},
    )
    assert others.status_code == 202, others.text

    listed = herald_json(settings_env, "messages", "scheduled", "--account", tenant.account_id)
    assert [m["id"] for m in listed["data"]] == [sooner["id"], later["id"]]
    assert (
        herald_json(settings_env, "messages", "scheduled", "--account", other.account_id)["data"][
            0
        ]["id"]
        == others.json()["id"]
    )

    canceled = herald_json(settings_env, "messages", "cancel", sooner["id"])
    assert canceled["recipients"] == ["ann@receiver.example"]
    assert await herald.recipients(sooner["id"]) == {"ann@receiver.example": "canceled"}
    again = subprocess.run(
        [*HERALD, "messages", "cancel", sooner["id"]],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1
    assert "already canceled" in again.stderr


def test_the_sweep_reads_each_status_through_the_due_index(herald: Herald) -> None:
    """A million scheduled rows due later must cost the sweep nothing: each of its reads
    is a range of ``ix_recipients_due``, never a sort (docs/performance-notes.md measures it)."""
    reads: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "recipients" in statement:
            reads.append((statement, parameters))

    event.listen(herald.engine, "before_cursor_execute", note)
    try:
        assert sweep_at(herald, utcnow()) == 0
    finally:
        event.remove(herald.engine, "before_cursor_execute", note)
    assert len(reads) == 3  # queued, deferred, scheduled
    explain = "EXPLAIN QUERY PLAN " if herald.engine.dialect.name == "sqlite" else "EXPLAIN "
    with herald.engine.connect() as db:
        for statement, parameters in reads:
            rows = db.exec_driver_sql(explain + statement, parameters).all()
            plan = " ".join(str(row[-1]) for row in rows)
            assert "ix_recipients_due" in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
