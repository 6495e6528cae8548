"""Tests for the simulated internet (tests/simnet): real DNS/SMTP servers on loopback."""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Iterator
from typing import Any

import aiosmtplib
import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from simnet import CertificateAuthority, DNSServer, SMTPServer, free_port_for, loopback_hosts
from simnet.fixtures import SMTPServerFactory

RAW = (
    b"From: sender@herald.test\r\n"
    b"To: rcpt@example.test\r\n"
    b"Subject: simnet\r\n"
    b"\r\n"
    b"Hello.\r\n"
    b".leading dot must survive dot-stuffing\r\n"
)

# -- DNS ---------------------------------------------------------------------------


def _resolver(server: DNSServer) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    resolver.lifetime = 2.0
    resolver.cache = None
    return resolver


@pytest.fixture
def resolver(dns_server: DNSServer) -> dns.resolver.Resolver:
    return _resolver(dns_server)


def test_dns_address_format(dns_server: DNSServer) -> None:
    assert dns_server.address == f"127.0.0.1:{dns_server.port}"
    assert dns_server.port > 0


def test_mx_records_case_insensitive(
    dns_server: DNSServer, resolver: dns.resolver.Resolver
) -> None:
    dns_server.add_mx("Example.TEST.", [(20, "mx2.example.test"), (10, "MX1.example.test.")])
    answer = resolver.resolve("EXAMPLE.test", "MX")
    got = sorted((r.preference, r.exchange.to_text().lower()) for r in answer)
    assert got == [(10, "mx1.example.test."), (20, "mx2.example.test.")]
    assert answer.rrset is not None
    assert answer.rrset.ttl == 300
    assert ("example.test", "MX") in dns_server.queries


def test_null_mx(dns_server: DNSServer, resolver: dns.resolver.Resolver) -> None:
    dns_server.add_null_mx("nomail.test")
    [record] = list(resolver.resolve("nomail.test", "MX"))
    assert record.preference == 0
    assert record.exchange == dns.name.root


def test_a_and_aaaa(dns_server: DNSServer, resolver: dns.resolver.Resolver) -> None:
    dns_server.add_a("mx.example.test", "127.0.0.2")
    dns_server.add_aaaa("mx.example.test", "::1", ttl=60)
    assert [r.address for r in resolver.resolve("mx.example.test", "A")] == ["127.0.0.2"]
    aaaa = resolver.resolve("mx.example.test", "AAAA")
    assert [r.address for r in aaaa] == ["::1"]
    assert aaaa.rrset is not None
    assert aaaa.rrset.ttl == 60


def test_short_txt_stays_on_udp(dns_server: DNSServer, resolver: dns.resolver.Resolver) -> None:
    dns_server.add_txt("example.test", "v=spf1 -all")
    dns_server.add_txt("example.test", "verification=1")
    values = sorted(b"".join(r.strings) for r in resolver.resolve("example.test", "TXT"))
    assert values == [b"v=spf1 -all", b"verification=1"]
    assert dns_server.tcp_queries == []


def test_long_txt_split_and_tcp_fallback(
    dns_server: DNSServer, resolver: dns.resolver.Resolver
) -> None:
    value = "".join(chr(ord("a") + i % 26) for i in range(3000))
    dns_server.add_txt("sel._domainkey.example.test", value)
    [record] = list(resolver.resolve("sel._domainkey.example.test", "TXT"))
    assert all(len(chunk) <= 255 for chunk in record.strings)
    assert len(record.strings) == 12
    assert b"".join(record.strings).decode() == value
    assert dns_server.tcp_queries == [("sel._domainkey.example.test", "TXT")]
    assert dns_server.queries.count(("sel._domainkey.example.test", "TXT")) == 2


@pytest.mark.parametrize("ip", ["127.0.0.2", "2001:db8::25"])
def test_ptr(dns_server: DNSServer, resolver: dns.resolver.Resolver, ip: str) -> None:
    dns_server.add_ptr(ip, "mx.example.test")
    [record] = list(resolver.resolve_address(ip))
    assert record.target.to_text() == "mx.example.test."
    assert (ipaddress.ip_address(ip).reverse_pointer, "PTR") in dns_server.queries


