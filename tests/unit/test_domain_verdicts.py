"""Domain verification verdicts, as tables over published values (no DNS, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald_service.core.domain_verdicts import (
    DomainVerdict,
    KeyState,
    advance_keys,
    dkim_check,
    dmarc_check,
    judge_domain,
    lookup_failed,
    mx_check,
    parse_tags,
    resolves_back,
    spf_check,
)
from herald_service.core.states import DkimKeyStatus, DomainStatus, RecordStatus

VERIFIED, MISSING, MISMATCH, ERROR = (
    RecordStatus.VERIFIED,
    RecordStatus.MISSING,
    RecordStatus.MISMATCH,
    RecordStatus.ERROR,
)
HOST = "mta.herald.example"
IPS = ("192.0.2.10", "2001:db8::25")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOUR = 3600.0


@pytest.mark.parametrize(
    ("published", "sending_ips", "status", "detail"),
    [
        (["v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all"], IPS, VERIFIED, ""),
        (["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"], IPS, VERIFIED, ""),
        (["v=spf1 +ip4:192.0.2.10 ip6:2001:db8::25 -all"], IPS, VERIFIED, ""),
        (["V=SPF1 IP4:192.0.2.10 IP6:2001:DB8::25 -ALL"], IPS, VERIFIED, ""),
        (["v=spf1 a:mta.herald.example -all"], (), VERIFIED, ""),
        (["v=spf1 a:other.example -all"], (), MISMATCH, "a:mta.herald.example is not listed"),
        (["v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all"], IPS, MISMATCH, "does not end with -all"),
        (["v=spf1"], (), MISMATCH, "a:mta.herald.example is not listed; does not end with -all"),
        (
            ["v=spf1 ip4:192.0.2.11 ip4:bogus ip6:2001:db8::25 -all"],
            IPS,
            MISMATCH,
            "sending IPs not listed as ip4:/ip6: 192.0.2.10",
        ),
        (
            ["v=spf1 ip4:192.0.2.10 -all", "v=spf1 ip6:2001:db8::25 -all"],
            IPS,
            MISMATCH,
            "more than one v=spf1 record (a permanent SPF error)",
        ),
        (["google-site-verification=x"], IPS, MISSING, "no v=spf1 record"),
        ([], IPS, MISSING, "no v=spf1 record"),
    ],
)
def test_spf(
    published: list[str], sending_ips: tuple[str, ...], status: RecordStatus, detail: str
) -> None:
    check = spf_check(published, sending_ips, HOST)
    assert (check.status, check.detail, check.found) == (status, detail, published)


@pytest.mark.parametrize(
    ("published", "status", "detail"),
    [
        (["10 mta.herald.example"], VERIFIED, ""),
        (["20 backup.example", "10 MTA.Herald.Example"], VERIFIED, ""),
        (["10 mx.other.example"], MISMATCH, f"no MX points at {HOST}"),
        ([], MISSING, "no MX record"),
    ],
)
def test_mx(published: list[str], status: RecordStatus, detail: str) -> None:
    check = mx_check(published, HOST)
    assert (check.status, check.detail, check.found) == (status, detail, published)


@pytest.mark.parametrize(
    ("published", "algorithm", "status"),
    [
        (["v=DKIM1; k=rsa; p=KEY"], "rsa", VERIFIED),
        (["v=DKIM1; p=KEY"], "rsa", VERIFIED),  # k= defaults to rsa
        (["v=DKIM1; k=rsa; p=K E\tY"], "rsa", VERIFIED),  # split by a DNS console
        (["v=DKIM1; k=ed25519; p=KEY"], "ed25519", VERIFIED),
        (["v=DKIM1; k=rsa; p=OTHER", "v=DKIM1; k=rsa; p=KEY"], "rsa", VERIFIED),
        (["v=DKIM1; k=ed25519; p=KEY"], "rsa", MISMATCH),
        (["v=DKIM1; k=rsa; p=OTHER"], "rsa", MISMATCH),
        (["v=DKIM1; k=rsa; p="], "rsa", MISMATCH),  # a revoked key
        ([], "rsa", MISSING),
    ],
)
def test_dkim(published: list[str], algorithm: str, status: RecordStatus) -> None:
    check = dkim_check(published, "KEY", algorithm)
    assert (check.status, check.found) == (status, published)


@pytest.mark.parametrize(
    ("published", "status", "detail"),
    [
        (["v=DMARC1; p=none; rua=mailto:d@x.example"], VERIFIED, "policy p=none"),
        (["v=DMARC1; p=quarantine; pct=25"], VERIFIED, "policy p=quarantine"),
        (["v = DMARC1; p=reject"], VERIFIED, "policy p=reject"),
        (["v=spf1 -all", "v=DMARC1; p=reject"], VERIFIED, "policy p=reject"),
        (["v=DMARC1; p=maybe"], MISMATCH, "p= must be none, quarantine or reject"),
        (["v=DMARC1"], MISMATCH, "p= must be none, quarantine or reject"),
        (
            ["v=DMARC1; p=none", "v=DMARC1; p=reject"],
            MISMATCH,
            "more than one DMARC record: receivers ignore both",
        ),
        (["v=spf1 -all"], MISSING, "no v=DMARC1 record"),
        ([], MISSING, "no v=DMARC1 record"),
    ],
)
def test_dmarc(published: list[str], status: RecordStatus, detail: str) -> None:
    check = dmarc_check(published)
    assert (check.status, check.detail) == (status, detail)


def test_a_failed_lookup_proves_nothing() -> None:
    check = lookup_failed("SERVFAIL")
    assert (check.status, check.found, check.detail) == (ERROR, [], "SERVFAIL")


@pytest.mark.parametrize(
    ("ip", "addresses", "confirmed"),
    [
        ("192.0.2.10", ["192.0.2.10"], True),
        ("192.0.2.10", ["198.51.100.1", "192.0.2.10"], True),
        ("2001:db8::25", ["2001:0db8:0000::0025"], True),
        ("192.0.2.10", ["192.0.2.11"], False),
        ("192.0.2.10", [], False),
    ],
)
def test_resolves_back(ip: str, addresses: list[str], confirmed: bool) -> None:
    assert resolves_back(ip, addresses) is confirmed


@pytest.mark.parametrize(
    ("current", "required", "verdict"),
    [
        ("pending", [VERIFIED, VERIFIED], DomainVerdict(DomainStatus.VERIFIED, True)),
        ("verified", [VERIFIED, VERIFIED], DomainVerdict(DomainStatus.VERIFIED, False)),
        ("pending", [], DomainVerdict(DomainStatus.VERIFIED, True)),
        ("verified", [VERIFIED, MISSING], DomainVerdict(DomainStatus.PENDING)),
        ("verified", [MISMATCH, ERROR], DomainVerdict(DomainStatus.PENDING)),
        ("pending", [VERIFIED, MISMATCH], DomainVerdict(DomainStatus.PENDING)),
        # A lookup that failed proves nothing: a DNS outage never unverifies a domain.
        ("verified", [VERIFIED, ERROR], DomainVerdict("verified")),
        ("pending", [ERROR, ERROR], DomainVerdict("pending")),
    ],
)
def test_judge_domain(current: str, required: list[RecordStatus], verdict: DomainVerdict) -> None:
    assert judge_domain(current, required) == verdict


PENDING_KEY, ACTIVE, RETIRING, RETIRED = (
    DkimKeyStatus.PENDING,
    DkimKeyStatus.ACTIVE,
    DkimKeyStatus.RETIRING,
    DkimKeyStatus.RETIRED,
)
EARLIER = NOW - timedelta(days=30)
ENDS = NOW + timedelta(seconds=HOUR)


def key(selector: str, status: str, retire_at: datetime | None = None) -> KeyState:
    return KeyState(selector, status, retire_at, EARLIER if status != PENDING_KEY else None)


@pytest.mark.parametrize(
    ("keys", "verified", "overlap", "advanced"),
    [
        # No rotation: nothing moves.
        ([key("a", ACTIVE)], {"a"}, HOUR, [key("a", ACTIVE)]),
        # A rotation waits until every new key's record is verified.
        ([key("a", ACTIVE), key("b", PENDING_KEY)], {"a"}, HOUR, None),
        (
            [key("a", ACTIVE), key("b", PENDING_KEY), key("c", PENDING_KEY)],
            {"a", "b"},
            HOUR,
            None,
        ),
        # Then the new keys sign and the old ones retire after the overlap.
        (
            [key("a", ACTIVE), key("b", PENDING_KEY)],
            {"b"},
            HOUR,
            [key("a", RETIRING, ENDS), KeyState("b", ACTIVE, None, NOW)],
        ),
        # With no overlap the old key is retired at once.
        (
            [key("a", ACTIVE), key("b", PENDING_KEY)],
            {"b"},
            0.0,
            [key("a", RETIRED, NOW), KeyState("b", ACTIVE, None, NOW)],
        ),
        # A retiring key retires when its overlap has ended, verified or not.
        (
            [key("a", RETIRING, NOW), key("b", ACTIVE)],
            set(),
            HOUR,
            [key("a", RETIRED, NOW), key("b", ACTIVE)],
        ),
        ([key("a", RETIRING, ENDS), key("b", ACTIVE)], {"a", "b"}, HOUR, None),
        ([key("a", RETIRED, EARLIER), key("b", ACTIVE)], set(), HOUR, None),
    ],
)
def test_advance_keys(
    keys: list[KeyState], verified: set[str], overlap: float, advanced: list[KeyState] | None
) -> None:
    """``advanced`` None: the keys stay as they are."""
    assert advance_keys(keys, verified, NOW, overlap) == (keys if advanced is None else advanced)


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ("v=DKIM1; k=rsa; p=AB CD", {"v": "DKIM1", "k": "rsa", "p": "ABCD"}),
        ("V=DMARC1;P=reject;", {"v": "DMARC1", "p": "reject"}),
        ("p=first; p=second", {"p": "first"}),
        ("no tags here", {}),
    ],
)
def test_parse_tags(value: str, tags: dict[str, str]) -> None:
    assert parse_tags(value) == tags
