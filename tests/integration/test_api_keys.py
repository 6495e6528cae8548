"""``/v1/api-keys``: keys shown once, listed without secrets, revoked; scopes; 401s alike."""

from __future__ import annotations

import statistics
import time
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import event

from herald_service.api.context import ApiContext
from support.clock import FakeClock
from support.harness import Herald, Tenant
from support.tokens import with_unknown_key_id, with_wrong_secret

SEND = {"from": "app@sender.example", "to": "bob@receiver.example", "subject": "Hi", "text": "x"}


def context(api: AsyncTestClient) -> ApiContext:  # type: ignore[type-arg]
    herald: ApiContext = api.app.state.herald
    return herald


async def create_key(
    api: AsyncTestClient,  # type: ignore[type-arg]
    admin: Tenant,
    **body: Any,
) -> dict[str, Any]:
    response = await api.post("/v1/api-keys", headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_create_list_get_revoke(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    admin = await herald.create_tenant("sender.example")
    created = await create_key(api, admin, name="ci", scopes=["read", "send"])
    assert created["key"].startswith("hrld_")
    assert created["scopes"] == ["send", "read"]
    assert created["domains"] == []
    assert created["quotas"] == {
        "requests_per_second": None,
        "burst": None,
        "daily_recipients": None,
    }
    token = created["key"]

    listed = await api.get("/v1/api-keys", headers=admin.headers)
    assert listed.status_code == 200
    assert listed.headers["RateLimit"]
    by_id = {k["id"]: k for k in listed.json()["data"]}
    assert set(by_id) == {admin.key_id, created["id"]}
    assert token not in listed.text and "key" not in by_id[created["id"]]
    assert "secret" not in listed.text and "argon2" not in listed.text

    one = await api.get(f"/v1/api-keys/{created['id']}", headers=admin.headers)
    assert one.status_code == 200 and one.json()["name"] == "ci" and "key" not in one.json()

    clock = FakeClock()
    context(api).authenticator.clock = clock
    assert (await api.get("/v1/messages/msg_nothing", headers=bearer(token))).status_code == 404
    revoked = await api.delete(f"/v1/api-keys/{created['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    after = await api.get(f"/v1/api-keys/{created['id']}", headers=admin.headers)
    assert after.json()["revoked_at"] is not None
    # The process re-reads a cached key's row once its check is 5 s old.
    clock.advance(4.9)
    assert (await api.get("/v1/messages/msg_x", headers=bearer(token))).status_code == 404
    clock.advance(0.2)
    assert (await api.get("/v1/messages/msg_x", headers=bearer(token))).status_code == 401


async def test_scopes_are_enforced(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    tenant = await herald.create_tenant("sender.example", scopes=("send",))
    admin_calls = [
        ("GET", "/v1/api-keys", None),
        ("POST", "/v1/api-keys", {"scopes": ["admin"]}),
        ("GET", f"/v1/api-keys/{tenant.key_id}", None),
        ("PATCH", f"/v1/api-keys/{tenant.key_id}", {"name": "x"}),
        ("DELETE", f"/v1/api-keys/{tenant.key_id}", None),
    ]
    for method, path, body in admin_calls:
        response = await api.request(method, path, headers=tenant.headers, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["detail"] == "this API key lacks the 'admin' scope"
        assert response.headers["RateLimit"]
    read_only = await herald.create_tenant("other.example", scopes=("read",))
    refused = await api.post("/v1/messages", headers=read_only.headers, json=SEND)
    assert refused.status_code == 403


async def test_unauthorized_answers_are_identical(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    admin = await herald.create_tenant("sender.example")
    revoked = await create_key(api, admin, scopes=["read"])
    await api.delete(f"/v1/api-keys/{revoked['id']}", headers=admin.headers)
    real = admin.api_key
    presented = {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {real}"},
        "malformed": bearer("hrld_garbage"),
        "bad checksum": bearer(real[:-1] + ("0" if real[-1] != "0" else "1")),
        "unknown key": bearer(with_unknown_key_id(real)),
        "wrong secret": bearer(with_wrong_secret(real)),
        "revoked": bearer(revoked["key"]),
    }
    floor = context(api).settings.auth_failure_floor
    bodies, timings = set(), {}
    for name, headers in presented.items():
        samples = []
        for _ in range(2):
            started = time.monotonic()
            response = await api.get(f"/v1/api-keys/{admin.key_id}", headers=headers)
            samples.append(time.monotonic() - started)
            assert response.status_code == 401, (name, response.text)
            assert "RateLimit" not in response.headers
            bodies.add(response.content)
        timings[name] = statistics.median(samples)
    assert len(bodies) == 1, bodies
    assert min(timings.values()) >= floor, timings
    assert max(timings.values()) < 1.6 * min(timings.values()), timings


async def test_key_validation_names_fields(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    admin = await herald.create_tenant("sender.example")
    cases = [
        ({"scopes": ["send", "root"]}, 422, "scopes[1]"),
        ({"scopes": []}, 422, "scopes"),
        ({"scopes": ["send"], "domains": ["elsewhere.example"]}, 422, "domains[0]"),
        ({"scopes": ["send"], "domains": ["sender.example", "not a domain"]}, 422, "domains[1]"),
        ({"scopes": ["send"], "quotas": {"burst": 0}}, 422, "quotas.burst"),
        ({"scopes": ["send"], "quotas": {"burst": "5"}}, 400, "quotas.burst"),
        (
            {"scopes": ["send"], "quotas": {"requests_per_second": -1}},
            422,
            "quotas.requests_per_second",
        ),
        ({"scopes": ["send"], "secret": "mine"}, 400, "secret"),
    ]
    for body, status, field in cases:
        response = await api.post("/v1/api-keys", headers=admin.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    missing = await api.get("/v1/api-keys/key_nope", headers=admin.headers)
    assert missing.status_code == 404


async def test_key_restricted_to_named_sending_domains(
    herald: Herald, api: AsyncTestClient
) -> None:  # type: ignore[type-arg]
    tenant = await herald.create_tenant("sender.example")
    async with context(api).sessions.begin() as session:
        from herald_service.domains.service import add_domain

        await add_domain(session, herald.settings, tenant.account_id, "news.example", verified=True)
    restricted = await create_key(api, tenant, scopes=["send"], domains=["Sender.Example"])
    assert restricted["domains"] == ["sender.example"]
    ok = await api.post("/v1/messages", headers=bearer(restricted["key"]), json=SEND)
    assert ok.status_code == 202, ok.text
    other = dict(SEND, **{"from": "app@news.example"})
    refused = await api.post("/v1/messages", headers=bearer(restricted["key"]), json=other)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "from"
    # The account's unrestricted key may use both domains.
    assert (await api.post("/v1/messages", headers=tenant.headers, json=other)).status_code == 202


async def test_last_used_at_is_buffered_not_written_per_request(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald_context = context(api)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            statements.append(statement)

    engine = herald_context.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            response = await api.get(f"/v1/api-keys/{tenant.key_id}", headers=tenant.headers)
            assert response.status_code == 200
        assert statements == []
        assert response.json()["last_used_at"] is None
        assert await herald_context.key_usage.flush() == 1
        assert len(statements) == 1 and "last_used_at" in statements[0]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    used = (await api.get(f"/v1/api-keys/{tenant.key_id}", headers=tenant.headers)).json()
    assert used["last_used_at"] is not None


async def test_quota_overrides_can_be_updated(herald: Herald, api: AsyncTestClient) -> None:  # type: ignore[type-arg]
    admin = await herald.create_tenant("sender.example")
    created = await create_key(
        api, admin, scopes=["read"], quotas={"requests_per_second": 5, "burst": 10}
    )
    assert created["quotas"]["burst"] == 10
    updated = await api.patch(
        f"/v1/api-keys/{created['id']}",
        headers=admin.headers,
        json={"name": "renamed", "quotas": {"daily_recipients": 50}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "renamed"
    assert updated.json()["quotas"] == {
        "requests_per_second": None,
        "burst": None,
        "daily_recipients": 50,
    }
