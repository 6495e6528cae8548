"""Blocklist monitoring end to end: the test DNS server serves a DNSBL zone; a check
records a listing, tells the operator's webhook, takes the IP out of rotation; a
delisting brings it back; a refused query (127.255.255.254) is no listing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from herald_queue.blocklist_checker import Rotation, check_and_rotate, check_blocklists
from herald_service.blocklists.service import check_round, listed_addresses, listings
from herald_service.dns import make_resolver
from herald_service.settings import Settings
from herald_service.storage.types import utcnow
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald
from support.processes import herald_json
from support.webhooks import WebhookReceiver, drain_webhooks

ZONE = "zen.test"
LISTED_NAME = "11.0.0.127.zen.test"
CLEAN_NAME = "10.0.0.127.zen.test"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Two sending IPs, one DNSBL zone, loopback webhooks."""
    return {
        **settings_env,
        "HERALD_SENDING_IPS": "127.0.0.10,127.0.0.11",
        "HERALD_DNSBL_ZONES": ZONE,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_RETRY_SCHEDULE": "0s,0s,0s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def check(herald: Herald, settings: Settings, *, force: bool = True) -> dict[str, Any]:
    """One round; each asked IP's (status, event)."""
    resolver = make_resolver(settings, cache=False)
    results = await check_round(herald.runtime.sessions, settings, resolver, utcnow(), force=force)
    return {r.ip: (r.status.value, r.event.value if r.event else None) for r in results}


async def out_of_rotation(herald: Herald, settings: Settings) -> frozenset[str]:
    async with herald.runtime.sessions() as session:
        return await listed_addresses(session, settings)


async def test_listing_fires_ip_listed_and_takes_the_ip_out_until_delisted(
    herald: Herald,
    api: AsyncTestClient[Any],
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="herald.blocklists")
    operator = await herald.create_tenant("operator.example")
    other = await herald.create_tenant("tenant.example")
    for tenant in (operator, other):
        hook = await api.post(
            "/v1/webhooks",
            headers=tenant.headers,
            json={
                "url": receiver.url(f"/{tenant.domain}"),
                "event_types": ["ip.listed", "ip.delisted"],
            },
        )
        assert hook.status_code == 201, hook.text
    settings = msgspec.structs.replace(herald.settings, operator_accounts=(operator.account_id,))
    herald.dns.add_a(LISTED_NAME, "127.0.0.11")

    assert await check(herald, settings) == {
        "127.0.0.10": ("clear", None),
        "127.0.0.11": ("listed", "ip.listed"),
    }
    assert await out_of_rotation(herald, settings) == {"127.0.0.11"}
    [line] = [r for r in caplog.records if r.name == "herald.blocklists"]
    assert line.levelno == logging.WARNING
    assert line.getMessage() == "ip.listed 127.0.0.11 on zen.test: 127.0.0.11 listed on zen.test"
    # Within the interval nothing is due: workers do not ask again.
    assert await check(herald, settings, force=False) == {}

    assert await drain_webhooks(herald) == 1  # the operator's endpoint only
    request = receiver.requests[0]
    assert request.path == "/operator.example"
    body = json.loads(request.body)
    assert body["type"] == "ip.listed"
    assert body["data"]["ip"] == "127.0.0.11"
    assert body["data"]["zone"] == ZONE
    assert body["data"]["answer"] == "127.0.0.11"
    assert body["data"]["out_of_rotation"] is True

    response = await api.get("/v1/ip-listings", headers=operator.headers)
    assert response.status_code == 200, response.text
    views = {ip["ip"]: ip for ip in response.json()["data"]}
    assert views["127.0.0.11"]["listed"] is True and views["127.0.0.11"]["in_rotation"] is False
    listing = views["127.0.0.11"]["zones"][0]
    assert (listing["zone"], listing["status"], listing["answer"]) == (ZONE, "listed", "127.0.0.11")
    assert listing["listed_since"] is not None
    assert views["127.0.0.10"]["zones"][0]["status"] == "clear"
    assert views["127.0.0.10"]["in_rotation"] is True
    metrics = (await api.get("/metrics")).text
    assert 'herald_ip_listed{ip="127.0.0.11",zone="zen.test"} 1.0' in metrics
    assert 'herald_ip_listed{ip="127.0.0.10",zone="zen.test"} 0.0' in metrics

    # A zone answering "query refused" proves nothing: no listing, no event.
    herald.dns.add_a(CLEAN_NAME, "127.255.255.254")
    herald.dns.remove(LISTED_NAME)
    assert await check(herald, settings) == {
        "127.0.0.10": ("clear", None),
        "127.0.0.11": ("clear", "ip.delisted"),
    }
    assert await out_of_rotation(herald, settings) == frozenset()
    assert await drain_webhooks(herald) == 1
    delisted = json.loads(receiver.requests[1].body)
    assert (delisted["type"], delisted["data"]["ip"]) == ("ip.delisted", "127.0.0.11")
    assert delisted["data"]["listed_since"] == body["data"]["listed_since"]
    assert delisted["data"]["out_of_rotation"] is False
    messages = [r.getMessage() for r in caplog.records if r.name == "herald.blocklists"]
    assert messages[-1] == "ip.delisted 127.0.0.11 on zen.test: no record"

    views = {
        ip["ip"]: ip
        for ip in (await api.get("/v1/ip-listings", headers=operator.headers)).json()["data"]
    }
    refused = views["127.0.0.10"]["zones"][0]
    assert refused["status"] == "clear"
    assert "refused the query" in refused["error"]
    assert views["127.0.0.11"]["zones"][0]["listed_since"] is None
    metrics = (await api.get("/metrics")).text
    assert 'herald_ip_listed{ip="127.0.0.11",zone="zen.test"} 0.0' in metrics


async def test_mail_leaves_only_from_the_ips_in_rotation(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    server = smtp_server_factory("127.0.0.2")
    assert herald.runtime.source_ips is not None
    rotation = Rotation()  # as the workers' blocklist duty wires it
    herald.runtime.source_ips.excluded = rotation

    async def sources(count: int) -> set[str]:
        before = len(server.messages)
        for i in range(count):
            response = await api.post(
                "/v1/messages",
                headers=tenant.headers,
                json={
                    "from": f"app@{tenant.domain}",
                    "to": [f"u{i}@receiver.example"],
                    "subject": "Hi",
                    "text": "Hello",
                },
            )
            assert response.status_code == 202, response.text
            await herald.settle(response.json()["id"])
        return {m.peer[0] for m in server.messages[before:]}

    assert await sources(4) == {"127.0.0.10", "127.0.0.11"}  # both rotate while clear
    herald.dns.add_a(LISTED_NAME, "127.0.0.2")
    assert await check_and_rotate(herald.runtime.sessions, herald.settings, rotation) == 2
    assert rotation() == {"127.0.0.11"}
    assert await sources(4) == {"127.0.0.10"}
    pools = (await api.get("/v1/ip-pools", headers=tenant.headers)).json()["data"]
    shown = {ip["address"]: ip for pool in pools for ip in pool["ips"]}
    assert (shown["127.0.0.11"]["listed_on"], shown["127.0.0.11"]["in_rotation"]) == ([ZONE], False)
    assert (shown["127.0.0.10"]["listed_on"], shown["127.0.0.10"]["in_rotation"]) == ([], True)
    herald.dns.remove(LISTED_NAME)
    await check(herald, herald.settings)
    await rotation.refresh(herald.runtime.sessions, herald.settings)
    assert await sources(4) == {"127.0.0.10", "127.0.0.11"}


async def test_a_refused_query_is_no_listing_and_listed_ips_may_stay_in_rotation(
    herald: Herald,
) -> None:
    herald.dns.add_a(CLEAN_NAME, "127.255.255.254")
    herald.dns.add_a(LISTED_NAME, "127.0.0.2")
    settings = msgspec.structs.replace(herald.settings, dnsbl_remove_listed=False)
    assert await check_blocklists(herald.runtime.sessions, settings) == 2  # the workers' duty
    assert await check_blocklists(herald.runtime.sessions, settings) == 0  # not due again yet
    async with herald.runtime.sessions() as session:
        shown = await listings(session, settings)
    standing = {ip.ip: (ip.zones[0].status, ip.listed, ip.in_rotation) for ip in shown.data}
    assert standing == {
        "127.0.0.10": ("unknown", False, True),
        "127.0.0.11": ("listed", True, True),
    }
    assert "refused the query" in shown.data[0].zones[0].error
    assert await out_of_rotation(herald, settings) == frozenset()


def test_ips_check_command_runs_a_round_now(herald: Herald, settings_env: dict[str, str]) -> None:
    herald.dns.add_a(LISTED_NAME, "127.0.0.2")
    result = herald_json(settings_env, "ips", "check")
    found = {(r["ip"], r["zone"]): (r["status"], r["event"]) for r in result["data"]}
    assert found == {
        ("127.0.0.10", ZONE): ("clear", None),
        ("127.0.0.11", ZONE): ("listed", "ip.listed"),
    }


async def test_listings_take_an_admin_key(herald: Herald, api: AsyncTestClient[Any]) -> None:
    reader = await herald.create_tenant("reader.example", scopes=("send", "read"))
    response = await api.get("/v1/ip-listings", headers=reader.headers)
    assert response.status_code == 403, response.text
    assert "admin" in response.json()["detail"]
