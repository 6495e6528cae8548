"""A domain's reputation in the console: the pause and its reason, the windows against the
thresholds, the domain events, and "Resume sending" (admins only, with the CSRF token,
never another account's domain), which releases the held mail and lets sends in again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald
from support.paused import REASON, pause_domain
from support.stored import store_message

SEND = {"to": ["ann@receiver.example"], "subject": "Hi", "text": "Hello"}


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def test_a_paused_domain_shows_why_and_an_admin_resumes_it(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("shop.example")
    url = herald.settings.database_url
    await add_user(url, "admin@example.com", "admin", tenant.account_id)
    await pause_domain(url, tenant.account_id, tenant.domain_id)
    held = await store_message(
        url, tenant.account_id, tenant.domain_id, datetime.now(UTC), "held", "held"
    )
    body = {**SEND, "from": f"app@{tenant.domain}"}
    refused = await console.post("/v1/messages", headers=tenant.headers, json=body)
    assert refused.status_code == 403 and refused.json()["title"] == "Domain paused"

    await sign_in(console, "admin@example.com")
    listing = await console.get("/console/domains")
    assert 'class="status domain-paused">paused<' in listing.text
    page = await console.get(f"/console/domains/{tenant.domain_id}")
    assert page.status_code == 200
    assert 'id="paused-banner"' in page.text and REASON in page.text
    assert "releases\n      2 held recipients\n      (1 message)" in page.text
    assert 'id="resume-button"' in page.text
    assert 'data-window="24h"' in page.text and 'data-window="7d"' in page.text
    assert "warn 2 %, pause 5 %" in page.text and "warn 0.08 %, pause 0.1 %" in page.text
    assert 'data-type="domain.paused"' in page.text and "reputation guard" in page.text

    resumed = await console.post(
        f"/console/domains/{tenant.domain_id}/resume",
        data={"csrf_token": csrf_of(page.text), "account": tenant.account_id},
    )
    assert resumed.status_code == 303
    after = await console.get(resumed.headers["location"])
    assert "Sending resumed: sends are accepted again; 2 held recipients released" in after.text
    assert 'id="paused-banner"' not in after.text
    assert 'id="domain-status">verified<' in after.text
    assert 'data-type="domain.resumed"' in after.text
    assert "console user admin@example.com" in after.text
    assert set((await herald.recipients(held)).values()) == {"queued"}
    # The cache forgot the domain: the next send is accepted at once.
    accepted = await console.post("/v1/messages", headers=tenant.headers, json=body)
    assert accepted.status_code == 202, accepted.text

    again = await console.post(
        f"/console/domains/{tenant.domain_id}/resume",
        data={"csrf_token": csrf_of(page.text), "account": tenant.account_id},
    )
    assert again.status_code == 409 and "not paused" in again.text


async def test_viewers_csrf_and_other_accounts_cannot_resume(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    url = herald.settings.database_url
    await add_user(url, "viewer@example.com", "viewer", mine.account_id)
    await add_user(url, "admin@example.com", "admin", mine.account_id)
    await pause_domain(url, mine.account_id, mine.domain_id)
    await pause_domain(url, theirs.account_id, theirs.domain_id)

    await sign_in(console, "viewer@example.com")
    page = await console.get(f"/console/domains/{mine.domain_id}")
    assert REASON in page.text and 'id="paused-banner"' in page.text
    assert 'id="resume-button"' not in page.text and "An admin can resume sending" in page.text
    csrf = csrf_of(page.text)  # the sign-out form's
    refused = await console.post(
        f"/console/domains/{mine.domain_id}/resume",
        data={"csrf_token": csrf, "account": mine.account_id},
    )
    assert refused.status_code == 403 and "Viewers cannot change anything" in refused.text
    await console.post("/console/sign-out", data={"csrf_token": csrf})

    await sign_in(console, "admin@example.com")
    page = await console.get(f"/console/domains/{mine.domain_id}")
    no_token = await console.post(
        f"/console/domains/{mine.domain_id}/resume", data={"account": mine.account_id}
    )
    assert no_token.status_code == 403
    csrf = csrf_of(page.text)
    for domain_id, account_id in (
        (theirs.domain_id, mine.account_id),
        (theirs.domain_id, theirs.account_id),
    ):
        other = await console.post(
            f"/console/domains/{domain_id}/resume",
            data={"csrf_token": csrf, "account": account_id},
        )
        assert other.status_code == 404
    assert (await console.get(f"/console/domains/{theirs.domain_id}")).status_code == 404
    for tenant in (mine, theirs):
        shown = await console.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)
        assert shown.json()["status"] == "paused"
