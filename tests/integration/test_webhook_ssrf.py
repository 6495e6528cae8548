"""SSRF safety: forbidden addresses refused at creation and at delivery (DNS rebinding)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient

from support.harness import Herald
from support.webhooks import WebhookReceiver, drain_webhooks

REFUSED_URLS = [
    "http://127.0.0.1/hooks",
    "http://10.0.0.1/hooks",
    "http://172.16.5.4/hooks",
    "http://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hooks",
    "http://224.0.0.1/hooks",
    "http://240.0.0.1/hooks",
    "http://0.0.0.0/hooks",
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://[::ffff:169.254.169.254]/hooks",
    "http://[fe80::1]/hooks",
    "http://[fc00::1]/hooks",
    "http://[2002:a00:1::1]/hooks",
    "http://[64:ff9b::a9fe:a9fe]/hooks",
    "http://private.hooks.example/hooks",
    "http://mixed.hooks.example/hooks",
    "http://localhost.hooks.example/hooks",
]


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Only 127.0.0.2 is allowed: everything else on loopback stays forbidden."""
    return {**settings_env, "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.2/32"}


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    allowed = WebhookReceiver("127.0.0.2")
    forbidden = WebhookReceiver("127.0.0.1", allowed.port)
    yield allowed, forbidden
    allowed.stop()
    forbidden.stop()


async def test_forbidden_destinations_are_refused_at_creation(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.dns.add_a("private.hooks.example", "10.1.2.3")
    herald.dns.add_a("mixed.hooks.example", "93.184.216.34")
    herald.dns.add_aaaa("mixed.hooks.example", "::1")
    herald.dns.add_a("localhost.hooks.example", "127.0.0.1")
    for url in REFUSED_URLS:
        response = await api.post("/v1/webhooks", headers=tenant.headers, json={"url": url})
        assert response.status_code == 422, (url, response.text)
        problem = response.json()
        assert problem["errors"][0]["field"] == "url"
        assert "not allowed" in problem["detail"], problem
    listed = await api.get("/v1/webhooks", headers=tenant.headers)
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "https://"),
        ("http:///nohost", "no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://nxdomain.hooks.example/", "does not resolve"),
    ],
)
async def test_malformed_urls_are_refused(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    url: str,
    message: str,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    response = await api.post("/v1/webhooks", headers=tenant.headers, json={"url": url})
    assert response.status_code == 422
    assert message in response.json()["errors"][0]["message"]


async def test_connection_goes_to_the_checked_address_and_rebinding_is_refused(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    allowed, forbidden = receivers
    tenant = await herald.create_tenant("sender.example")
    herald.dns.add_a("hooks.customer.example", "127.0.0.2")
    url = allowed.url("/in", host="hooks.customer.example")
    created = await api.post("/v1/webhooks", headers=tenant.headers, json={"url": url})
    assert created.status_code == 201, created.text
    hook = created.json()

    # The name is not in /etc/hosts: reaching the receiver proves Herald connected to the
    # address it resolved and checked, presenting the name in the Host header.
    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald) == 1
    (request,) = allowed.requests
    assert request.headers["host"] == f"hooks.customer.example:{allowed.port}"

    # DNS rebinding: the name now points at a forbidden address.
    herald.dns.remove("hooks.customer.example", "A")
    herald.dns.add_a("hooks.customer.example", "127.0.0.1")
    await api.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert await drain_webhooks(herald) == 1
    assert forbidden.requests == []
    assert len(allowed.requests) == 1
    deliveries = (
        await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    latest = deliveries[0]
    assert latest["status"] == "pending"
    (attempt,) = latest["attempts"]
    assert attempt["status_code"] is None
    assert "127.0.0.1 is loopback" in attempt["error"]

    # Changing the URL to a forbidden one is refused as well.
    patched = await api.patch(
        f"/v1/webhooks/{hook['id']}",
        headers=tenant.headers,
        json={"url": forbidden.url()},
    )
    assert patched.status_code == 422
