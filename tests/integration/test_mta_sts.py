"""MTA-STS enforcement: verified TLS to a listed MX, or the mail waits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from simnet.tls import CertificateAuthority
from support.harness import Herald, Tenant
from support.policy_server import PolicyServer

POLICY = "version: STSv1\nmode: enforce\nmx: mx.secure.example\nmx: *.alt.example\nmax_age: 86400\n"


@pytest.fixture
def policy_server(simnet_ca: CertificateAuthority) -> Iterator[PolicyServer]:
    certificate = simnet_ca.issue("mta-sts.secure.example")
    with PolicyServer("127.0.0.7", certificate) as server:
        server.policies["mta-sts.secure.example"] = POLICY
        yield server


async def _setup(
    herald: Herald, simnet_ca: CertificateAuthority, policy_server: PolicyServer
) -> Tenant:
    await herald.reconfigure(tls_ca_file=str(simnet_ca.ca_file), mta_sts_port=policy_server.port)
    herald.dns.add_txt("_mta-sts.secure.example", "v=STSv1; id=20261126")
    herald.dns.add_a("mta-sts.secure.example", "127.0.0.7")
    herald.add_mx("secure.example", (10, "mx.secure.example", "127.0.0.2"))
    return await herald.create_tenant()


async def _send(api: AsyncTestClient[Any], tenant: Tenant) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": "app@sender.example", "to": "ann@secure.example", "text": "hi"},
    )
    return str(response.json()["id"])


async def test_bad_certificate_defers_and_nothing_goes_in_clear(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
    policy_server: PolicyServer,
) -> None:
    tenant = await _setup(herald, simnet_ca, policy_server)
    mx = smtp_server_factory(
        "127.0.0.2", starttls=True, certificate=simnet_ca.issue("someone-else.example")
    )
    message_id = await _send(api, tenant)
    await herald.drain_queue()
    assert await herald.recipients(message_id) == {"ann@secure.example": "deferred"}
    assert mx.messages == []
    body = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    (attempt,) = body["recipients"][0]["attempts"]
    assert "not verified" in attempt["response"]
    assert policy_server.requests == ["mta-sts.secure.example"]


async def test_no_starttls_defers(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
    policy_server: PolicyServer,
) -> None:
    tenant = await _setup(herald, simnet_ca, policy_server)
    mx = smtp_server_factory("127.0.0.2")
    message_id = await _send(api, tenant)
    await herald.drain_queue()
    assert await herald.recipients(message_id) == {"ann@secure.example": "deferred"}
    assert mx.messages == []


async def test_mx_not_in_policy_defers(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
    policy_server: PolicyServer,
) -> None:
    tenant = await _setup(herald, simnet_ca, policy_server)
    herald.dns.remove("secure.example", "MX")
    herald.add_mx("secure.example", (10, "mx.attacker.example", "127.0.0.3"))
    rogue = smtp_server_factory(
        "127.0.0.3", starttls=True, certificate=simnet_ca.issue("mx.attacker.example")
    )
    message_id = await _send(api, tenant)
    await herald.drain_queue()
    assert await herald.recipients(message_id) == {"ann@secure.example": "deferred"}
    assert rogue.connections == 0


async def test_verified_tls_to_listed_mx_delivers_and_policy_is_cached(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
    policy_server: PolicyServer,
) -> None:
    tenant = await _setup(herald, simnet_ca, policy_server)
    mx = smtp_server_factory(
        "127.0.0.2", starttls=True, certificate=simnet_ca.issue("mx.secure.example")
    )
    first = await _send(api, tenant)
    herald.flush_enqueues()  # a job each: the second delivery finds the policy cached
    second = await _send(api, tenant)
    await herald.drain_queue()
    assert await herald.recipients(first) == {"ann@secure.example": "delivered"}
    assert await herald.recipients(second) == {"ann@secure.example": "delivered"}
    assert all(m.tls for m in mx.messages)
    body = (await api.get(f"/v1/messages/{first}", headers=tenant.headers)).json()
    assert body["recipients"][0]["attempts"][0]["tls_verified"] is True
    assert policy_server.requests == ["mta-sts.secure.example"]
