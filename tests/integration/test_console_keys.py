"""The console's API keys page: admins create (the key shown once) and revoke keys,
viewers only look, and another account's key is a 404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald

TOKEN = re.compile(r'id="new-key"[^>]*value="(hrld_[^"]+)"')


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def test_admin_creates_a_key_shown_once_and_revokes_it(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("keys.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    page = await console.get("/console/keys")
    assert page.status_code == 200 and f'data-key-id="{tenant.key_id}"' in page.text
    csrf = csrf_of(page.text)

    created = await console.post(
        "/console/keys",
        data={
            "csrf_token": csrf,
            "account": tenant.account_id,
            "name": "reporting job",
            "scopes": ["read"],
            "domains": ["keys.example"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    found = TOKEN.search(created.text)
    assert found is not None
    token = found.group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await console.get("/v1/domains", headers=headers)).status_code == 200
    send = await console.post(
        "/v1/messages",
        json={"from": "a@keys.example", "to": ["b@example.com"], "subject": "s", "text": "t"},
        headers=headers,
    )
    assert send.status_code == 403  # a read-only key

    listed = (await console.get("/console/keys")).text
    assert token not in listed  # never shown again
    key_id = next(
        k["id"]
        for k in (await console.get("/v1/api-keys", headers=tenant.headers)).json()["data"]
        if k["name"] == "reporting job"
    )
    row = listed.split(f'data-key-id="{key_id}"')[1].split("</tr>")[0]
    assert "reporting job" in row and "keys.example" in row and "read" in row
    assert f"hrld_{key_id.removeprefix('key_')}_" in row and token.startswith(f"hrld_{key_id[4:]}_")

    confirm = await console.get(f"/console/keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke the key" in confirm.text
    revoked = await console.post(
        f"/console/keys/{key_id}/revoke",
        data={"csrf_token": csrf, "account": tenant.account_id},
    )
    assert revoked.status_code == 303
    after = await console.get(revoked.headers["location"])
    assert "Key revoked" in after.text
    assert f'href="/console/keys/{key_id}/revoke' not in after.text
    api = await console.get(f"/v1/api-keys/{key_id}", headers=tenant.headers)
    assert api.json()["revoked_at"] is not None


async def test_bad_input_is_a_clear_4xx(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("bad.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    csrf = csrf_of((await console.get("/console/keys")).text)
    base = {"csrf_token": csrf, "account": tenant.account_id}
    for data, expected in (
        ({}, "at least one scope"),
        ({"scopes": "root"}, "Scopes are"),
        ({"scopes": "send", "domains": "other.example"}, "unknown sending domains"),
        ({"scopes": "send", "name": "x" * 201}, "at most 200"),
    ):
        answer = await console.post("/console/keys", data={**base, **data})
        assert answer.status_code == 422 and expected in answer.text, (data, answer.text)
    assert (await console.get("/console/keys/key_nope/revoke")).status_code == 404


async def test_isolation_viewers_and_csrf(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "admin@example.com", "admin", mine.account_id)
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)

    await sign_in(console, "admin@example.com")
    page = await console.get("/console/keys")
    csrf = csrf_of(page.text)
    assert theirs.key_id not in page.text
    assert (await console.get(f"/console/keys?account={theirs.account_id}")).status_code == 404
    assert (await console.get(f"/console/keys/{theirs.key_id}/revoke")).status_code == 404
    foreign = await console.post(
        f"/console/keys/{theirs.key_id}/revoke",
        data={"csrf_token": csrf, "account": mine.account_id},
    )
    assert foreign.status_code == 404
    other_account = await console.post(
        "/console/keys", data={"csrf_token": csrf, "account": theirs.account_id, "scopes": "send"}
    )
    assert other_account.status_code == 404
    no_csrf = await console.post(
        f"/console/keys/{mine.key_id}/revoke", data={"account": mine.account_id}
    )
    assert no_csrf.status_code == 403
    assert (await console.get("/v1/domains", headers=theirs.headers)).status_code == 200
    assert (await console.get("/v1/domains", headers=mine.headers)).status_code == 200
    await console.post("/console/sign-out", data={"csrf_token": csrf})

    await sign_in(console, "viewer@example.com")
    page = await console.get("/console/keys")
    assert page.status_code == 200 and f'data-key-id="{mine.key_id}"' in page.text
    assert 'action="/console/keys"' not in page.text and "/revoke" not in page.text
    viewer_csrf = csrf_of(page.text)
    for path, data in (
        ("/console/keys", {"scopes": "admin"}),
        (f"/console/keys/{mine.key_id}/revoke", {}),
    ):
        refused = await console.post(
            path, data={"csrf_token": viewer_csrf, "account": mine.account_id, **data}
        )
        assert refused.status_code == 403 and "Viewers cannot change anything" in refused.text
    keys = (await console.get("/v1/api-keys", headers=mine.headers)).json()["data"]
    assert len(keys) == 1 and keys[0]["revoked_at"] is None