def test_nxdomain_and_nodata(dns_server: DNSServer, resolver: dns.resolver.Resolver) -> None:
    dns_server.add_a("host.example.test", "127.0.0.3")
    dns_server.add_txt("_mta-sts.sts.test", "v=STSv1; id=1")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("missing.example.test", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("host.example.test", "MX")
    with pytest.raises(dns.resolver.NoAnswer):  # empty non-terminal exists
        resolver.resolve("sts.test", "MX")


def test_servfail_then_recovery(dns_server: DNSServer, resolver: dns.resolver.Resolver) -> None:
    dns_server.add_mx("flaky.test", [(10, "mx.flaky.test")])
    dns_server.set_servfail("flaky.test")
    query = dns.message.make_query("flaky.test", "MX")
    response = dns.query.udp(query, dns_server.host, port=dns_server.port, timeout=2)
    assert response.rcode() == dns.rcode.SERVFAIL
    with pytest.raises(dns.resolver.NoNameservers):
        resolver.resolve("flaky.test", "MX")
    dns_server.remove("flaky.test")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("flaky.test", "MX")


def test_cname_is_followed(dns_server: DNSServer, resolver: dns.resolver.Resolver) -> None:
    dns_server.add_cname("alias.test", "real.test")
    dns_server.add_a("real.test", "127.0.0.4")
    answer = resolver.resolve("alias.test", "A")
    assert [r.address for r in answer] == ["127.0.0.4"]
    assert answer.canonical_name.to_text() == "real.test."


def test_remove_type_clear_and_timeout(
    dns_server: DNSServer, resolver: dns.resolver.Resolver
) -> None:
    dns_server.add_a("x.test", "127.0.0.5")
    dns_server.add_txt("x.test", "hello")
    dns_server.remove("x.test", "a")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("x.test", "A")
    assert resolver.resolve("x.test", "TXT")
    dns_server.set_timeout("x.test")
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(dns.message.make_query("x.test", "A"), "127.0.0.1", 0.3, dns_server.port)
    dns_server.clear()
    assert dns_server.queries == []
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("x.test", "TXT")


# -- ports -------------------------------------------------------------------------


def test_free_port_for_loopback_only() -> None:
    hosts = loopback_hosts(6)
    assert hosts == [f"127.0.0.{i}" for i in range(1, 7)]
    port = free_port_for(hosts)
    assert 10000 <= port < 65536
    with pytest.raises(ValueError, match="loopback"):
        free_port_for(["10.0.0.1"])


# -- SMTP --------------------------------------------------------------------------


async def _send(
    server: SMTPServer, rcpts: list[str], **kwargs: Any
) -> dict[str, aiosmtplib.SMTPResponse]:
    """Deliver RAW to `rcpts` in one session; returns per-recipient refusals."""
    kwargs.setdefault("start_tls", False)
    kwargs.setdefault("timeout", 2.0)
    client = aiosmtplib.SMTP(
        hostname=server.host, port=server.port, local_hostname="client.herald.test", **kwargs
    )
    try:
        await client.connect()
        errors, _ = await client.sendmail("bounce@herald.test", rcpts, RAW)
        await client.quit()
    finally:
        client.close()
    return errors


async def test_accept_records_raw_message(smtp_server_factory: SMTPServerFactory) -> None:
    server = smtp_server_factory("127.0.0.2")
    assert await _send(server, ["a@example.test", "b@example.test"]) == {}
    [msg] = server.wait_for(1, timeout=2)
    assert msg.mail_from == "bounce@herald.test"
    assert msg.rcpt_tos == ["a@example.test", "b@example.test"]
    assert msg.data == RAW
    assert msg.parse()["Subject"] == "simnet"
    assert msg.ehlo == "client.herald.test"
    assert msg.tls is False
    assert msg.peer[0].startswith("127.")
    assert server.connections == 1
    server.clear()
    assert server.messages == []
    assert server.connections == 0
    with pytest.raises(TimeoutError):
        server.wait_for(1, timeout=0.05)


async def test_servers_share_port_on_distinct_ips(
    smtp_server_factory: SMTPServerFactory, smtp_port: int
) -> None:
    first = smtp_server_factory("127.0.0.2")
    second = smtp_server_factory("127.0.0.3")
    assert first.port == second.port == smtp_port
    await _send(second, ["x@example.test"])
    await second.wait_for_async(1, timeout=2)
    assert first.messages == []


async def test_per_recipient_reject(smtp_server_factory: SMTPServerFactory) -> None:
    server = smtp_server_factory(rcpt_replies={"Gone@Example.test": (550, "5.1.1 No such user")})
    errors = await _send(server, ["ok@example.test", "gone@example.test"])
    assert list(errors) == ["gone@example.test"]
    assert errors["gone@example.test"].code == 550
    [msg] = server.wait_for(1)
    assert msg.rcpt_tos == ["ok@example.test"]


@pytest.mark.parametrize(
    ("verb", "stage", "code", "error"),
    [
        ("defer", "rcpt", 451, aiosmtplib.SMTPRecipientsRefused),
        ("reject", "rcpt", 550, aiosmtplib.SMTPRecipientsRefused),
        ("defer", "mail", 451, aiosmtplib.SMTPSenderRefused),
        ("defer", "data", 451, aiosmtplib.SMTPDataError),
        ("defer", "data_end", 451, aiosmtplib.SMTPDataError),
        ("reject", "data_end", 554, aiosmtplib.SMTPDataError),
    ],
)
async def test_defer_and_reject(
    smtp_server_factory: SMTPServerFactory,
    verb: str,
    stage: str,
    code: int,
    error: type[Exception],
) -> None:
    server = smtp_server_factory()
    getattr(server, verb)(stage)
    with pytest.raises(error) as excinfo:
        await _send(server, ["r@example.test"])
    exc = excinfo.value
    codes = [e.code for e in exc.recipients] if hasattr(exc, "recipients") else [exc.code]  # type: ignore[attr-defined]
    assert codes == [code]
    assert server.messages == []
    server.accept()
    await _send(server, ["r@example.test"])
    assert len(server.wait_for(1)) == 1


async def test_defer_at_connect_closes_with_421(smtp_server_factory: SMTPServerFactory) -> None:
    server = smtp_server_factory().defer("connect")
    with pytest.raises(aiosmtplib.SMTPConnectResponseError) as excinfo:
        await _send(server, ["r@example.test"])
    assert excinfo.value.code == 421


@pytest.mark.parametrize("stage", ["connect", "ehlo", "mail", "rcpt", "data", "data_end"])
async def test_drop_connection(smtp_server_factory: SMTPServerFactory, stage: str) -> None:
    server = smtp_server_factory(drop_at=stage)
    # aiosmtplib wraps the EOF in SMTPConnectError when it happens before the greeting
    with pytest.raises((aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError)):
        await _send(server, ["r@example.test"])
    assert server.messages == []
    assert len(server.unacknowledged) == (1 if stage == "data_end" else 0)
    assert server.connections == 1


async def test_stall_beyond_client_timeout(smtp_server_factory: SMTPServerFactory) -> None:
    server = smtp_server_factory(stalls={"rcpt": 3.0})
    started = time.monotonic()
    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        await _send(server, ["r@example.test"], timeout=0.4)
    assert time.monotonic() - started < 2.0
    server.stall("rcpt", 0.3)
    started = time.monotonic()
    await _send(server, ["r@example.test"], timeout=2.0)
    assert time.monotonic() - started >= 0.3
    assert len(server.wait_for(1)) == 1


async def test_starttls_verified_against_test_ca(
    smtp_server_factory: SMTPServerFactory, simnet_ca: CertificateAuthority
) -> None:
    server = smtp_server_factory("127.0.0.4", starttls=True)
    context = simnet_ca.client_context()
    await _send(server, ["r@example.test"], start_tls=True, tls_context=context)
    [msg] = server.wait_for(1)
    assert msg.tls is True
    assert msg.ehlo == "client.herald.test"
    assert server.certificate is not None
    assert set(server.certificate.names) == {"mx.simnet.test", "127.0.0.4"}


async def test_starttls_rejects_foreign_ca(smtp_server_factory: SMTPServerFactory) -> None:
    server = smtp_server_factory(starttls=True)
    other = CertificateAuthority("Some Other CA")
    with pytest.raises(ssl.SSLCertVerificationError):
        await _send(server, ["r@example.test"], start_tls=True, tls_context=other.client_context())
    assert server.messages == []


async def test_require_starttls(smtp_server_factory: SMTPServerFactory) -> None:
    server = smtp_server_factory(require_starttls=True)
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as excinfo:
        await _send(server, ["r@example.test"])
    assert excinfo.value.code == 530
    assert server.messages == []


@pytest.fixture
def standalone_server() -> Iterator[SMTPServer]:
    with SMTPServer("127.0.0.5") as server:
        yield server


async def test_standalone_server_picks_port(standalone_server: SMTPServer) -> None:
    assert standalone_server.address == f"127.0.0.5:{standalone_server.port}"
    await _send(standalone_server, ["r@example.test"])
    [msg] = await standalone_server.wait_for_async(1)
    assert msg.queue_id.startswith("SIM")
    with pytest.raises(ValueError, match="loopback"):
        SMTPServer("192.0.2.1", 2525)
