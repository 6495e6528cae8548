"""DNSBL rules: the query names, what each zone's answers mean, and which changes are news."""

from __future__ import annotations

import pytest

from herald_service.core.dnsbl import (
    Verdict,
    Zone,
    failed,
    interpret,
    pairs,
    parse_zones,
    query_name,
    status_after,
    transition,
)
from herald_service.core.states import IpEventType, ListingStatus

ZEN = Zone("zen.spamhaus.org")
UNKNOWN = Zone("dnsbl.example")


@pytest.mark.parametrize(
    ("address", "zone", "name"),
    [
        ("127.0.0.11", "zen.test", "11.0.0.127.zen.test."),
        ("192.0.2.99", "zen.spamhaus.org.", "99.2.0.192.zen.spamhaus.org."),
        (
            "2001:db8::1",
            "bl.example",
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.",
        ),
    ],
)
def test_query_names_reverse_octets_and_ipv6_nibbles(address: str, zone: str, name: str) -> None:
    assert query_name(address, zone) == name


@pytest.mark.parametrize(
    ("zone", "answers", "expected"),
    [
        (ZEN, [], Verdict(False)),
        (ZEN, ["127.0.0.2"], Verdict(True, "127.0.0.2", "Spamhaus SBL: a known spam source")),
        (
            ZEN,
            ["127.0.0.4"],
            Verdict(True, "127.0.0.4", "Spamhaus XBL: exploited or infected host"),
        ),
        (
            ZEN,
            ["127.0.0.11", "127.0.0.4"],
            Verdict(
                True,
                "127.0.0.4,127.0.0.11",
                "Spamhaus XBL: exploited or infected host; "
                "Spamhaus PBL: end-user range (Spamhaus), should not send directly",
            ),
        ),
        (
            ZEN,
            ["127.255.255.254"],
            Verdict(
                None,
                "127.255.255.254",
                error="127.255.255.254: the zone refused the query: asked through a public "
                "or open resolver",
            ),
        ),
        (
            ZEN,
            ["127.0.0.200"],
            Verdict(
                False, "127.0.0.200", "answer code not counted as a listing on zen.spamhaus.org"
            ),
        ),
        (
            Zone("bl.spamcop.net"),
            ["127.0.0.2"],
            Verdict(True, "127.0.0.2", "SpamCop: reported as a spam source"),
        ),
        (UNKNOWN, ["127.0.0.5"], Verdict(True, "127.0.0.5", "listed on dnsbl.example")),
        (
            UNKNOWN,
            ["127.255.255.255"],
            Verdict(
                None,
                "127.255.255.255",
                error="127.255.255.255: the zone refused the query: too many queries",
            ),
        ),
        (
            UNKNOWN,
            ["198.51.100.7"],
            Verdict(
                None,
                "198.51.100.7",
                error="198.51.100.7: not a DNSBL answer (outside 127.0.0.0/8)",
            ),
        ),
        # A listing wins over a refusal in the same answer.
        (
            UNKNOWN,
            ["127.255.255.254", "127.0.0.2"],
            Verdict(True, "127.0.0.2", "listed on dnsbl.example"),
        ),
        # Overridden codes: only those count, with the built-in meaning where there is one.
        (
            Zone("zen.spamhaus.org", ("127.0.0.2",)),
            ["127.0.0.10"],
            Verdict(
                False, "127.0.0.10", "answer code not counted as a listing on zen.spamhaus.org"
            ),
        ),
        (
            Zone("bl.example", ("127.0.0.3",)),
            ["127.0.0.3"],
            Verdict(True, "127.0.0.3", "listed on bl.example"),
        ),
    ],
)
def test_answers_are_read_by_each_zones_codes(
    zone: Zone, answers: list[str], expected: Verdict
) -> None:
    assert interpret(zone, answers) == expected


def test_zone_setting_takes_codes_after_a_zone() -> None:
    zones = parse_zones("zen.spamhaus.org, bl.example=127.0.0.2,127.0.0.3;Bl.SpamCop.net.")
    assert zones == (
        Zone("zen.spamhaus.org"),
        Zone("bl.example", ("127.0.0.2", "127.0.0.3")),
        Zone("bl.spamcop.net"),
    )
    assert parse_zones("") == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("127.0.0.2", "belongs after zone=CODE"),
        ("zen.spamhaus.org,127.0.0.2", "belongs after zone=CODE"),
        ("bl.example=10.0.0.2", "answer codes are in 127.0.0.0/8"),
        ("bl.example=x", "is not an answer code"),
        ("not a/zone", "is not a zone name"),
        ("bl.example,bl.example", "listed twice"),
    ],
)
def test_zone_setting_refuses_bad_entries(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_zones(raw)


L, C, U = ListingStatus.LISTED, ListingStatus.CLEAR, ListingStatus.UNKNOWN


@pytest.mark.parametrize(
    ("previous", "verdict", "current", "event"),
    [
        (U, Verdict(True, "127.0.0.2"), L, IpEventType.LISTED),
        (C, Verdict(True, "127.0.0.2"), L, IpEventType.LISTED),
        (L, Verdict(True, "127.0.0.3"), L, None),
        (L, Verdict(False), C, IpEventType.DELISTED),
        (U, Verdict(False), C, None),
        (C, Verdict(False), C, None),
        # A failed or refused lookup proves nothing: the standing stays, nothing is told.
        (L, failed("timeout"), L, None),
        (C, failed("timeout"), C, None),
        (U, Verdict(None, "127.255.255.254", error="refused"), U, None),
    ],
)
def test_only_changes_of_standing_are_events(
    previous: ListingStatus, verdict: Verdict, current: ListingStatus, event: IpEventType | None
) -> None:
    after = status_after(previous, verdict)
    assert after is current
    assert transition(previous, after) is event


def test_every_address_is_checked_on_every_zone_once() -> None:
    zones = (Zone("a.example"), Zone("b.example"))
    assert pairs(["127.0.0.1", "::1", "127.0.0.1"], zones) == [
        ("127.0.0.1", zones[0]),
        ("127.0.0.1", zones[1]),
        ("::1", zones[0]),
        ("::1", zones[1]),
    ]
