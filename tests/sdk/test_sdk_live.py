"""The SDK against a live ``herald api`` child process over real loopback HTTP.

Also the quota path for real: a key limited to one request per second gets a 429 with
``Retry-After`` from the server, and the SDK waits that long and succeeds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from loopback_http import FAST_RETRIES

from herald import AsyncHerald, Herald, KeyQuotas, NotFoundError, RateLimitError
from support.harness import Herald as HeraldHarness
from support.harness import Tenant
from support.processes import free_port, start, stop, wait_http_ok


@pytest.fixture
def live_url(settings_env: dict[str, str]) -> Iterator[str]:
    """``herald api`` on a free loopback port."""
    port = free_port()
    process = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


async def test_resources_over_http(herald: HeraldHarness, tenant: Tenant, live_url: str) -> None:
    with Herald(api_key=tenant.api_key, base_url=live_url) as client:
        sent = client.messages.send(
            from_="app@sender.example", to="ann@receiver.example", subject="Hi", text="Hello"
        )
        assert await herald.wait_queued([sent.id]) == [sent.id]
        assert client.messages.get(sent.id).recipients[0].email == "ann@receiver.example"
        assert b"Subject: Hi" in client.messages.raw(sent.id)
        assert [e.message_id for e in client.events.iter()] == [sent.id]
        assert [d.name for d in client.domains.list()] == ["sender.example"]
        checked = client.messages.check(
            from_="app@sender.example", to="ann@receiver.example", html='<img src="x.png">'
        )
        assert {(f.check, f.severity) for f in checked.errors()} == {("image_src", "error")}
        assert [e.message_id for e in client.events.iter()] == [sent.id]  # nothing new
        client.suppressions.add("gone@receiver.example")
        assert [s.email for s in client.suppressions.iter()] == ["gone@receiver.example"]
        with pytest.raises(NotFoundError) as caught:
            client.messages.get("msg_00000000000000000000000000")
        assert caught.value.problem.status == 404

    async with AsyncHerald(api_key=tenant.api_key, base_url=live_url) as async_client:
        message = await async_client.messages.get(sent.id)
        assert message.id == sent.id
        keys = await async_client.api_keys.list()
        assert tenant.key_id in {k.id for k in keys}


async def test_a_real_429_is_retried_after_its_retry_after(tenant: Tenant, live_url: str) -> None:
    with Herald(api_key=tenant.api_key, base_url=live_url) as admin:
        limited = admin.api_keys.create(["read"], quotas=KeyQuotas(requests_per_second=1, burst=1))
    assert limited.key
    with Herald(api_key=limited.key, base_url=live_url, retry_policy=FAST_RETRIES) as client:
        client.domains.list()
        with pytest.raises(RateLimitError) as caught:
            client.domains.list(max_retries=0)
        assert caught.value.status == 429
        assert caught.value.retry_after is not None and caught.value.retry_after >= 1

        started = time.monotonic()
        assert client.domains.list() == client.domains.list(max_retries=5)
        # The backoff is near zero, so waiting ~1 s can only be the server's Retry-After.
        assert time.monotonic() - started >= 0.9
