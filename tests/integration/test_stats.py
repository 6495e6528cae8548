"""``GET /v1/stats``: counters kept by the event writes, read per day, hour, domain and tag."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_queue.inbound import start_inbound_server
from simnet.fixtures import SMTPServerFactory
from support.feedback import ARF
from support.harness import Herald, Tenant


async def send(api: AsyncTestClient[Any], tenant: Tenant, to: str, tags: list[str]) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": f"app@{tenant.domain}",
            "to": [to],
            "subject": "Hi",
            "text": "Hello",
            "tags": tags,
        },
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def stats(api: AsyncTestClient[Any], tenant: Tenant, **params: str) -> dict[str, Any]:
    response = await api.get("/v1/stats", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture
async def traffic(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> Tenant:
    """10 deliveries (tags welcome, half also promo) and 5 hard bounces at RCPT from a
    rejecting MX (tag promo)."""
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    herald.add_mx("rejecting.example", (10, "mx.rejecting.example", "127.0.0.3"))
    smtp_server_factory("127.0.0.2")
    smtp_server_factory("127.0.0.3").reject("rcpt")
    ids = [
        await send(api, tenant, f"ok{i}@receiver.example", ["welcome", "promo"][: 1 + i % 2])
        for i in range(10)
    ]
    ids += [await send(api, tenant, f"gone{i}@rejecting.example", ["promo"]) for i in range(5)]
    for message_id in ids:
        assert set((await herald.settle(message_id)).values()) <= {"delivered", "bounced"}
    return tenant


async def test_deliveries_and_hard_bounces_counted_per_day_and_domain(
    api: AsyncTestClient[Any], traffic: Tenant
) -> None:
    by_day = await stats(api, traffic, group_by="day")
    assert by_day["group_by"] == "day"
    assert len(by_day["groups"]) == 8  # the 7 days before now and today's, zeros included
    day = by_day["groups"][-1]
    assert day["key"] == f"{today()}T00:00:00Z"
    counts = day["counts"]
    assert counts["accepted_requests"] == 15
    assert counts["accepted_recipients"] == 15
    assert counts["delivered"] == 10
    assert counts["bounced_hard"] == 5
    assert counts["bounced_soft"] == counts["deferred"] == counts["complained"] == 0
    assert day["rates"] == {
        "delivery_rate": pytest.approx(10 / 15),
        "bounce_rate": pytest.approx(5 / 15),
        "complaint_rate": 0.0,
    }
    assert day["latency"]["deliveries"] == 10
    assert day["latency"]["p50"] is not None and day["latency"]["p50"] <= 60
    assert all(g["counts"]["accepted_recipients"] == 0 for g in by_day["groups"][:-1])
    assert all(g["rates"]["delivery_rate"] is None for g in by_day["groups"][:-1])
    assert by_day["total"]["counts"] == counts

    by_domain = await stats(api, traffic, group_by="domain", **{"from": today()})
    assert [g["key"] for g in by_domain["groups"]] == ["sender.example"]
    assert by_domain["groups"][0]["counts"] == counts
    assert by_domain["groups"][0]["latency"]["deliveries"] == 10
    filtered = await stats(api, traffic, domain="other.example")
    assert filtered["total"]["counts"]["accepted_recipients"] == 0


async def test_tags_hours_and_totals_that_count_a_message_once(
    api: AsyncTestClient[Any], traffic: Tenant
) -> None:
    by_tag = await stats(api, traffic, group_by="tag")
    groups = {g["key"]: g["counts"] for g in by_tag["groups"]}
    assert set(groups) == {"promo", "welcome"}
    assert (groups["welcome"]["accepted_recipients"], groups["welcome"]["delivered"]) == (10, 10)
    assert groups["welcome"]["bounced_hard"] == 0
    assert (groups["promo"]["accepted_recipients"], groups["promo"]["delivered"]) == (10, 5)
    assert groups["promo"]["bounced_hard"] == 5
    assert by_tag["total"]["counts"]["accepted_recipients"] == 15  # not 20
    assert by_tag["total"]["latency"]["deliveries"] == 10
    assert all(g["latency"] is None for g in by_tag["groups"])  # latency is not kept per tag

    promo = await stats(api, traffic, tag="promo")
    assert promo["total"]["counts"]["delivered"] == 5
    assert promo["total"]["rates"]["bounce_rate"] == pytest.approx(0.5)
    assert promo["total"]["latency"] is None

    by_hour = await stats(api, traffic, group_by="hour")
    assert len(by_hour["groups"]) in (24, 25)
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = {g["key"]: g["counts"] for g in by_hour["groups"]}
    counted = [
        hours.get(f"{h:%Y-%m-%dT%H}:00:00Z") for h in (this_hour - timedelta(hours=1), this_hour)
    ]
    assert sum(c["delivered"] for c in counted if c) == 10
    assert by_hour["total"]["counts"]["bounced_hard"] == 5


async def test_other_accounts_see_their_own_counts_only(
    herald: Herald, api: AsyncTestClient[Any], traffic: Tenant
) -> None:
    stranger = await herald.create_tenant("stranger.example")
    theirs = await stats(api, stranger)
    assert theirs["total"]["counts"]["accepted_recipients"] == 0
    assert theirs["total"]["rates"]["delivery_rate"] is None
    assert theirs["total"]["latency"] == {"deliveries": 0, "p50": None, "p90": None, "p99": None}
    mine = await stats(api, traffic)
    assert mine["total"]["counts"]["accepted_recipients"] == 15


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-01-02", "to": "2026-01-01"}, "from"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from"),
        ({"group_by": "hour", "from": "2026-01-01", "to": "2026-01-05"}, "from"),
    ],
)
async def test_bad_parameters_are_a_problem_naming_the_field(
    herald: Herald, api: AsyncTestClient[Any], params: dict[str, str], field: str
) -> None:
    tenant = await herald.create_tenant()
    response = await api.get("/v1/stats", headers=tenant.headers, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_stats_need_the_read_scope(herald: Herald, api: AsyncTestClient[Any]) -> None:
    tenant = await herald.create_tenant(scopes=("send",))
    response = await api.get("/v1/stats", headers=tenant.headers)
    assert response.status_code == 403


@pytest.fixture
def inbound(herald: Herald) -> Iterator[tuple[str, int]]:
    from support.processes import free_port

    port = free_port()
    controller = start_inbound_server(herald.settings, "127.0.0.1", port)
    yield "127.0.0.1", port
    controller.stop()


async def test_a_complaint_through_the_feedback_loop_is_counted(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    inbound: tuple[str, int],
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message_id = await send(api, tenant, "angry@receiver.example", ["news"])
    assert await herald.settle(message_id) == {"angry@receiver.example": "delivered"}
    verp = mx.messages[0].mail_from
    with smtplib.SMTP(*inbound, timeout=10) as client:
        client.sendmail("", [verp], ARF.format(verp=verp, rcpt="angry@receiver.example").encode())

    total = (await stats(api, tenant))["total"]
    assert (total["counts"]["delivered"], total["counts"]["complained"]) == (1, 1)
    assert total["rates"]["complaint_rate"] == 1.0
    news = (await stats(api, tenant, group_by="tag"))["groups"]
    assert [(g["key"], g["counts"]["complained"]) for g in news] == [("news", 1)]


async def test_the_edges_of_the_calendar_are_answered(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    early = await api.get("/v1/stats", headers=tenant.headers, params={"to": "0001-01-01"})
    assert early.status_code == 422
    assert [e["field"] for e in early.json()["errors"]] == ["to"]
    late = await stats(api, tenant, group_by="hour", to="9999-12-31T23:59:59Z")
    assert len(late["groups"]) == 25
    assert late["groups"][-1]["key"] == "9999-12-31T23:00:00Z"
    last_days = await stats(api, tenant, **{"from": "9999-12-30", "to": "9999-12-31T12:00:00Z"})
    assert [g["key"] for g in last_days["groups"]] == [
        "9999-12-30T00:00:00Z",
        "9999-12-31T00:00:00Z",
    ]
