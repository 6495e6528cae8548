"""The console's Suppressions page: admins add and remove, viewers only look."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def api_entries(client: AsyncTestClient, headers: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    response = await client.get("/v1/suppressions", headers=headers)
    assert response.status_code == 200, response.text
    return [entry["email"] for entry in response.json()["data"]]


async def test_admin_adds_and_removes(herald: Herald, console: AsyncTestClient) -> None:  # type: ignore[type-arg]
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    page = await console.get("/console/suppressions")
    assert page.status_code == 200 and "No suppressed addresses." in page.text
    csrf = csrf_of(page.text)

    added = await console.post(
        "/console/suppressions",
        data={
            "csrf_token": csrf,
            "account": tenant.account_id,
            "email": "Gone@Example.com",
            "reason": "manual",
            "detail": "asked us",
        },
    )
    assert added.status_code == 303
    assert await api_entries(console, tenant.headers) == ["gone@example.com"]
    listed = await console.get(added.headers["location"])
    assert "Address suppressed." in listed.text and 'data-email="gone@example.com"' in listed.text
    found = await console.get("/console/suppressions", params={"q": "GONE@example.com"})
    assert 'data-email="gone@example.com"' in found.text
    missing = await console.get("/console/suppressions", params={"q": "other@example.com"})
    assert "data-email=" not in missing.text

    bad = await console.post(
        "/console/suppressions",
        data={"csrf_token": csrf, "account": tenant.account_id, "email": "not an address"},
    )
    assert bad.status_code == 422 and "not an email address" in bad.text

    removed = await console.post(
        "/console/suppressions/remove",
        data={"csrf_token": csrf, "account": tenant.account_id, "email": "gone@example.com"},
    )
    assert removed.status_code == 303
    assert await api_entries(console, tenant.headers) == []
    again = await console.post(
        "/console/suppressions/remove",
        data={"csrf_token": csrf, "account": tenant.account_id, "email": "gone@example.com"},
    )
    assert again.status_code == 404


async def test_viewer_cannot_change_and_accounts_are_isolated(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "admin@example.com", "admin", mine.account_id)
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    await console.post(
        "/v1/suppressions", json={"email": "theirs@example.com"}, headers=theirs.headers
    )

    await sign_in(console, "admin@example.com")
    csrf = csrf_of((await console.get("/console/suppressions")).text)
    foreign = await console.post(
        "/console/suppressions",
        data={"csrf_token": csrf, "account": theirs.account_id, "email": "x@example.com"},
    )
    assert foreign.status_code == 404
    assert (
        await console.get(f"/console/suppressions?account={theirs.account_id}")
    ).status_code == 404
    assert "theirs@example.com" not in (await console.get("/console/suppressions")).text
    assert await api_entries(console, theirs.headers) == ["theirs@example.com"]
    await console.post("/console/sign-out", data={"csrf_token": csrf})

    await sign_in(console, "viewer@example.com")
    page = await console.get("/console/suppressions")
    assert page.status_code == 200
    assert 'method="post" action="/console/suppressions"' not in page.text  # no add form
    viewer_csrf = csrf_of(page.text)  # the sign-out form's token: a valid one
    refused = await console.post(
        "/console/suppressions",
        data={"csrf_token": viewer_csrf, "account": mine.account_id, "email": "v@example.com"},
    )
    assert refused.status_code == 403
    assert "Viewers cannot change anything" in refused.text
    assert await api_entries(console, mine.headers) == []
    # The viewer may still sign out.
    out = await console.post("/console/sign-out", data={"csrf_token": viewer_csrf})
    assert out.status_code == 303
