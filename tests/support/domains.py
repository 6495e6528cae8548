"""Helpers for domain tests: create and verify through the API, publish records in the DNS."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from simnet.dns import DNSServer

from .harness import Tenant

SENDING_IPS = ("127.0.0.9", "127.0.0.10")


def publish(dns: DNSServer, domain: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
    """Publish the domain's records as an operator would (PTRs with matching A records)."""
    for record in domain["records"]:
        if record["purpose"] in skip:
            continue
        if record["type"] == "TXT":
            dns.add_txt(record["host"], record["value"])
        elif record["type"] == "MX":
            preference, host = record["value"].split()
            dns.add_mx(record["host"], [(int(preference), host)])
    for ip in SENDING_IPS:
        if "ptr" not in skip:
            dns.add_ptr(ip, f"out-{ip.replace('.', '-')}.herald.example")
            dns.add_a(f"out-{ip.replace('.', '-')}.herald.example", ip)


def by_purpose(domain: dict[str, Any], purpose: str) -> list[dict[str, Any]]:
    return [r for r in domain["records"] if r["purpose"] == purpose]


async def create(api: AsyncTestClient, tenant: Tenant, name: str, **extra: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    response = await api.post("/v1/domains", headers=tenant.headers, json={"name": name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def verify(api: AsyncTestClient, tenant: Tenant, domain_id: str) -> dict[str, Any]:  # type: ignore[type-arg]
    response = await api.post(f"/v1/domains/{domain_id}/verify", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
