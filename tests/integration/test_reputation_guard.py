"""The reputation guard end to end: real deliveries to a rejecting MX and a real feedback
loop report pause a domain; its sends are refused, its queued mail held, a webhook told;
resuming releases the held mail to delivery."""

from __future__ import annotations

import asyncio
import json
import smtplib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_queue.inbound import start_inbound_server
from simnet.fixtures import SMTPServerFactory
from support.feedback import ARF
from support.harness import Herald, Tenant
from support.processes import free_port, herald_json
from support.webhooks import WebhookReceiver, drain_webhooks


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """A minimum volume of 10 recipients (200 by default) and loopback webhooks."""
    return {
        **settings_env,
        "HERALD_REPUTATION_MIN_VOLUME": "10",
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_RETRY_SCHEDULE": "0s,0s,0s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def post_message(api: AsyncTestClient[Any], tenant: Tenant, to: str, **fields: object) -> Any:
    return await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": f"app@{tenant.domain}", "to": [to], "subject": "Hi", "text": "Hello"}
        | fields,
    )


async def send(api: AsyncTestClient[Any], tenant: Tenant, to: str, **fields: object) -> str:
    response = await post_message(api, tenant, to, **fields)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def domain_status(api: AsyncTestClient[Any], tenant: Tenant) -> dict[str, Any]:
    response = await api.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliver_ten(herald: Herald, api: AsyncTestClient[Any], tenant: Tenant) -> None:
    for i in range(10):
        message_id = await send(api, tenant, f"ok{i}@receiver.example")
        assert await herald.settle(message_id) == {f"ok{i}@receiver.example": "delivered"}


async def refused_within(
    api: AsyncTestClient[Any], tenant: Tenant, seconds: float
) -> tuple[Any, list[str]]:
    """Send until refused (a running API process sees a pause within 5 s); the refusal
    and the ids accepted before it."""
    accepted: list[str] = []
    deadline = time.monotonic() + seconds
    while True:
        response = await post_message(api, tenant, "late@receiver.example")
        if response.status_code != 202 or time.monotonic() > deadline:
            return response, accepted
        accepted.append(str(response.json()["id"]))
        await asyncio.sleep(0.5)


