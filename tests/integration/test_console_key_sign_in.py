"""Signing in to the console with an admin API key (``HERALD_CONSOLE_KEY_SIGN_IN``, on
under ``herald dev``): only admin keys, checked afresh on every request, behind the same
CSRF token and lock-out as passwords; absent when the setting is off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald

KEY_FORM = 'action="/console/sign-in/key"'


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with key sign-in on, over http://127.0.0.1 as ``herald dev`` serves it."""
    settings = msgspec.structs.replace(herald.settings, console_key_sign_in=True)
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        yield client


async def key_sign_in(client: AsyncTestClient, key: str, **extra: str) -> httpx.Response:  # type: ignore[type-arg]
    """Fetch the sign-in page and post its key form."""
    form = await client.get("/console/sign-in")
    assert form.status_code == 200, form.text
    data = {"api_key": key, "csrf_token": csrf_of(form.text), **extra}
    return await client.post("/console/sign-in/key", data=data)


async def test_an_admin_key_signs_in_to_its_account_only(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example", verified=False)
    theirs = await herald.create_tenant("theirs.example", verified=False)
    form = await console.get("/console/sign-in")
    assert KEY_FORM in form.text and '<label for="api-key">API key</label>' in form.text

    signed_in = await key_sign_in(console, mine.api_key, next="/console/domains")
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/console/domains"
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith("herald_console=")
    )
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()

    domains = await console.get("/console/domains")
    assert domains.status_code == 200
    assert f"API key {mine.key_id} · admin" in domains.text
    assert "mine.example" in domains.text and "theirs.example" not in domains.text
    assert (await console.get(f"/console/domains/{theirs.domain_id}")).status_code == 404
    assert (await console.get(f"/console/domains?account={theirs.account_id}")).status_code == 404

    verified = await console.post(  # an admin action: allowed
        f"/console/domains/{mine.domain_id}/verify",
        data={"csrf_token": csrf_of(domains.text), "account": mine.account_id},
    )
    assert verified.status_code == 303, verified.text


async def test_a_key_without_the_admin_scope_is_refused(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    reader = await herald.create_tenant("reader.example", scopes=("send", "read"))
    refused = await key_sign_in(console, reader.api_key)
    assert refused.status_code == 403
    assert "lacks the admin scope" in refused.text
    assert "herald_console=" not in str(refused.headers.get_list("set-cookie"))
    assert (await console.get("/console")).status_code == 303

    unknown = await key_sign_in(console, reader.api_key[:-3] + "AAA")
    assert unknown.status_code == 401 and "Unknown or revoked API key." in unknown.text
    assert (await key_sign_in(console, "")).status_code == 401


async def test_a_restricted_admin_key_is_refused_and_restricting_ends_the_session(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    """The console creates keys without bounding them by the acting key, so a key that
    could not grant everything itself does not sign in."""
    tenant = await herald.create_tenant("bounded.example")
    created = await console.post(
        "/v1/api-keys",
        json={"scopes": ["send", "read", "admin"], "domains": ["bounded.example"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    refused = await key_sign_in(console, created.json()["key"])
    assert refused.status_code == 403 and "restricted" in refused.text
    assert (await console.get("/console")).status_code == 303

    assert (await key_sign_in(console, tenant.api_key)).status_code == 303
    assert (await console.get("/console")).status_code == 200
    patched = await console.patch(
        f"/v1/api-keys/{tenant.key_id}", json={"quotas": {"burst": 10}}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    assert (await console.get("/console")).status_code == 303


async def test_revoking_the_key_ends_its_session_at_once(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("revoked.example")
    assert (await key_sign_in(console, tenant.api_key)).status_code == 303
    home = await console.get("/console")
    assert home.status_code == 200
    csrf = csrf_of(home.text)

    revoked = await console.delete(f"/v1/api-keys/{tenant.key_id}", headers=tenant.headers)
    assert revoked.status_code in (200, 204), revoked.text

    gone = await console.get("/console")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/console/sign-in")
    refused = await console.post(
        f"/console/domains/{tenant.domain_id}/verify",
        data={"csrf_token": csrf, "account": tenant.account_id},
    )
    assert refused.status_code == 303  # to the sign-in page, nothing done
    # Within the API's five-second cache of the key, the console refuses it already.
    again = await key_sign_in(console, tenant.api_key)
    assert again.status_code == 401 and "Unknown or revoked API key." in again.text


async def test_without_the_setting_there_is_no_key_form(herald: Herald) -> None:
    tenant = await herald.create_tenant("off.example")
    assert herald.settings.console_key_sign_in is False
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        form = await client.get("/console/sign-in")
        assert form.status_code == 200 and KEY_FORM not in form.text
        with_token = await client.post(
            "/console/sign-in/key",
            data={"api_key": tenant.api_key, "csrf_token": csrf_of(form.text)},
        )
        assert with_token.status_code == 404
        assert "herald_console=" not in str(with_token.headers.get_list("set-cookie"))
        without_token = await client.post("/console/sign-in/key", data={"api_key": "x"})
        assert without_token.status_code == 404


async def test_the_key_form_needs_its_csrf_token(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("csrf.example")
    await console.get("/console/sign-in")
    for extra in ({}, {"csrf_token": "forged"}):
        refused = await console.post(
            "/console/sign-in/key", data={"api_key": tenant.api_key, **extra}
        )
        assert refused.status_code == 403
        assert "did not come from the console" in refused.text
        assert "herald_console=" not in str(refused.headers.get_list("set-cookie"))
    assert (await console.get("/console")).status_code == 303


async def test_failed_keys_count_against_the_client_lock_out(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("locked.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    wrong_key = tenant.api_key[:-3] + "AAA"
    # 20 failures from one address lock it out: 16 wrong passwords (over four emails, so no
    # email reaches its own limit of five) and 4 wrong keys.
    for n in range(16):
        wrong = await sign_in(console, f"user{n % 4}@example.com", "not the password")
        assert wrong.status_code == 401
    for _ in range(4):
        assert (await key_sign_in(console, wrong_key)).status_code == 401
    locked = await key_sign_in(console, tenant.api_key)  # the right key, too late
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 900
    assert (await sign_in(console, "ops@example.com")).status_code == 429
    assert (await console.get("/console")).status_code == 303
