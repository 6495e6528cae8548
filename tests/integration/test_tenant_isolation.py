"""No tenant reaches another's data: key A gets 404 for account B's resources.

Each resource is one row of ``CASES``: how account B creates one (returning its path and
id), and where account A would list it. Endpoints added later are one line each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_service.settings import Settings, load_settings
from support.harness import Herald, Tenant

Client = AsyncTestClient  # type: ignore[type-arg]
Create = Callable[[Client, Tenant], Awaitable[tuple[str, str]]]


async def b_message(api: Client, b: Tenant) -> tuple[str, str]:
    body = {"from": f"app@{b.domain}", "to": "x@receiver.example", "subject": "s", "text": "t"}
    response = await api.post("/v1/messages", headers=b.headers, json=body)
    assert response.status_code == 202, response.text
    return f"/v1/messages/{response.json()['id']}", response.json()["id"]


async def b_api_key(api: Client, b: Tenant) -> tuple[str, str]:
    response = await api.post("/v1/api-keys", headers=b.headers, json={"scopes": ["read"]})
    assert response.status_code == 201, response.text
    return f"/v1/api-keys/{response.json()['id']}", response.json()["id"]


async def b_own_key(api: Client, b: Tenant) -> tuple[str, str]:
    return f"/v1/api-keys/{b.key_id}", b.key_id


async def b_domain(api: Client, b: Tenant) -> tuple[str, str]:
    response = await api.post("/v1/domains", headers=b.headers, json={"name": "mail.b.example"})
    assert response.status_code == 201, response.text
    return f"/v1/domains/{response.json()['id']}", response.json()["id"]


async def b_webhook(api: Client, b: Tenant) -> tuple[str, str]:
    body = {"url": "http://127.0.0.1:9/hooks", "description": "B's endpoint"}
    response = await api.post("/v1/webhooks", headers=b.headers, json=body)
    assert response.status_code == 201, response.text
    return f"/v1/webhooks/{response.json()['id']}", response.json()["id"]


async def b_suppression(api: Client, b: Tenant) -> tuple[str, str]:
    body = {"email": "blocked@receiver.example", "reason": "manual"}
    response = await api.post("/v1/suppressions", headers=b.headers, json=body)
    assert response.status_code in (200, 201), response.text
    return "/v1/suppressions/blocked@receiver.example", "blocked@receiver.example"


# (name, create as B, list path as A or None, methods A tries on B's resource)
CASES: list[tuple[str, Create, str | None, tuple[str, ...]]] = [
    ("message", b_message, None, ("GET",)),
    ("api key", b_api_key, "/v1/api-keys", ("GET", "PATCH", "DELETE")),
    ("B's own admin key", b_own_key, "/v1/api-keys", ("GET", "PATCH", "DELETE")),
    ("domain", b_domain, "/v1/domains", ("GET", "DELETE")),
    ("webhook", b_webhook, "/v1/webhooks", ("GET", "PATCH", "DELETE")),
    ("suppression", b_suppression, "/v1/suppressions", ("GET", "DELETE")),
]


@pytest.fixture
def herald_settings(settings_env: dict[str, str]) -> Settings:
    """Webhook receivers on loopback are allowed here (nothing is ever sent to them)."""
    env = {**settings_env, "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}
    return load_settings(env, env_file=Path("/nonexistent"))


@pytest.mark.parametrize(
    ("create", "list_path", "methods"),
    [pytest.param(c, lp, m, id=name) for name, c, lp, m in CASES],
)
async def test_key_a_cannot_reach_account_b(
    herald: Herald,
    api: Client,
    create: Create,
    list_path: str | None,
    methods: tuple[str, ...],
) -> None:
    a = await herald.create_tenant("a.example")
    b = await herald.create_tenant("b.example")
    path, resource_id = await create(api, b)
    before = await api.get(path, headers=b.headers)
    assert before.status_code == 200, before.text
    for method in methods:
        body = {} if method == "PATCH" else None
        response = await api.request(method, path, headers=a.headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert resource_id in response.json()["detail"]
    if list_path is not None:
        listed = await api.get(list_path, headers=a.headers)
        assert listed.status_code == 200
        assert resource_id not in listed.text
    after = await api.get(path, headers=b.headers)
    assert after.status_code == 200
    unchanged = {k: v for k, v in before.json().items() if k != "last_used_at"}
    assert unchanged.items() <= after.json().items()  # A's attempts changed nothing
