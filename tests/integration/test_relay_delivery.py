"""Delivery through a smarthost on loopback: AUTH, the three TLS modes, its replies, routes.

The relay is an aiosmtpd server with AUTH and a certificate from the test CA (which
``HERALD_TLS_CA_FILE`` makes Herald trust); it records who logged in for each message.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_service.core.relay_routes import parse_relay_routes
from simnet.fixtures import SMTPServerFactory
from simnet.smtp import SMTPServer
from simnet.tls import CertificateAuthority
from support.harness import Herald, Tenant

# What is tested here does not depend on the database.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RELAY_IP = "127.0.0.5"
USERS = {"herald": "correct horse"}


async def send(api: AsyncTestClient[Any], tenant: Tenant, *to: str) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": f"app@{tenant.domain}", "to": list(to), "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def attempts(api: AsyncTestClient[Any], tenant: Tenant, message_id: str) -> dict[str, Any]:
    """The last attempt of each recipient, by address."""
    response = await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {r["email"]: r["attempts"][-1] for r in response.json()["recipients"]}


async def use_relay(
    herald: Herald, relay: SMTPServer, ca: CertificateAuthority, **changes: object
) -> None:
    """Deliver everything through ``relay`` as user ``herald`` unless ``changes`` say not."""
    settings: dict[str, object] = {
        "delivery_mode": "relay",
        "relay_host": relay.host,
        "relay_port": relay.port,
        "relay_username": "herald",
        "relay_password": USERS["herald"],
        "relay_tls": "starttls",
        "tls_ca_file": str(ca.ca_file),
    }
    await herald.reconfigure(**(settings | changes))


async def test_authenticated_relay_over_verified_starttls(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(
        RELAY_IP, starttls=True, certificate=simnet_ca.issue("someone-else.example"), auth=USERS
    )
    await use_relay(herald, relay, simnet_ca)
    tenant = await herald.create_tenant()

    refused = await send(api, tenant, "ann@receiver.example")  # no MX is published anywhere
    await herald.drain_queue()
    assert await herald.recipients(refused) == {"ann@receiver.example": "deferred"}
    attempt = (await attempts(api, tenant, refused))["ann@receiver.example"]
    assert attempt["code"] is None and "not verified" in attempt["response"]
    assert relay.messages == []

    relay.certificate = simnet_ca.issue(RELAY_IP)
    first = await send(api, tenant, "bob@receiver.example", "cy@other.example")
    second = await send(api, tenant, "dee@receiver.example")
    for message_id in (first, second):
        assert set((await herald.settle(message_id)).values()) == {"delivered"}
    assert sorted((m.rcpt_tos, m.auth_user, m.tls) for m in relay.wait_for(3)) == [
        (["bob@receiver.example"], "herald", True),
        (["cy@other.example"], "herald", True),
        (["dee@receiver.example"], "herald", True),
    ]
    attempt = (await attempts(api, tenant, first))["cy@other.example"]
    assert (attempt["mx"], attempt["code"]) == (RELAY_IP, 250)
    assert attempt["tls"].startswith("TLSv1")


async def test_authenticated_relay_over_implicit_tls(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(
        RELAY_IP, implicit_tls=True, certificate=simnet_ca.issue(RELAY_IP), auth=USERS
    )
    await use_relay(herald, relay, simnet_ca, relay_tls="implicit")
    tenant = await herald.create_tenant()
    message_id = await send(api, tenant, "ann@receiver.example")
    assert await herald.settle(message_id) == {"ann@receiver.example": "delivered"}
    [received] = relay.wait_for(1)
    assert (received.auth_user, received.tls, received.rcpt_tos) == (
        "herald",
        True,
        ["ann@receiver.example"],
    )
    assert received.parse()["Subject"] == "Hi"
    attempt = (await attempts(api, tenant, message_id))["ann@receiver.example"]
    assert attempt["mx"] == RELAY_IP and attempt["tls"].startswith("TLSv1")


async def test_wrong_password_defers_with_the_reason_then_delivers_once_fixed(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(
        RELAY_IP, starttls=True, certificate=simnet_ca.issue(RELAY_IP), auth=USERS
    )
    await use_relay(herald, relay, simnet_ca, relay_password="wrong", retry_schedule=(0.2,))
    tenant = await herald.create_tenant()
    message_id = await send(api, tenant, "ann@receiver.example", "bob@other.example")
    await herald.drain_queue()

    assert await herald.recipients(message_id) == {
        "ann@receiver.example": "deferred",
        "bob@other.example": "deferred",
    }
    for attempt in (await attempts(api, tenant, message_id)).values():
        assert attempt["code"] is None and attempt["mx"] == RELAY_IP
        assert attempt["response"].startswith(f"relay authentication failed at {RELAY_IP}: 535")
        assert "wrong" not in attempt["response"]
    assert relay.messages == []

    await use_relay(herald, relay, simnet_ca, retry_schedule=(0.2,))
    assert set((await herald.settle(message_id)).values()) == {"delivered"}
    assert sorted(r for m in relay.wait_for(2) for r in m.rcpt_tos) == [
        "ann@receiver.example",
        "bob@other.example",
    ]


async def test_relay_demanding_credentials_defers_instead_of_bouncing(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(RELAY_IP, starttls=True, certificate=simnet_ca.issue(RELAY_IP))
    relay.reject("mail", (530, "5.7.0 Authentication required"))
    await use_relay(herald, relay, simnet_ca, relay_username="", relay_password="")
    tenant = await herald.create_tenant()
    message_id = await send(api, tenant, "ann@receiver.example")
    await herald.drain_queue()

    assert await herald.recipients(message_id) == {"ann@receiver.example": "deferred"}
    attempt = (await attempts(api, tenant, message_id))["ann@receiver.example"]
    assert (attempt["code"], attempt["enhanced_code"]) == (530, "5.7.0")


async def test_relay_refusals_bounce_and_its_temporary_failures_defer(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(
        RELAY_IP, starttls=True, certificate=simnet_ca.issue(RELAY_IP), auth=USERS
    )
    relay.reject("rcpt", (550, "5.1.1 No such user here"), rcpt="gone@receiver.example")
    relay.defer("rcpt", rcpt="later@receiver.example")
    await use_relay(herald, relay, simnet_ca)
    tenant = await herald.create_tenant()
    to = ("gone@receiver.example", "later@receiver.example", "here@receiver.example")
    message_id = await send(api, tenant, *to)
    await herald.drain_queue()

    assert await herald.recipients(message_id) == {
        "gone@receiver.example": "bounced",
        "later@receiver.example": "deferred",
        "here@receiver.example": "delivered",
    }
    tried = await attempts(api, tenant, message_id)
    assert [(tried[e]["mx"], tried[e]["code"], tried[e]["enhanced_code"]) for e in to] == [
        (RELAY_IP, 550, "5.1.1"),
        (RELAY_IP, 451, "4.3.0"),
        (RELAY_IP, 250, "2.0.0"),
    ]


async def test_opportunistic_relay_without_starttls_sends_in_clear_only_when_allowed(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(RELAY_IP, auth=USERS)  # offers AUTH but no STARTTLS
    await use_relay(herald, relay, simnet_ca)  # starttls: required, so nothing goes
    tenant = await herald.create_tenant()
    first = await send(api, tenant, "ann@receiver.example")
    await herald.drain_queue()
    assert await herald.recipients(first) == {"ann@receiver.example": "deferred"}
    attempt = (await attempts(api, tenant, first))["ann@receiver.example"]
    assert attempt["response"] == f"{RELAY_IP} does not offer STARTTLS"

    await use_relay(herald, relay, simnet_ca, relay_tls="opportunistic", relay_insecure_auth=True)
    second = await send(api, tenant, "bob@receiver.example")
    assert await herald.settle(second) == {"bob@receiver.example": "delivered"}
    [received] = relay.wait_for(1)
    assert (received.rcpt_tos, received.auth_user, received.tls) == (
        ["bob@receiver.example"],
        "herald",
        False,
    )


async def test_routes_send_chosen_domains_through_the_relay_and_the_rest_to_mx(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    relay = smtp_server_factory(
        RELAY_IP, starttls=True, certificate=simnet_ca.issue(RELAY_IP), auth=USERS
    )
    mx = smtp_server_factory("127.0.0.2")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    herald.add_mx("blocked.example", (10, "mx.blocked.example", "127.0.0.3"))  # never reached
    routes = parse_relay_routes("recipient:blocked.example, sender:corp.example")
    await use_relay(herald, relay, simnet_ca, delivery_mode="mx", relay_routes=routes)
    tenant = await herald.create_tenant()
    corp = await herald.create_tenant("corp.example")

    direct = await send(api, tenant, "ann@receiver.example", "bob@blocked.example")
    relayed = await send(api, corp, "cy@receiver.example")
    assert set((await herald.settle(direct)).values()) == {"delivered"}
    assert set((await herald.settle(relayed)).values()) == {"delivered"}

    assert [m.rcpt_tos for m in mx.wait_for(1)] == [["ann@receiver.example"]]
    assert sorted((m.rcpt_tos[0], m.auth_user) for m in relay.wait_for(2)) == [
        ("bob@blocked.example", "herald"),
        ("cy@receiver.example", "herald"),
    ]
    tried = await attempts(api, tenant, direct)
    assert tried["ann@receiver.example"]["mx"] == "mx.receiver.example"
    assert tried["bob@blocked.example"]["mx"] == RELAY_IP
