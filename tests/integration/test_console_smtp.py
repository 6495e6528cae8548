"""The console's SMTP page: every member sees the settings and the account's send keys;
only members of an operator account see the lock-outs, and only their admins lift one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from herald_service.api.app import create_app
from herald_service.submission.lockout import Lockout
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald, Tenant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ADDRESS = "192.0.2.77"


@pytest.fixture
async def operator(herald: Herald) -> Tenant:
    return await herald.create_tenant("ops.example")


@pytest.fixture
async def console(herald: Herald, operator: Tenant) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    settings = msgspec.structs.replace(herald.settings, operator_accounts=(operator.account_id,))
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        yield client


@pytest.fixture
async def lockout(herald: Herald) -> AsyncIterator[Lockout]:
    redis = Redis.from_url(herald.settings.redis_url)
    lockout = Lockout.from_settings(redis, herald.settings)
    for _ in range(herald.settings.submission_lockout_failures):
        await lockout.record_failure(ADDRESS)
    assert await lockout.is_locked(ADDRESS)
    yield lockout
    await redis.aclose()


async def test_a_tenant_sees_settings_and_keys_but_no_lockouts(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    lockout: Lockout,
) -> None:
    tenant = await herald.create_tenant("tenant.example")
    await add_user(herald.settings.database_url, "t@example.com", "admin", tenant.account_id)
    await sign_in(console, "t@example.com")
    page = await console.get("/console/smtp")
    assert page.status_code == 200, page.text
    assert '<a href="/console/smtp" aria-current="page">SMTP</a>' in page.text
    assert "mta.herald.example" in page.text and f'data-key-id="{tenant.key_id}"' in page.text
    assert ADDRESS not in page.text and "only the operators of this server" in page.text
    refused = await console.post(
        "/console/smtp/unlock", data={"csrf_token": csrf_of(page.text), "address": ADDRESS}
    )
    assert refused.status_code == 403
    assert await lockout.is_locked(ADDRESS)


async def test_operator_viewers_look_and_admins_unlock(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    operator: Tenant,
    lockout: Lockout,
) -> None:
    await add_user(herald.settings.database_url, "v@example.com", "viewer", operator.account_id)
    await sign_in(console, "v@example.com")
    page = await console.get("/console/smtp")
    assert f'data-address="{ADDRESS}"' in page.text and "Unlock" not in page.text
    refused = await console.post(
        "/console/smtp/unlock", data={"csrf_token": csrf_of(page.text), "address": ADDRESS}
    )
    assert refused.status_code == 403 and await lockout.is_locked(ADDRESS)

    console.cookies.clear()
    await add_user(herald.settings.database_url, "a@example.com", "admin", operator.account_id)
    await sign_in(console, "a@example.com")
    page = await console.get("/console/smtp")
    csrf = csrf_of(page.text)
    forged = await console.post("/console/smtp/unlock", data={"address": ADDRESS})
    assert forged.status_code == 403 and await lockout.is_locked(ADDRESS)
    form = {"csrf_token": csrf, "address": ADDRESS}
    done = await console.post("/console/smtp/unlock", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/console/smtp?done=unlocked"
    assert not await lockout.is_locked(ADDRESS)
    again = await console.post("/console/smtp/unlock", data=form)
    assert again.status_code == 404
