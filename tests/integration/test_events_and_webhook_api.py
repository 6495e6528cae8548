"""``GET /v1/events`` filters and pages; ``/v1/webhooks`` CRUD, scopes and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}


async def send(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    to: list[str],
    tags: list[str],
) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": f"app@{tenant.domain}", "to": to, "text": "x", "tags": tags},
    )
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


async def test_event_log_filters_pages_and_is_tenant_scoped(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    other = await herald.create_tenant("other.example")
    herald.add_mx("rcpt.example", (10, "mx.rcpt.example", "127.0.0.2"))
    smtp_server_factory("127.0.0.2", rcpt_replies={"bad@rcpt.example": (550, "5.1.1 no")})
    first = await send(api, tenant, ["a@rcpt.example", "bad@rcpt.example"], ["welcome"])
    second = await send(api, tenant, ["b@rcpt.example"], ["reset", "welcome_2"])
    await send(api, other, ["c@rcpt.example"], ["welcome"])
    assert await herald.drain_queue() == 3

    async def events(**params: object) -> dict[str, object]:
        response = await api.get("/v1/events", headers=tenant.headers, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    everything = await events()
    data = everything["data"]
    assert isinstance(data, list)
    assert len(data) == 6  # 3 accepted + 2 delivered + 1 bounced, none of the other tenant
    assert {e["message_id"] for e in data} == {first, second}

    bounced = (await events(type="message.bounced"))["data"]
    assert [(e["recipient"], e["details"]["code"]) for e in bounced] == [("bad@rcpt.example", 550)]
    assert len((await events(type="message.bounced,message.delivered"))["data"]) == 3
    assert len((await events(message_id=second))["data"]) == 2
    assert len((await events(recipient="A@rcpt.example"))["data"]) == 2
    tagged = (await events(tag="welcome"))["data"]
    assert {e["message_id"] for e in tagged} == {first}
    assert tagged[0]["tags"] == ["welcome"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await events(since=future))["data"] == []
    assert len((await events(until=future))["data"]) == 6

    seen: list[str] = []
    cursor = None
    while True:
        page = await events(limit=4, **({"cursor": cursor} if cursor else {}))
        seen.extend(e["id"] for e in page["data"])  # type: ignore[attr-defined]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in data]

    bad = await api.get("/v1/events", headers=tenant.headers, params={"type": "message.nope"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "type"
    bad = await api.get("/v1/events", headers=tenant.headers, params={"cursor": "zzz"})
    assert bad.status_code == 422
    bad = await api.get("/v1/events", headers=tenant.headers, params={"limit": 0})
    assert bad.status_code == 400


async def test_webhook_crud_scopes_and_isolation(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    other = await herald.create_tenant("other.example")
    sender_only = await herald.create_tenant("third.example", scopes=("send", "read"))
    url = "http://127.0.0.1:9/hooks"

    refused = await api.post("/v1/webhooks", headers=sender_only.headers, json={"url": url})
    assert refused.status_code == 403

    created = await api.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": url, "event_types": ["message.bounced"], "description": "ops"},
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_")
    assert hook["event_types"] == ["message.bounced"]
    assert hook["enabled"] is True

    got = (await api.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert "secret" not in got
    listed = (await api.get("/v1/webhooks", headers=tenant.headers)).json()["data"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert all("secret" not in h for h in listed)

    assert (await api.get(f"/v1/webhooks/{hook['id']}", headers=other.headers)).status_code == 404
    assert (await api.get("/v1/webhooks", headers=other.headers)).json()["data"] == []
    assert (
        await api.delete(f"/v1/webhooks/{hook['id']}", headers=other.headers)
    ).status_code == 404

    patched = await api.patch(
        f"/v1/webhooks/{hook['id']}",
        headers=tenant.headers,
        json={"event_types": [], "description": "all events", "enabled": False},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["event_types"] == []
    assert patched.json()["enabled"] is False

    bad = await api.patch(
        f"/v1/webhooks/{hook['id']}", headers=tenant.headers, json={"event_types": ["x"]}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "event_types[0]"
    unknown = await api.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": url, "colour": "red"}
    )
    assert unknown.status_code == 400

    # Events written while the endpoint matches create deliveries; deleted endpoints none.
    await api.patch(f"/v1/webhooks/{hook['id']}", headers=tenant.headers, json={"enabled": True})
    await send(api, tenant, ["x@rcpt.example"], [])
    deliveries = (
        await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    ).json()
    assert [d["event_type"] for d in deliveries["data"]] == ["message.accepted"]
    assert deliveries["data"][0]["status"] == "pending"

    deleted = await api.delete(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await api.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers)).status_code == 404
