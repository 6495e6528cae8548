"""Quotas through the API: 429 with Retry-After, daily recipient caps, RateLimit headers."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from herald_service.api.context import ApiContext
from support.clock import FakeClock
from support.harness import Herald, Tenant


def use_clock(api: AsyncTestClient, clock: FakeClock) -> None:  # type: ignore[type-arg]
    herald: ApiContext = api.app.state.herald
    herald.quotas.clock = clock


async def new_key(api: AsyncTestClient, admin: Tenant, **quotas: Any) -> dict[str, str]:  # type: ignore[type-arg]
    response = await api.post(
        "/v1/api-keys", headers=admin.headers, json={"scopes": ["send", "read"], "quotas": quotas}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


def message(*recipients: str) -> dict[str, Any]:
    return {"from": "app@sender.example", "to": list(recipients), "subject": "s", "text": "t"}


async def test_burst_over_the_rate_gets_429_and_retry_after_works(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    clock = FakeClock()
    use_clock(api, clock)
    headers = await new_key(api, admin, requests_per_second=0.5, burst=3)
    statuses = [(await api.get("/v1/messages/msg_x", headers=headers)) for _ in range(4)]
    assert [r.status_code for r in statuses] == [404, 404, 404, 429]
    assert [r.headers["RateLimit"].split(",")[0] for r in statuses] == [
        '"requests";r=2;t=2',
        '"requests";r=1;t=4',
        '"requests";r=0;t=6',
        '"requests";r=0;t=6',
    ]
    refused = statuses[-1]
    assert refused.headers["RateLimit-Policy"].startswith('"requests";q=3;w=6')
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    retry_after = int(refused.headers["Retry-After"])
    assert retry_after == 2
    clock.advance(retry_after - 0.5)
    assert (await api.get("/v1/messages/msg_x", headers=headers)).status_code == 429
    clock.advance(0.5)
    assert (await api.get("/v1/messages/msg_x", headers=headers)).status_code == 404
    # Another key of the same account has its own rate.
    assert (await api.get("/v1/messages/msg_x", headers=admin.headers)).status_code == 404


async def test_daily_cap_counts_recipients_and_resets_at_midnight(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    clock = FakeClock.at("2027-03-01T23:59:30")
    use_clock(api, clock)
    headers = await new_key(api, admin, daily_recipients=3)
    first = await api.post(
        "/v1/messages", headers=headers, json=message("a@x.example", "b@x.example")
    )
    assert first.status_code == 202, first.text
    assert '"recipients-key-day";r=1;t=30' in first.headers["RateLimit"]
    sandboxed = await api.post(
        "/v1/messages", headers=headers, json=message("c@x.example") | {"sandbox": True}
    )
    assert sandboxed.status_code == 202  # sandbox messages are not delivered: not counted
    over = await api.post(
        "/v1/messages", headers=headers, json=message("c@x.example", "d@x.example")
    )
    assert over.status_code == 429, over.text
    assert over.headers["Retry-After"] == "30"
    assert herald.queued_message_ids() == [first.json()["id"]]  # nothing stored or queued
    one_more = await api.post("/v1/messages", headers=headers, json=message("c@x.example"))
    assert one_more.status_code == 202
    clock.advance(30)
    again = await api.post(
        "/v1/messages", headers=headers, json=message("c@x.example", "d@x.example")
    )
    assert again.status_code == 202, again.text
    assert '"recipients-key-day";r=1;t=86400' in again.headers["RateLimit"]
    too_many = await api.post(
        "/v1/messages", headers=headers, json=message(*(f"u{i}@x.example" for i in range(4)))
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "to"


async def test_every_authenticated_response_carries_ratelimit(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    send_only = await herald.create_tenant("other.example", scopes=("send",))
    answers = {
        "202": await api.post("/v1/messages", headers=admin.headers, json=message("a@x.example")),
        "404": await api.get("/v1/messages/msg_x", headers=admin.headers),
        "403": await api.get("/v1/api-keys", headers=send_only.headers),
        "422": await api.post(
            "/v1/messages", headers=admin.headers, json=message("not-an-address")
        ),
        "400": await api.post("/v1/messages", headers=admin.headers, content=b"{not json"),
        "400 unknown field": await api.post(
            "/v1/messages", headers=admin.headers, json=message("a@x.example") | {"bogus": 1}
        ),
        "422 domain": await api.post(
            "/v1/messages",
            headers=admin.headers,
            json=message("a@x.example") | {"from": "app@unknown.example"},
        ),
    }
    for name, response in answers.items():
        assert response.status_code == int(name[:3]), (name, response.text)
        assert response.headers["RateLimit"].startswith('"requests";r='), name
        assert "RateLimit-Policy" in response.headers, name
    unauthenticated = await api.get("/v1/messages/msg_x")
    assert unauthenticated.status_code == 401 and "RateLimit" not in unauthenticated.headers
    health = await api.get("/healthz")
    assert "RateLimit" not in health.headers