async def test_bounces_pause_the_domain_hold_its_mail_and_resume_releases_it(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    herald.add_mx("rejecting.example", (10, "mx.rejecting.example", "127.0.0.3"))
    mx = smtp_server_factory("127.0.0.2")
    smtp_server_factory("127.0.0.3").reject("rcpt")
    hook = await api.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": receiver.url(), "event_types": ["domain.paused", "domain.resumed"]},
    )
    assert hook.status_code == 201, hook.text
    await deliver_ten(herald, api, tenant)
    # Accepted before the pause, due after it: it must be held, not sent, not lost.
    send_at = datetime.now(UTC) + timedelta(seconds=2)
    held_id = await send(api, tenant, "held@receiver.example", send_at=send_at.isoformat())

    # One hard bounce after ten deliveries: 1 of 11 is 9 %, above the 5 % pause threshold.
    message_id = await send(api, tenant, "gone@rejecting.example")
    assert await herald.settle(message_id) == {"gone@rejecting.example": "bounced"}

    stats = await api.get("/v1/stats", headers=tenant.headers, params={"group_by": "domain"})
    counts = stats.json()["groups"][0]["counts"]
    assert (counts["delivered"], counts["bounced_hard"]) == (10, 1)
    domain = await domain_status(api, tenant)
    assert domain["status"] == "paused"
    assert "bounce rate 9.09 % over the last 24h (1 of 11)" in domain["pause_reason"]
    assert "pause threshold of 5 %" in domain["pause_reason"]

    refusal, accepted_meanwhile = await refused_within(api, tenant, 6.0)
    assert refusal.status_code == 403, refusal.text
    problem = refusal.json()
    assert problem["type"].endswith("/problems#domain-paused")
    assert problem["title"] == "Domain paused"
    assert "bounce rate" in problem["detail"] and "/resume" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["from"]

    while datetime.now(UTC) < send_at:
        await asyncio.sleep(0.1)
    herald.sweep()
    await herald.drain_queue()
    for message_id in [held_id, *accepted_meanwhile]:
        assert set((await herald.recipients(message_id)).values()) == {"held"}
    assert not [m for m in mx.messages if "held@receiver.example" in m.rcpt_tos]

    assert await drain_webhooks(herald) == 1
    paused = json.loads(receiver.requests[0].body)
    assert paused["type"] == "domain.paused"
    assert paused["data"]["domain"] == tenant.domain
    assert paused["data"]["actor"] == "reputation guard"
    assert paused["data"]["details"]["thresholds"]["bounce_pause"] == 0.05

    reputation = await api.get(f"/v1/domains/{tenant.domain_id}/reputation", headers=tenant.headers)
    assert reputation.status_code == 200, reputation.text
    report = reputation.json()
    assert (report["status"], report["level"]) == ("paused", "pause")
    day = {w["window"]: w for w in report["windows"]}["24h"]
    assert (day["delivered"], day["bounced_hard"], day["volume"]) == (10, 1, 11)
    assert [e["type"] for e in report["events"]] == ["domain.paused"]

    resumed = await api.post(f"/v1/domains/{tenant.domain_id}/resume", headers=tenant.headers)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "verified"
    assert resumed.json()["released"] == 1 + len(accepted_meanwhile)
    again = await api.post(f"/v1/domains/{tenant.domain_id}/resume", headers=tenant.headers)
    assert again.status_code == 409
    assert await herald.settle(held_id) == {"held@receiver.example": "delivered"}
    assert [m for m in mx.messages if "held@receiver.example" in m.rcpt_tos]
    assert (await post_message(api, tenant, "after@receiver.example")).status_code == 202

    assert await drain_webhooks(herald) == 1
    resumed_event = json.loads(receiver.requests[1].body)
    assert resumed_event["type"] == "domain.resumed"
    assert resumed_event["data"]["actor"] == f"api key {tenant.key_id}"
    history = (
        await api.get(f"/v1/domains/{tenant.domain_id}/reputation", headers=tenant.headers)
    ).json()
    assert [e["type"] for e in history["events"]] == ["domain.resumed", "domain.paused"]
    # Judged on what happened since the resume: the old bounces do not pause it again.
    assert history["level"] == "ok"
    assert {w["window"] for w in history["windows"]} == {"since resume"}


async def test_a_burst_of_complaints_through_the_feedback_loop_pauses_the_domain(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    settings_env: dict[str, str],
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    await deliver_ten(herald, api, tenant)
    assert (await domain_status(api, tenant))["status"] == "verified"
    port = free_port()
    controller = start_inbound_server(herald.settings, "127.0.0.1", port)
    try:
        host = "127.0.0.1"
        verp = mx.messages[0].mail_from
        with smtplib.SMTP(host, port, timeout=10) as client:
            report = ARF.format(verp=verp, rcpt=mx.messages[0].rcpt_tos[0])
            client.sendmail("", [verp], report.encode())
    finally:
        controller.stop()
    domain = await domain_status(api, tenant)
    assert domain["status"] == "paused"
    assert domain["pause_reason"].startswith("complaint rate 10 % over the last 24h (1 of 10)")

    account = ("--account", tenant.account_id, tenant.domain_id)
    shown = herald_json(settings_env, "domains", "reputation", *account)
    assert (shown["status"], shown["level"]) == ("paused", "pause")
    assert [e["type"] for e in shown["events"]] == ["domain.paused"]
    resumed = herald_json(settings_env, "domains", "resume", *account)
    assert (resumed["status"], resumed["released"]) == ("verified", 0)
    after = herald_json(settings_env, "domains", "reputation", *account)
    assert [e["actor"].split(" (")[0] for e in after["events"]] == [
        "command line",
        "reputation guard",
    ]


async def test_resume_needs_the_admin_scope_and_a_paused_domain_of_ones_own(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    reader = await herald.create_tenant("reader.example", scopes=("read",))
    url = f"/v1/domains/{tenant.domain_id}/resume"
    assert (await api.post(url, headers=tenant.headers)).status_code == 409
    assert (await api.post(url, headers=reader.headers)).status_code in (403, 404)
    other = f"/v1/domains/{tenant.domain_id}/reputation"
    assert (await api.get(other, headers=reader.headers)).status_code == 404
    report = (await api.get(other, headers=tenant.headers)).json()
    assert (report["status"], report["level"], report["events"]) == ("verified", "ok", [])
    assert report["thresholds"]["min_volume"] == 10
