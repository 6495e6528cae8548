"""How often the MTA-STS TXT record is read: once per domain per recheck period, not per
message; failures are not remembered; a changed id is seen once the period is over."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald_queue.mta_sts import MtaStsPolicies
from herald_queue.smtp import verified_tls_context
from herald_service.dns import make_resolver
from herald_service.settings import load_settings
from simnet.dns import DNSServer
from simnet.tls import CertificateAuthority
from support.clock import FakeClock
from support.policy_server import PolicyServer

DOMAIN = "secure.example"
TXT_NAME = f"_mta-sts.{DOMAIN}"
POLICY = "version: STSv1\nmode: enforce\nmx: mx.secure.example\nmax_age: 86400\n"


@pytest.fixture
def policy_server(simnet_ca: CertificateAuthority) -> Iterator[PolicyServer]:
    with PolicyServer("127.0.0.7", simnet_ca.issue(f"mta-sts.{DOMAIN}")) as server:
        server.policies[f"mta-sts.{DOMAIN}"] = POLICY
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def policies(
    dns_server: DNSServer,
    simnet_ca: CertificateAuthority,
    policy_server: PolicyServer,
    clock: FakeClock,
) -> MtaStsPolicies:
    environ = {"HERALD_DNS_NAMESERVERS": dns_server.address}
    settings = load_settings(environ, env_file=Path("/nonexistent"))
    # No resolver cache: every TXT read the policies make reaches the DNS server.
    resolver = make_resolver(settings, cache=False)
    context = verified_tls_context(str(simnet_ca.ca_file))
    return MtaStsPolicies(resolver, context, port=policy_server.port, clock=clock, recheck=60.0)


def _publish(dns_server: DNSServer, policy_id: str) -> None:
    """The TXT record announcing ``policy_id`` and the policy host's address."""
    dns_server.add_txt(TXT_NAME, f"v=STSv1; id={policy_id}")
    dns_server.add_a(f"mta-sts.{DOMAIN}", "127.0.0.7")


def _txt_queries(dns_server: DNSServer) -> int:
    return sum(1 for name, rtype in dns_server.queries if name == TXT_NAME and rtype == "TXT")


async def test_txt_record_is_read_once_per_recheck_period(
    dns_server: DNSServer, policy_server: PolicyServer, policies: MtaStsPolicies, clock: FakeClock
) -> None:
    _publish(dns_server, "one")

    for _ in range(5):
        policy = await policies.policy(DOMAIN)
        assert policy is not None and policy.enforced and policy.id == "one"
    assert _txt_queries(dns_server) == 1
    assert policy_server.requests == [f"mta-sts.{DOMAIN}"]

    # A new id is published: seen once the period is over, and the policy fetched again.
    dns_server.remove(TXT_NAME, "TXT")
    dns_server.add_txt(TXT_NAME, "v=STSv1; id=two")
    clock.advance(59)
    assert (await policies.policy(DOMAIN)).id == "one"  # type: ignore[union-attr]
    clock.advance(2)
    assert (await policies.policy(DOMAIN)).id == "two"  # type: ignore[union-attr]
    assert _txt_queries(dns_server) == 2
    assert len(policy_server.requests) == 2


async def test_absence_is_remembered_for_the_period(
    dns_server: DNSServer, policies: MtaStsPolicies, clock: FakeClock
) -> None:
    assert await policies.policy(DOMAIN) is None
    assert await policies.policy(DOMAIN) is None
    assert _txt_queries(dns_server) == 1

    # A policy published later takes effect after at most one period.
    _publish(dns_server, "new")
    assert await policies.policy(DOMAIN) is None
    clock.advance(61)
    policy = await policies.policy(DOMAIN)
    assert policy is not None and policy.enforced


async def test_dns_failure_keeps_the_policy_and_is_not_remembered(
    dns_server: DNSServer, policies: MtaStsPolicies, clock: FakeClock
) -> None:
    _publish(dns_server, "one")
    assert (await policies.policy(DOMAIN)) is not None

    # The period is over and the TXT lookup now fails: the cached policy stays in force
    # (RFC 8461 §5.1), and each later message asks DNS again instead of trusting a failure.
    clock.advance(61)
    dns_server.set_servfail(TXT_NAME)
    before = _txt_queries(dns_server)
    for _ in range(2):
        policy = await policies.policy(DOMAIN)
        assert policy is not None and policy.enforced and policy.id == "one"
    assert _txt_queries(dns_server) >= before + 2


async def test_concurrent_deliveries_share_one_lookup_and_fetch(
    dns_server: DNSServer, policy_server: PolicyServer, policies: MtaStsPolicies
) -> None:
    _publish(dns_server, "one")
    found = await asyncio.gather(*(policies.policy(DOMAIN) for _ in range(20)))
    assert all(p is not None and p.id == "one" for p in found)
    assert _txt_queries(dns_server) == 1
    assert policy_server.requests == [f"mta-sts.{DOMAIN}"]


async def test_a_cancelled_caller_does_not_cancel_the_others(
    dns_server: DNSServer, policies: MtaStsPolicies
) -> None:
    _publish(dns_server, "one")
    first = asyncio.create_task(policies.policy(DOMAIN))
    second = asyncio.create_task(policies.policy(DOMAIN))
    await asyncio.sleep(0)
    first.cancel()
    policy = await second
    assert policy is not None and policy.id == "one"
    assert first.cancelled()
