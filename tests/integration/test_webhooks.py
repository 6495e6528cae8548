"""Webhooks end to end: real deliveries → signed POSTs to a loopback receiver, retries, 410."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook

from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.webhooks import Answer, WebhookReceiver, drain_webhooks


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Loopback receivers allowed; retries due at once so tests need no clock."""
    return {
        **settings_env,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_RETRY_SCHEDULE": "0s,0s,0s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def create_webhook(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    url: str,
    **fields: object,
) -> dict[str, object]:
    response = await api.post("/v1/webhooks", headers=tenant.headers, json={"url": url, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def send(api: AsyncTestClient, tenant: Tenant, to: list[str]) -> str:  # type: ignore[type-arg]
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": f"app@{tenant.domain}",
            "to": to,
            "subject": "Hello",
            "text": "Hi.",
            "tags": ["welcome"],
            "metadata": {"user": "42"},
        },
    )
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


async def test_delivered_and_bounced_events_arrive_signed(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("good.example", (10, "mx.good.example", "127.0.0.2"))
    herald.add_mx("bad.example", (10, "mx.bad.example", "127.0.0.3"))
    smtp_server_factory("127.0.0.2")
    smtp_server_factory("127.0.0.3", replies={"rcpt": (550, "5.1.1 User unknown")})
    hook = await create_webhook(
        api,
        tenant,
        receiver.url(),
        event_types=["message.delivered", "message.bounced"],
        description="tracking",
    )
    secret = str(hook["secret"])
    assert secret.startswith("whsec_")

    message_id = await send(api, tenant, ["ann@good.example", "bob@bad.example"])
    assert await herald.drain_queue() == 1
    assert await drain_webhooks(herald) == 2

    events = {}
    for request in receiver.requests:
        payload = Webhook(secret).verify(request.body, request.headers)
        assert request.headers["webhook-id"] == payload["data"]["id"]
        assert request.headers["content-type"] == "application/json"
        events[payload["type"]] = payload
    assert set(events) == {"message.delivered", "message.bounced"}
    delivered = events["message.delivered"]["data"]
    assert delivered["message_id"] == message_id
    assert delivered["recipient"] == "ann@good.example"
    assert delivered["tags"] == ["welcome"]
    assert delivered["metadata"] == {"user": "42"}
    assert delivered["details"]["mx"] == "mx.good.example"
    bounced = events["message.bounced"]["data"]
    assert bounced["recipient"] == "bob@bad.example"
    assert bounced["details"]["code"] == 550
    assert bounced["details"]["enhanced_code"] == "5.1.1"

    listed = await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    assert listed.status_code == 200
    deliveries = listed.json()["data"]
    assert sorted(d["event_type"] for d in deliveries) == ["message.bounced", "message.delivered"]
    for delivery in deliveries:
        assert delivery["status"] == "succeeded"
        (attempt,) = delivery["attempts"]
        assert attempt["status_code"] == 200
        assert attempt["address"] == "127.0.0.1"


async def test_failing_receiver_gets_the_event_on_the_third_attempt(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    hook = await create_webhook(api, tenant, receiver.url())
    receiver.answers = [Answer(500), Answer(500)]

    test = await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert test.status_code == 202, test.text
    assert await drain_webhooks(herald, rounds=5) == 3

    assert len(receiver.requests) == 3
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1, "every retry carries the same webhook-id"
    for request in receiver.requests:
        Webhook(str(hook["secret"])).verify(request.body, request.headers)
    listed = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)).json()
    (delivery,) = listed["data"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempt_count"] == 3
    endpoint = (await api.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert endpoint["enabled"] is True
    assert endpoint["failing_since"] is None


async def test_gone_disables_the_endpoint(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    hook = await create_webhook(api, tenant, receiver.url())
    receiver.default = Answer(410)

    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald, rounds=3) == 1

    endpoint = (await api.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert endpoint["enabled"] is False
    assert "410" in endpoint["disabled_reason"]
    # A disabled endpoint gets no new events.
    await send(api, tenant, ["ann@good.example"])
    assert await drain_webhooks(herald) == 0
    assert len(receiver.requests) == 1
    test = await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert test.status_code == 409

    enabled = await api.patch(
        f"/v1/webhooks/{hook['id']}", headers=tenant.headers, json={"enabled": True}
    )
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] == ""


async def test_redirect_is_a_failure_and_not_followed(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    hook = await create_webhook(api, tenant, receiver.url("/hooks"))
    receiver.answers = [Answer(302, {"location": receiver.url("/elsewhere")})]

    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald) == 1

    assert [r.path for r in receiver.requests] == ["/hooks"]
    (delivery,) = (
        await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    assert delivery["status"] == "pending"
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 302
    assert "not followed" in attempt["error"]


async def test_retry_after_is_honoured_and_exhausted_deliveries_replay(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    hook = await create_webhook(api, tenant, receiver.url())
    receiver.answers = [Answer(429, {"retry-after": "120"})]

    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    before = datetime.now(UTC)
    assert await drain_webhooks(herald, rounds=2) == 1  # not due again for 120 s
    (delivery,) = (
        await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    wait = (datetime.fromisoformat(delivery["next_attempt_at"]) - before).total_seconds()
    assert 110 < wait < 130

    # Exhaust the schedule (1 try + 3 retries), then replay.
    receiver.default = Answer(500)
    async with herald.runtime.sessions.begin() as session:
        from herald_service.storage.models import WebhookDelivery

        row = await session.get(WebhookDelivery, delivery["id"])
        assert row is not None
        row.next_attempt_at = datetime.now(UTC)
    assert await drain_webhooks(herald, rounds=5) == 3
    failed = (
        await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"][0]
    assert failed["status"] == "failed"
    assert failed["attempt_count"] == 4

    receiver.default = Answer(204, body=b"")
    replay = await api.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{failed['id']}/replay", headers=tenant.headers
    )
    assert replay.status_code == 202, replay.text
    assert await drain_webhooks(herald) == 1
    done = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)).json()[
        "data"
    ][0]
    assert done["status"] == "succeeded"
    assert len(done["attempts"]) == 5
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1


async def test_rotation_signs_with_old_and_new_secret(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    hook = await create_webhook(api, tenant, receiver.url())
    rotated = await api.post(
        f"/v1/webhooks/{hook['id']}/rotate-secret", headers=tenant.headers, json={}
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"]

    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald) == 1
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (str(hook["secret"]), new_secret):
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["type"] == "webhook.test"

    # Without an overlap only the newest secret signs.
    rotated = await api.post(
        f"/v1/webhooks/{hook['id']}/rotate-secret",
        headers=tenant.headers,
        json={"overlap_seconds": 0},
    )
    newest = rotated.json()["secret"]
    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald) == 1
    last = receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(last.body, last.headers)
    assert json.loads(last.body)["type"] == "webhook.test"


async def test_endpoint_failing_for_five_days_is_disabled_with_the_reason(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    from herald_service.storage.models import WebhookEndpoint

    tenant = await herald.create_tenant("sender.example")
    hook = await create_webhook(api, tenant, receiver.url())
    receiver.default = Answer(500)
    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald) == 1
    endpoint = (await api.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert endpoint["enabled"] is True
    assert endpoint["failing_since"] is not None

    async with herald.runtime.sessions.begin() as session:
        row = await session.get(WebhookEndpoint, str(hook["id"]))
        assert row is not None
        row.failing_since = datetime.now(UTC) - timedelta(days=5, minutes=1)
    assert await drain_webhooks(herald) == 1

    endpoint = (await api.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert endpoint["enabled"] is False
    assert "failing since" in endpoint["disabled_reason"]
    assert "HTTP 500" in endpoint["disabled_reason"]
    # The pending retry is given up rather than sent to a disabled endpoint.
    assert await drain_webhooks(herald) == 1
    (delivery,) = (
        await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    assert delivery["status"] == "failed"
    assert delivery["last_error"].startswith("endpoint disabled")
    assert len(receiver.requests) == 2
