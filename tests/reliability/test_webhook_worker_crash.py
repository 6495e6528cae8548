"""A webhook worker killed (-9) mid-delivery loses no event: each event id arrives (2xx)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook

from support.harness import Herald
from support.processes import start, stop
from support.webhooks import Answer, WebhookReceiver


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_LEASE": "3s",
        "HERALD_WEBHOOK_TIMEOUT": "2s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def test_killed_webhook_worker_loses_no_event(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    settings_env: dict[str, str],
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    created = await api.post("/v1/webhooks", headers=tenant.headers, json={"url": receiver.url()})
    hook = created.json()
    receiver.answers = [Answer(200, delay=30)]  # the first request hangs: kill the worker then
    event_ids = []
    for _ in range(3):
        test = await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
        event_ids.append(test.json()["event_id"])

    worker = start(settings_env, "webhooks-worker")
    try:
        await asyncio.to_thread(receiver.wait_for, 1)
        worker.kill()
        worker.wait(10)
        hung = receiver.requests[0].headers["webhook-id"]
        worker = start(settings_env, "webhooks-worker")
        await asyncio.to_thread(receiver.wait_for, 4, 30)
    finally:
        stop(worker)

    received = [r.headers["webhook-id"] for r in receiver.requests]
    assert set(received) == set(event_ids)
    assert received.count(hung) == 2, "the request in flight at the crash is sent again"
    for request in receiver.requests:
        Webhook(hook["secret"]).verify(request.body, request.headers)
    for _ in range(50):
        listed = (
            await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
        ).json()["data"]
        if all(d["status"] == "succeeded" for d in listed):
            break
        await asyncio.sleep(0.1)
    assert sorted(d["event_id"] for d in listed) == sorted(event_ids)
    assert all(d["status"] == "succeeded" for d in listed)
