"""The console's Domains page: records with their status, verify now, DKIM rotation;
viewers only look, and another account's domain is a 404."""

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


async def test_verify_now_and_rotate(herald: Herald, console: AsyncTestClient) -> None:  # type: ignore[type-arg]
    tenant = await herald.create_tenant("fresh.example", verified=False)
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    listing = await console.get("/console/domains")
    assert listing.status_code == 200
    assert f'href="/console/domains/{tenant.domain_id}?account={tenant.account_id}"' in listing.text
    page = await console.get(f"/console/domains/{tenant.domain_id}")
    assert page.status_code == 200
    records = (await console.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)).json()
    for record in records["records"]:
        assert record["host"] in page.text and record["value"] in page.text
    assert records["dmarc_progression"]
    for stage in records["dmarc_progression"]:
        assert stage["value"] in page.text
    assert 'id="domain-status">pending<' in page.text and 'data-status="verified"' not in page.text
    csrf = csrf_of(page.text)

    verified = await console.post(
        f"/console/domains/{tenant.domain_id}/verify",
        data={"csrf_token": csrf, "account": tenant.account_id},
    )
    assert verified.status_code == 303
    after = await console.get(verified.headers["location"])
    assert "Records checked." in after.text
    assert 'id="domain-status">verified<' in after.text and 'data-status="verified"' in after.text
    api = await console.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)
    assert api.json()["status"] == "verified"

    rotated = await console.post(
        f"/console/domains/{tenant.domain_id}/rotate",
        data={"csrf_token": csrf, "account": tenant.account_id},
    )
    assert rotated.status_code == 303
    keys = (await console.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)).json()
    pending = [k["selector"] for k in keys["dkim_keys"] if k["status"] == "pending"]
    assert len(pending) == 2
    shown = await console.get(rotated.headers["location"])
    for selector in pending:
        assert f'data-selector="{selector}"' in shown.text
    again = await console.post(
        f"/console/domains/{tenant.domain_id}/rotate",
        data={"csrf_token": csrf, "account": tenant.account_id},
    )
    assert again.status_code == 409 and "already waiting" in again.text


async def test_isolation_viewers_and_csrf(herald: Herald, console: AsyncTestClient) -> None:  # type: ignore[type-arg]
    mine = await herald.create_tenant("mine.example", verified=False)
    theirs = await herald.create_tenant("theirs.example", verified=False)
    await add_user(herald.settings.database_url, "admin@example.com", "admin", mine.account_id)
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)

    await sign_in(console, "admin@example.com")
    page = await console.get("/console/domains")
    csrf = csrf_of(page.text)
    assert "theirs.example" not in page.text and "mine.example" in page.text
    assert (await console.get(f"/console/domains/{theirs.domain_id}")).status_code == 404
    assert (await console.get("/console/domains/dom_missing")).status_code == 404
    for action in ("verify", "rotate"):
        foreign = await console.post(
            f"/console/domains/{theirs.domain_id}/{action}",
            data={"csrf_token": csrf, "account": mine.account_id},
        )
        assert foreign.status_code == 404
        other_account = await console.post(
            f"/console/domains/{theirs.domain_id}/{action}",
            data={"csrf_token": csrf, "account": theirs.account_id},
        )
        assert other_account.status_code == 404
        no_csrf = await console.post(
            f"/console/domains/{mine.domain_id}/{action}", data={"account": mine.account_id}
        )
        assert no_csrf.status_code == 403
    await console.post("/console/sign-out", data={"csrf_token": csrf})

    await sign_in(console, "viewer@example.com")
    page = await console.get(f"/console/domains/{mine.domain_id}")
    assert page.status_code == 200 and "mine.example" in page.text
    assert "/verify" not in page.text and "/rotate" not in page.text
    viewer_csrf = csrf_of(page.text)
    for action in ("verify", "rotate"):
        refused = await console.post(
            f"/console/domains/{mine.domain_id}/{action}",
            data={"csrf_token": viewer_csrf, "account": mine.account_id},
        )
        assert refused.status_code == 403 and "Viewers cannot change anything" in refused.text
    for tenant in (mine, theirs):
        api = await console.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)
        body = api.json()
        assert body["status"] == "pending" and body["last_checked_at"] is None
        assert all(k["status"] == "active" for k in body["dkim_keys"])


async def test_live_status_and_verify_now_in_place(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("live.example", verified=False)
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    page = await console.get(f"/console/domains/{tenant.domain_id}")
    live = f"/console/domains/{tenant.domain_id}/live?account={tenant.account_id}"
    assert f'hx-get="{live}&amp;seen=' in page.text and 'hx-trigger="every 3s"' in page.text
    stamp = page.text.split("&amp;seen=", 1)[1].split('"', 1)[0]

    unchanged = await console.get(f"{live}&seen={stamp}", headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.content == b""
    part = await console.get(live, headers={"HX-Request": "true"})
    assert part.status_code == 200 and part.text.startswith('<div id="domain-live"')
    assert 'id="domain-status">pending<' in part.text and "<html" not in part.text

    checked = await console.post(
        f"/console/domains/{tenant.domain_id}/verify",
        data={"csrf_token": csrf_of(page.text), "account": tenant.account_id},
        headers={"HX-Request": "true"},
    )
    assert checked.status_code == 200, checked.text
    assert 'id="domain-status">verified<' in checked.text and "hx-trigger" not in checked.text
    assert 'id="domain-notice" hx-swap-oob="innerHTML"' in checked.text
    assert ": 4 of 4 required verified." in checked.text
    assert (await console.get(f"{live}&seen={stamp}")).status_code == 200  # it changed
    rotated = await console.post(
        f"/console/domains/{tenant.domain_id}/rotate",
        data={"csrf_token": csrf_of(page.text), "account": tenant.account_id},
    )
    assert rotated.status_code == 303
    waiting = await console.get(rotated.headers["location"])  # new keys wait for DNS
    assert 'id="domain-status">verified<' in waiting.text
    assert 'hx-trigger="every 3s"' in waiting.text

    theirs = await herald.create_tenant("theirs.example", verified=False)
    foreign = f"/console/domains/{theirs.domain_id}/live?account={tenant.account_id}"
    assert (await console.get(foreign)).status_code == 404
    other = f"/console/domains/{theirs.domain_id}/live?account={theirs.account_id}"
    assert (await console.get(other)).status_code == 404
    await console.post("/console/sign-out", data={"csrf_token": csrf_of(page.text)})
    signed_out = await console.get(live, headers={"HX-Request": "true"})
    assert signed_out.status_code == 401 and signed_out.headers["hx-redirect"].startswith(
        "/console/sign-in"
    )
