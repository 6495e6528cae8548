"""Traffic shaping against real Redis and SMTP servers on loopback: a destination's rate
rule spreads its mail while other destinations go at full speed, and a destination that
says "slow down" (421 4.7.28) has its rate halved, is announced, and still gets its mail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_queue.delivery import deliver_messages
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.processes import herald_json
from support.webhooks import WebhookReceiver, drain_webhooks

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SHAPING = """
[adaptive]
max_wait = "25s"

[destinations.slow]
domains = ["slow.example"]
per_minute = 120

[destinations.trickle]
mx_suffixes = ["mx.trickle.example"]
per_minute = 1
"""
RATE_LIMITED = (421, "4.7.28 Our system has detected an unusual rate of unsolicited mail")


@pytest.fixture
def settings_env(settings_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    shaping = tmp_path / "shaping.toml"
    shaping.write_text(SHAPING)
    return {
        **settings_env,
        "HERALD_SHAPING_FILE": str(shaping),
        "HERALD_RETRY_SCHEDULE": "1s",
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


async def test_a_rate_rule_spreads_one_destination_while_others_go_at_full_speed(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("slow.example", (10, "mx.slow.example", "127.0.0.2"))
    herald.add_mx("fast.example", (10, "mx.fast.example", "127.0.0.3"))
    slow = smtp_server_factory("127.0.0.2")
    fast = smtp_server_factory("127.0.0.3")
    for i in range(40):
        await send(api, tenant, f"user{i}@slow.example")
        await send(api, tenant, f"user{i}@fast.example")
    ids = herald.queued_message_ids()
    herald.empty_queue()
    assert len(ids) == 80

    started = time.time()
    await deliver_messages(herald.runtime, ids)  # all 80 deliveries at once

    slow_times = sorted(m.received_at for m in slow.wait_for(40, timeout=1))
    fast_times = sorted(m.received_at for m in fast.wait_for(40, timeout=1))
    assert len(slow_times) == len(fast_times) == 40
    # 120 a minute is one every half second: 40 take 19.5 s from the first to the last.
    assert slow_times[-1] - slow_times[0] >= 19.0
    assert fast_times[-1] - started < 5.0  # not held up by the slow destination
    assert fast_times[-1] < slow_times[10]


async def test_a_slow_down_reply_halves_the_rate_and_the_mail_still_arrives(
    settings_env: dict[str, str],
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("busy.example", (10, "mx.busy.example", "127.0.0.4"))
    busy = smtp_server_factory("127.0.0.4").defer("rcpt", RATE_LIMITED)
    hook = await api.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": receiver.url(), "event_types": ["destination.throttled"]},
    )
    assert hook.status_code == 201, hook.text
    shaper = herald.runtime.shaper
    assert shaper is not None
    assert shaper.budget("busy.example", ["mx.busy.example"]) is None  # no rule: unlimited

    ids = [await send(api, tenant, f"user{i}@busy.example") for i in range(5)]
    herald.empty_queue()
    await deliver_messages(herald.runtime, ids)
    for message_id in ids:
        assert set((await herald.recipients(message_id)).values()) == {"deferred"}

    budget = shaper.budget("busy.example", ["mx.busy.example"])
    assert budget is not None
    assert (budget.factor, [(w.limit, w.period) for w in budget.windows]) == (0.5, [(300, 60.0)])

    assert await drain_webhooks(herald) == 1  # five 421s, one halving
    event = json.loads(receiver.requests[0].body)
    assert event["type"] == "destination.throttled"
    details = event["data"]["details"]
    assert (details["destination"], details["per_minute"], details["factor"]) == (
        "busy.example",
        300,
        0.5,
    )
    assert details["reply"].startswith("421 4.7.28")

    # The queue per destination shows the halved rate and the last reply (API and CLI).
    viewer = await herald.create_tenant("viewer.example", scopes=("send", "read"))
    refused = await api.get("/v1/queue/destinations", headers=viewer.headers)
    assert refused.status_code == 403  # admin scope
    listed = await api.get("/v1/queue/destinations", headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["data"]
    assert (row["domain"], row["destination"], row["deferred"], row["queued"]) == (
        "busy.example",
        "busy.example",
        5,
        0,
    )
    assert (row["per_minute"], row["halved"], row["rate_factor"], row["rule"]) == (
        300,
        True,
        0.5,
        None,
    )
    assert row["halved_until"] is not None and row["suspended_until"] is None
    assert row["last_reply"]["code"] == 421
    assert row["last_reply"]["mx"] == "mx.busy.example"
    shown = herald_json(settings_env, "queue", "destinations")["data"]
    assert [(r["domain"], r["per_minute"], r["halved"]) for r in shown] == [
        ("busy.example", 300, True)
    ]

    busy.accept()
    for i, message_id in enumerate(ids):
        assert await herald.settle(message_id) == {f"user{i}@busy.example": "delivered"}
    assert sorted(r for m in busy.messages for r in m.rcpt_tos) == sorted(
        f"user{i}@busy.example" for i in range(5)
    )


async def test_a_batch_that_would_wait_too_long_is_deferred_with_the_reason(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("customer.example", (10, "in1.mx.trickle.example", "127.0.0.5"))
    mx = smtp_server_factory("127.0.0.5")
    first = await send(api, tenant, "ann@customer.example")
    second = await send(api, tenant, "bob@customer.example")
    herald.empty_queue()
    await deliver_messages(herald.runtime, [first])
    await deliver_messages(herald.runtime, [second])  # one a minute: the next in 60 s
    assert await herald.recipients(first) == {"ann@customer.example": "delivered"}
    assert await herald.recipients(second) == {"bob@customer.example": "deferred"}
    assert [m.rcpt_tos for m in mx.messages] == [["ann@customer.example"]]
    message = (await api.get(f"/v1/messages/{second}", headers=tenant.headers)).json()
    attempt = message["recipients"][0]["attempts"][-1]
    assert attempt["response"].startswith("shaping: trickle budget of 1/min used; next try in"), (
        attempt
    )
    listed = (await api.get("/v1/queue/destinations", headers=tenant.headers)).json()["data"]
    assert [(r["domain"], r["destination"], r["deferred"], r["per_minute"]) for r in listed] == [
        ("customer.example", "trickle", 1, 1)
    ]
    assert herald.sweep() == 0  # not due before the budget frees (about a minute)
