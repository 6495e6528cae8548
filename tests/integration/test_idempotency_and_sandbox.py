"""Idempotency-Key semantics and sandbox mode."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_service.storage.models import Message
from support.dkim_check import verify_all
from support.harness import Herald

BODY = {"from": "app@sender.example", "to": "user@receiver.example", "subject": "Hi", "text": "x"}


def message_count(herald: Herald) -> int:
    with herald.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Message)).scalar_one())


async def test_same_key_and_body_replays_the_original_response(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "order-42-confirmation"}
    first = await api.post("/v1/messages", json=BODY, headers=headers)
    second = await api.post("/v1/messages", json=dict(reversed(BODY.items())), headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert message_count(herald) == 1
    assert len(herald.queued_message_ids()) == 1

    changed = await api.post("/v1/messages", json={**BODY, "subject": "Other"}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert message_count(herald) == 1

    other_key = await api.post(
        "/v1/messages", json=BODY, headers={**tenant.headers, "Idempotency-Key": "another"}
    )
    assert other_key.status_code == 202
    assert other_key.json()["id"] != first.json()["id"]


async def test_keys_are_per_account(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    a = await herald.create_tenant("a.example")
    b = await herald.create_tenant("b.example")
    key = {"Idempotency-Key": "shared-key"}
    ra = await api.post(
        "/v1/messages", json={**BODY, "from": "x@a.example"}, headers={**a.headers, **key}
    )
    rb = await api.post(
        "/v1/messages", json={**BODY, "from": "x@b.example"}, headers={**b.headers, **key}
    )
    assert ra.status_code == rb.status_code == 202
    assert ra.json()["id"] != rb.json()["id"]


async def test_a_failed_request_does_not_burn_its_key(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "k1"}
    bad = await api.post("/v1/messages", json={**BODY, "to": "nope"}, headers=headers)
    assert bad.status_code == 422
    good = await api.post("/v1/messages", json=BODY, headers=headers)
    assert good.status_code == 202


async def test_twenty_concurrent_identical_requests_create_one_message(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(
        *(api.post("/v1/messages", json=BODY, headers=headers) for _ in range(20))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {202, 409}, statuses
    ids = {r.json()["id"] for r in responses if r.status_code == 202}
    assert len(ids) == 1
    assert message_count(herald) == 1
    assert len(herald.queued_message_ids()) == 1


async def test_invalid_key_is_refused(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    tenant = await herald.create_tenant("sender.example")
    response = await api.post(
        "/v1/messages", json=BODY, headers={**tenant.headers, "Idempotency-Key": "has space"}
    )
    assert response.status_code == 422
    assert message_count(herald) == 0


async def test_sandbox_signs_and_stores_but_never_delivers(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    response = await api.post(
        "/v1/messages", json={**BODY, "sandbox": True}, headers=tenant.headers
    )
    assert response.status_code == 202
    assert response.json()["status"] == "captured"
    message_id = response.json()["id"]
    assert herald.queued_message_ids() == []
    assert await herald.drain_queue() == 0

    raw = await api.get(f"/v1/messages/{message_id}/raw", headers=tenant.headers)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert verify_all(raw.content, herald.dns) == [True, True]
    assert message_from_bytes(raw.content, policy=policy.default)["Subject"] == "Hi"

    detail = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    assert detail["sandbox"] is True
    assert [r["status"] for r in detail["recipients"]] == ["captured"]
    assert detail["recipients"][0]["attempts"] == []
