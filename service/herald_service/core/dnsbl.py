"""DNS blocklists (DNSBLs): what to ask, what an answer means, and what changed.

A DNSBL is asked about an address by looking up the A records of the address, reversed,
under the zone (``11.0.0.127.zen.spamhaus.org``; IPv6 as 32 reversed nibbles). No
record means not listed. An answer in 127.0.0.0/8 names why the address is listed, by
each zone's own code table; 127.255.255.0/24 is the zone refusing the query (a public
resolver, too many queries, a typo), which proves nothing either way, and so is any
answer outside 127.0.0.0/8 (a zone that is gone and answers everything).

``HERALD_DNSBL_ZONES`` lists zones, each optionally with the codes that count as a
listing: ``zen.spamhaus.org,bl.example=127.0.0.2,127.0.0.3,bl.spamcop.net`` (an address
after ``zone=`` belongs to that zone's codes).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from msgspec import Struct

from herald_service.core.states import IpEventType, ListingStatus

_REFUSED = ipaddress.ip_network("127.255.255.0/24")
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_ZONE = re.compile(r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9-]+$")

# The answer codes of well-known zones and what each means; a code not in a zone's table
# is not counted as a listing (it is reported, so an operator can add it).
_SPAMHAUS_SBL = "Spamhaus SBL: a known spam source"
KNOWN_ZONES: Mapping[str, Mapping[str, str]] = {
    "zen.spamhaus.org": {
        "127.0.0.2": _SPAMHAUS_SBL,
        "127.0.0.3": "Spamhaus SBL CSS: snowshoe spam",
        "127.0.0.4": "Spamhaus XBL: exploited or infected host",
        "127.0.0.5": "Spamhaus XBL: exploited or infected host",
        "127.0.0.6": "Spamhaus XBL: exploited or infected host",
        "127.0.0.7": "Spamhaus XBL: exploited or infected host",
        "127.0.0.9": "Spamhaus DROP: hijacked network",
        "127.0.0.10": "Spamhaus PBL: end-user range (ISP), should not send directly",
        "127.0.0.11": "Spamhaus PBL: end-user range (Spamhaus), should not send directly",
    },
    "bl.spamcop.net": {"127.0.0.2": "SpamCop: reported as a spam source"},
    "b.barracudacentral.org": {"127.0.0.2": "Barracuda BRBL: poor reputation"},
}

_REFUSALS = {
    "127.255.255.252": "the zone refused the query: typo in the zone name",
    "127.255.255.254": "the zone refused the query: asked through a public or open resolver",
    "127.255.255.255": "the zone refused the query: too many queries",
}


class Zone(Struct, frozen=True):
    """One configured zone; ``codes`` set: only those answers count as a listing."""

    name: str
    codes: tuple[str, ...] = ()


class Verdict(Struct, frozen=True):
    """One lookup judged: ``listed`` None when it proves nothing (``error`` says why)."""

    listed: bool | None
    answer: str = ""
    meaning: str = ""
    error: str = ""


def parse_zones(raw: str) -> tuple[Zone, ...]:
    """``HERALD_DNSBL_ZONES`` as zones; ``ValueError`` names a bad entry."""
    zones: list[Zone] = []
    for entry in (part.strip() for part in re.split(r"[,;\s]+", raw.strip())):
        if not entry:
            continue
        name, has_codes, code = entry.partition("=")
        if _is_address(name):
            if not zones or not zones[-1].codes:
                raise ValueError(f"{entry!r}: an answer code belongs after zone=CODE")
            zones[-1] = Zone(zones[-1].name, (*zones[-1].codes, _code(name)))
            continue
        name = name.strip().lower().rstrip(".")
        if not _ZONE.match(name):
            raise ValueError(f"{entry!r} is not a zone name (e.g. zen.spamhaus.org)")
        if any(zone.name == name for zone in zones):
            raise ValueError(f"{name} is listed twice")
        zones.append(Zone(name, (_code(code),) if has_codes else ()))
    return tuple(zones)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


def _code(text: str) -> str:
    try:
        code = ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an answer code such as 127.0.0.2") from None
    if code not in _LOOPBACK:
        raise ValueError(f"{text!r}: answer codes are in 127.0.0.0/8")
    return str(code)


def query_name(address: str, zone: str) -> str:
    """The name whose A records answer whether ``address`` is listed on ``zone``."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        labels = reversed(str(ip).split("."))
    else:
        labels = reversed(ip.exploded.replace(":", ""))
    return ".".join([*labels, zone.rstrip(".")]) + "."


def interpret(zone: Zone, answers: Sequence[str]) -> Verdict:
    """What the A records ``answers`` of a query on ``zone`` say (none: not listed)."""
    table = dict(KNOWN_ZONES.get(zone.name, {}))
    if zone.codes:
        table = {code: table.get(code, f"listed on {zone.name}") for code in zone.codes}
    listed: list[tuple[str, str]] = []
    ignored: list[str] = []
    errors: list[str] = []
    for answer in sorted(set(answers), key=_sort_key):
        ip = ipaddress.ip_address(answer)
        if ip in _REFUSED:
            errors.append(f"{answer}: {_REFUSALS.get(answer, 'the zone refused the query')}")
        elif ip not in _LOOPBACK:
            errors.append(f"{answer}: not a DNSBL answer (outside 127.0.0.0/8)")
        elif not table:
            listed.append((answer, f"listed on {zone.name}"))
        elif answer in table:
            listed.append((answer, table[answer]))
        else:
            ignored.append(answer)
    if listed:
        meanings = dict.fromkeys(meaning for _, meaning in listed)
        return Verdict(True, ",".join(a for a, _ in listed), "; ".join(meanings))
    if errors:
        return Verdict(None, ",".join(sorted(set(answers), key=_sort_key)), error="; ".join(errors))
    if ignored:
        meaning = f"answer code not counted as a listing on {zone.name}"
        return Verdict(False, ",".join(ignored), meaning)
    return Verdict(False)


def failed(error: str) -> Verdict:
    """A lookup that failed (timeout, SERVFAIL): it proves nothing either way."""
    return Verdict(None, error=error)


def _sort_key(answer: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in answer.split("."))
    except ValueError:
        return (256,)


def status_after(previous: ListingStatus, verdict: Verdict) -> ListingStatus:
    """The standing after ``verdict``: a failed lookup keeps what was known."""
    if verdict.listed is None:
        return previous
    return ListingStatus.LISTED if verdict.listed else ListingStatus.CLEAR


def transition(previous: ListingStatus, current: ListingStatus) -> IpEventType | None:
    """The event a change of standing raises: entering a zone from anything else is
    ``ip.listed``; only leaving a known listing is ``ip.delisted`` (a first check that
    finds nothing is not news)."""
    if current is previous:
        return None
    if current is ListingStatus.LISTED:
        return IpEventType.LISTED
    if previous is ListingStatus.LISTED and current is ListingStatus.CLEAR:
        return IpEventType.DELISTED
    return None


def pairs(addresses: Iterable[str], zones: Iterable[Zone]) -> list[tuple[str, Zone]]:
    """Every (address, zone) to check, addresses in their written order."""
    zone_list = list(zones)
    return [(address, zone) for address in dict.fromkeys(addresses) for zone in zone_list]
