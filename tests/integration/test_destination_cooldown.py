"""A burst of policy blocks from one destination cools that destination down for the
sending domain: its further mail there waits (deferred, with the reason) instead of
deepening the block, other destinations go on, and a webhook is told."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.webhooks import WebhookReceiver, drain_webhooks

SPAM_BLOCK = (550, "5.7.1 Message rejected as spam by the content filter")


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "HERALD_REPUTATION_BLOCK_BURST": "3",
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def send(api: AsyncTestClient[Any], tenant: Tenant, to: str) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": f"app@{tenant.domain}", "to": [to], "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_a_burst_of_spam_blocks_holds_mail_to_that_destination_only(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("strict.example", (10, "mx.strict.example", "127.0.0.4"))
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    strict = smtp_server_factory("127.0.0.4").reject("rcpt", SPAM_BLOCK)
    smtp_server_factory("127.0.0.2")
    hook = await api.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": receiver.url(), "event_types": ["domain.destination_paused"]},
    )
    assert hook.status_code == 201, hook.text

    for i in range(3):
        blocked = await send(api, tenant, f"user{i}@strict.example")
        assert await herald.settle(blocked) == {f"user{i}@strict.example": "bounced"}
    connections_before = strict.connections

    waiting = await send(api, tenant, "user9@strict.example")
    herald.sweep()
    await herald.drain_queue()
    assert await herald.recipients(waiting) == {"user9@strict.example": "deferred"}
    assert strict.connections == connections_before  # not tried at all
    message = (await api.get(f"/v1/messages/{waiting}", headers=tenant.headers)).json()
    attempt = message["recipients"][0]["attempts"][-1]
    assert attempt["response"].startswith("held: strict.example refused mail from")
    assert attempt["mx"] == ""

    elsewhere = await send(api, tenant, "friend@receiver.example")
    assert await herald.settle(elsewhere) == {"friend@receiver.example": "delivered"}

    assert await drain_webhooks(herald) == 1
    event = json.loads(receiver.requests[0].body)
    assert event["type"] == "domain.destination_paused"
    details = event["data"]["details"]
    assert (details["destination"], details["blocks"]) == ("strict.example", 3)
    assert "spam" in details["last_reply"]
    report = (
        await api.get(f"/v1/domains/{tenant.domain_id}/reputation", headers=tenant.headers)
    ).json()
    assert [e["type"] for e in report["events"]] == ["domain.destination_paused"]
    assert report["status"] == "verified"  # the domain itself sends on


async def test_ordinary_unknown_user_bounces_start_no_cooldown(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("strict.example", (10, "mx.strict.example", "127.0.0.4"))
    smtp_server_factory("127.0.0.4").reject("rcpt")  # 550 5.1.1 User unknown
    for i in range(4):
        gone = await send(api, tenant, f"gone{i}@strict.example")
        assert await herald.settle(gone) == {f"gone{i}@strict.example": "bounced"}
    report = (
        await api.get(f"/v1/domains/{tenant.domain_id}/reputation", headers=tenant.headers)
    ).json()
    assert report["events"] == []
