"""A key creates, changes and revokes only keys within its own scopes, domains and quotas."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from herald_service.api.context import ApiContext
from herald_service.domains.service import add_domain
from support.harness import Herald, Tenant

SEND = {"from": "app@sender.example", "to": "bob@receiver.example", "subject": "Hi", "text": "x"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def created_key(
    api: AsyncTestClient,  # type: ignore[type-arg]
    headers: dict[str, str],
    **body: Any,
) -> dict[str, Any]:
    response = await api.post("/v1/api-keys", headers=headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def tenant_with_two_domains(herald: Herald, api: AsyncTestClient) -> Tenant:  # type: ignore[type-arg]
    tenant = await herald.create_tenant("sender.example")
    context: ApiContext = api.app.state.herald
    async with context.sessions.begin() as session:
        await add_domain(session, herald.settings, tenant.account_id, "news.example", verified=True)
    return tenant


def refused_fields(response: Any) -> list[str]:
    assert response.status_code == 403, response.text
    return [e["field"] for e in response.json()["errors"]]


async def test_a_domain_restricted_admin_key_cannot_mint_a_wider_key(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    root = await tenant_with_two_domains(herald, api)
    restricted = await created_key(
        api, root.headers, scopes=["admin", "send"], domains=["sender.example"]
    )
    headers = bearer(restricted["key"])

    unrestricted = await api.post("/v1/api-keys", headers=headers, json={"scopes": ["send"]})
    assert refused_fields(unrestricted) == ["domains"]
    with_read = await api.post(
        "/v1/api-keys", headers=headers, json={"scopes": ["read"], "domains": ["sender.example"]}
    )
    assert refused_fields(with_read) == ["scopes"]
    elsewhere = await api.post(
        "/v1/api-keys", headers=headers, json={"scopes": ["send"], "domains": ["news.example"]}
    )
    assert refused_fields(elsewhere) == ["domains"]
    listed = (await api.get("/v1/api-keys", headers=root.headers)).json()["data"]
    assert len(listed) == 2  # nothing was created by the refusals

    narrower = await created_key(api, headers, scopes=["send"], domains=["sender.example"])
    child = bearer(narrower["key"])
    assert (await api.post("/v1/messages", headers=child, json=SEND)).status_code == 202
    news = dict(SEND, **{"from": "app@news.example"})
    assert (await api.post("/v1/messages", headers=child, json=news)).status_code == 403


async def test_a_key_cannot_grant_or_take_more_quota_than_it_has(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    root = await herald.create_tenant("sender.example")
    own = {"requests_per_second": 5, "burst": 10, "daily_recipients": 100}
    limited = await created_key(api, root.headers, scopes=["admin", "send"], quotas=own)
    headers = bearer(limited["key"])

    more = await api.post(
        "/v1/api-keys",
        headers=headers,
        json={"scopes": ["send"], "quotas": {"daily_recipients": 1000, "burst": 11}},
    )
    assert refused_fields(more) == ["quotas.burst", "quotas.daily_recipients"]
    uncapped = await api.post(
        "/v1/api-keys",
        headers=headers,
        json={"scopes": ["send"], "quotas": {"daily_recipients": 0}},
    )
    assert refused_fields(uncapped) == ["quotas.daily_recipients"]
    inherited = await created_key(api, headers, scopes=["send"], quotas={"burst": 3})
    assert inherited["quotas"] == {"requests_per_second": 5, "burst": 3, "daily_recipients": 100}

    path = f"/v1/api-keys/{limited['id']}"
    raise_own = await api.patch(path, headers=headers, json={"quotas": {"daily_recipients": 101}})
    assert refused_fields(raise_own) == ["quotas.daily_recipients"]
    reset_own = await api.patch(path, headers=headers, json={"quotas": {}})
    assert reset_own.status_code == 200, reset_own.text
    assert reset_own.json()["quotas"] == own  # unset means "as now", not the higher default
    lower_own = await api.patch(path, headers=headers, json={"quotas": {**own, "burst": 5}})
    assert lower_own.status_code == 200
    assert lower_own.json()["quotas"]["burst"] == 5

    # The account's unrestricted key may still raise it.
    raised = await api.patch(path, headers=root.headers, json={"quotas": {"daily_recipients": 500}})
    assert raised.status_code == 200, raised.text
    assert raised.json()["quotas"]["daily_recipients"] == 500


async def test_a_key_changes_or_revokes_only_keys_within_its_own(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    root = await tenant_with_two_domains(herald, api)
    restricted = await created_key(
        api, root.headers, scopes=["admin", "send"], domains=["sender.example"]
    )
    headers = bearer(restricted["key"])
    root_path = f"/v1/api-keys/{root.key_id}"

    throttle_root = await api.patch(
        root_path, headers=headers, json={"quotas": {"requests_per_second": 0.001}}
    )
    assert throttle_root.status_code == 403, throttle_root.text
    assert (await api.patch(root_path, headers=headers, json={"name": "x"})).status_code == 403
    assert (await api.delete(root_path, headers=headers)).status_code == 403
    assert (await api.get(root_path, headers=root.headers)).json()["revoked_at"] is None

    child = await created_key(api, headers, scopes=["send"], domains=["sender.example"])
    child_path = f"/v1/api-keys/{child['id']}"
    renamed = await api.patch(child_path, headers=headers, json={"name": "billing"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "billing"
    assert (await api.delete(child_path, headers=headers)).status_code == 204
