"""``/v1/smtp``: the settings an application types, and the AUTH lock-outs that only an
operator account's admin key may list and lift (they are per client address)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from herald_service.api.app import create_app
from herald_service.submission.lockout import Lockout
from herald_service.submission.schemas import smtp_settings
from support.fixtures import TEST_HOSTNAME
from support.harness import Herald, Tenant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def lockout(herald: Herald) -> AsyncIterator[Lockout]:
    """The lock-out the submission servers share, on the test Redis."""
    redis = Redis.from_url(herald.settings.redis_url)
    yield Lockout.from_settings(redis, herald.settings)
    await redis.aclose()


async def lock(lockout: Lockout, peer: str) -> None:
    """Fail AUTH from ``peer`` until it is locked out, as a guessing client would."""
    assert not await lockout.is_locked(peer)
    outcomes = [await lockout.record_failure(peer) for _ in range(5)]  # the default count
    assert outcomes == [False] * 4 + [True]
    assert await lockout.is_locked(peer)


async def test_settings_say_what_a_mailer_types(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    reader = await herald.create_tenant("read.example", scopes=("read",))
    answer = await api.get("/v1/smtp/settings", headers=reader.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["host"] == TEST_HOSTNAME
    assert (body["port"], body["tls_port"]) == (587, 465)
    assert body["security"] == "STARTTLS on port 587; TLS from the first byte on port 465"
    assert body["username"] == "apikey" and "any username" in body["username_note"]
    assert body["password"] == "an API key with the send scope"
    assert body["auth_methods"] == ["PLAIN", "LOGIN"]
    assert body["max_message_bytes"] == 25 * 1024 * 1024
    assert "X-Herald-Tags" in body["option_headers"]
    assert "X-Herald-Template-Data" in body["option_headers"]

    sender = await herald.create_tenant("send.example", scopes=("send",))
    assert (await api.get("/v1/smtp/settings", headers=sender.headers)).status_code == 403
    assert (await api.get("/v1/smtp/settings")).status_code == 401

    changed = msgspec.structs.replace(
        herald.settings,
        submission_public_host="smtp.herald.example",
        submission_port=2587,
        submission_tls_port=0,
    )
    custom = smtp_settings(changed)
    assert (custom.host, custom.port, custom.tls_port) == ("smtp.herald.example", 2587, None)
    assert custom.security == "STARTTLS on port 2587"


async def operator_app(herald: Herald, operator: Tenant) -> AsyncTestClient:  # type: ignore[type-arg]
    settings = msgspec.structs.replace(herald.settings, operator_accounts=(operator.account_id,))
    return AsyncTestClient(create_app(settings))


async def test_an_operator_lists_and_lifts_lockouts(herald: Herald, lockout: Lockout) -> None:
    operator = await herald.create_tenant("ops.example")
    await lock(lockout, "203.0.113.7")
    await lock(lockout, "2001:db8:1:2::99")
    async with await operator_app(herald, operator) as api:
        listed = await api.get("/v1/smtp/lockouts", headers=operator.headers)
        assert listed.status_code == 200, listed.text
        entries = {e["address"]: e for e in listed.json()["data"]}
        assert set(entries) == {"203.0.113.7", "2001:db8:1:2::/64"}
        duration = herald.settings.submission_lockout_duration
        for entry in entries.values():
            assert 0 < entry["expires_in"] <= duration
            assert entry["locked_at"] > 0

        gone = await api.delete("/v1/smtp/lockouts/203.0.113.7", headers=operator.headers)
        assert gone.status_code == 204, gone.text
        assert not await lockout.is_locked("203.0.113.7")
        assert await lockout.is_locked("2001:db8:1:2::1"), "the other lock stays"
        again = await api.delete("/v1/smtp/lockouts/203.0.113.7", headers=operator.headers)
        assert again.status_code == 404
        assert "not locked out" in again.json()["detail"]

        # An IPv6 /64 is lifted by naming any address in it.
        v6 = await api.delete("/v1/smtp/lockouts/2001:db8:1:2::", headers=operator.headers)
        assert v6.status_code == 204, v6.text
        assert not await lockout.is_locked("2001:db8:1:2::99")
        empty = await api.get("/v1/smtp/lockouts", headers=operator.headers)
        assert empty.json() == {"data": []}


async def test_other_tenants_and_lesser_keys_may_not_touch_lockouts(
    herald: Herald, lockout: Lockout
) -> None:
    operator = await herald.create_tenant("ops.example")
    tenant = await herald.create_tenant("tenant.example")
    await lock(lockout, "198.51.100.4")
    async with await operator_app(herald, operator) as api:
        created = await api.post(
            "/v1/api-keys", headers=operator.headers, json={"scopes": ["read", "send"]}
        )
        reader = {"Authorization": f"Bearer {created.json()['key']}"}
        # An admin key of a tenant that is not an operator account: 403, nothing shown.
        listed = await api.get("/v1/smtp/lockouts", headers=tenant.headers)
        assert listed.status_code == 403
        assert "HERALD_OPERATOR_ACCOUNTS" in listed.json()["detail"]
        assert "198.51.100.4" not in listed.text
        refused = await api.delete("/v1/smtp/lockouts/198.51.100.4", headers=tenant.headers)
        assert refused.status_code == 403
        assert await lockout.is_locked("198.51.100.4")
        # A key of the operator account without the admin scope: 403 too.
        assert (await api.get("/v1/smtp/lockouts", headers=reader)).status_code == 403
        lift = await api.delete("/v1/smtp/lockouts/198.51.100.4", headers=reader)
        assert lift.status_code == 403 and "'admin' scope" in lift.json()["detail"]
        assert (await api.get("/v1/smtp/lockouts")).status_code == 401
        assert await lockout.is_locked("198.51.100.4")
    # With no operator accounts configured, even the first account's admin key is refused.
    async with AsyncTestClient(create_app(herald.settings)) as plain:
        assert (await plain.get("/v1/smtp/lockouts", headers=operator.headers)).status_code == 403
