"""Console sign-in: sessions in cookies, CSRF on every form, lock-out, security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.console.web import CONTENT_SECURITY_POLICY
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app over http://localhost, as a developer's browser reaches ``herald dev``."""
    app = create_app(herald.settings)
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        yield client


async def test_sign_in_session_and_sign_out(herald: Herald, console: AsyncTestClient) -> None:  # type: ignore[type-arg]
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)

    anonymous = await console.get("/console")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/console/sign-in?next=/console"
    assert anonymous.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    form = await console.get("/console/sign-in")
    assert form.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert form.headers["x-content-type-options"] == "nosniff"
    assert form.headers["referrer-policy"] == "same-origin"
    assert form.headers["cache-control"] == "no-store"
    assert '<label for="email">' in form.text and '<label for="password">' in form.text

    signed_in = await sign_in(console, "OPS@example.com")
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/console"
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith("herald_console=")
    )
    assert (
        "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/console" in cookie
    )
    assert "Secure" not in cookie  # plain HTTP to localhost

    home = await console.get("/console")
    assert home.status_code == 200
    assert "ops@example.com" in home.text and "Activity" in home.text

    out = await console.post("/console/sign-out", data={"csrf_token": csrf_of(home.text)})
    assert out.status_code == 303
    assert (await console.get("/console")).status_code == 303


async def test_cookie_is_secure_off_localhost(herald: Herald) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    app = create_app(herald.settings)
    async with AsyncTestClient(app, base_url="https://console.example") as client:
        client.follow_redirects = False
        signed_in = await sign_in(client, "ops@example.com")
    assert signed_in.status_code == 303
    cookies = signed_in.headers.get_list("set-cookie")
    assert any(c.startswith("herald_console=") and "Secure" in c for c in cookies)


async def test_posts_without_csrf_token_are_refused(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await console.get("/console/sign-in")
    no_token = await console.post(
        "/console/sign-in",
        data={"email": "ops@example.com", "password": "correct horse battery staple"},
    )
    assert no_token.status_code == 403
    assert "did not come from the console" in no_token.text
    assert "herald_console=" not in str(no_token.headers.get_list("set-cookie"))

    assert (await sign_in(console, "ops@example.com")).status_code == 303
    for data in ({}, {"csrf_token": "forged"}):
        refused = await console.post("/console/sign-out", data=data)
        assert refused.status_code == 403
        assert refused.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert (await console.get("/console")).status_code == 200  # still signed in


async def test_wrong_passwords_lock_the_email_out(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    unknown = await sign_in(console, "nobody@example.com", "whatever it is")
    wrong = await sign_in(console, "ops@example.com", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong email or password." in unknown.text and "Wrong email or password." in wrong.text
    for _ in range(4):
        assert (await sign_in(console, "ops@example.com", "still wrong")).status_code == 401
    locked = await sign_in(console, "ops@example.com")  # the right password, too late
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 900
    # Another email from the same client is not locked by these five.
    other = await sign_in(console, "nobody@example.com", "whatever it is")
    assert other.status_code == 401


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("https://evil.example/", "/console"),
        ("//evil.example/console", "/console"),
        ("/\\evil.example", "/console"),
        ("/consoleevil", "/console"),
        ("/console/activity/rows?status=queued", "/console/activity/rows?status=queued"),
    ],
)
async def test_next_only_leads_into_the_console(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    next_path: str,
    location: str,
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    signed_in = await sign_in(console, "ops@example.com", next=next_path)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == location
