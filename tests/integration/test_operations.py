"""Operational endpoints: health, readiness and metrics."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from support.harness import Herald


async def test_metrics_count_accepted_messages_and_pending_recipients(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    before = await api.get("/metrics")
    assert before.status_code == 200
    body = {"from": "a@sender.example", "to": ["x@r.example", "y@r.example"], "text": "t"}
    assert (await api.post("/v1/messages", json=body, headers=tenant.headers)).status_code == 202
    herald.flush_enqueues()  # the job is written after the 202
    text = (await api.get("/metrics")).text
    assert 'herald_recipients_pending{status="queued"} 2.0' in text
    assert f'herald_queue_jobs{{queue="{herald.settings.queue_name}"}} 1.0' in text
    assert 'herald_messages_accepted_total{sandbox="false"}' in text
    account = tenant.account_id
    assert f'herald_stats_today{{account="{account}",counter="accepted_recipients"}} 2.0' in text
    assert f'herald_stats_today{{account="{account}",counter="accepted_requests"}} 1.0' in text
    assert f'herald_stats_today{{account="{account}",counter="delivered"}} 0.0' in text


async def test_health_and_readiness(api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}
