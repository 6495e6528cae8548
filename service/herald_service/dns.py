"""DNS lookups with dnspython, honouring ``HERALD_DNS_NAMESERVERS`` (``host[:port]`` entries).

The API (domain verification) and the delivery workers (MX routing) both build their
resolver here, so one setting points all of Herald at the same name servers.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver
import dns.reversename
from msgspec import Struct

from herald_service.settings import Settings

TEMPORARY_ERRORS = (dns.resolver.NoNameservers, dns.exception.Timeout)


def _nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    host, port = entry, 53
    if entry.startswith("["):  # [::1]:5353
        host, _, rest = entry[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif entry.count(":") == 1:
        host, raw_port = entry.split(":")
        port = int(raw_port)
    return dns.nameserver.Do53Nameserver(host, port)


def make_resolver(settings: Settings, *, cache: bool = True) -> dns.asyncresolver.Resolver:
    """The system resolver, or the configured name servers when set."""
    configure = not settings.dns_nameservers
    resolver = dns.asyncresolver.Resolver(configure=configure)
    if settings.dns_nameservers:
        resolver.nameservers = [_nameserver(e) for e in settings.dns_nameservers]
    resolver.lifetime = settings.dns_timeout
    resolver.timeout = min(settings.dns_timeout, 2.0)
    if cache:
        resolver.cache = dns.resolver.LRUCache()
    return resolver


class Answer(Struct, frozen=True):
    """What a lookup found: record values as text, or a temporary ``error``.

    No values and no error means the name or the type does not exist (NXDOMAIN/NODATA).
    """

    values: tuple[str, ...] = ()
    error: str = ""


def _text(rdata: object, rdtype: str) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype == "MX":
        exchange = rdata.exchange.to_text().rstrip(".")  # type: ignore[attr-defined]
        return f"{rdata.preference} {exchange}"  # type: ignore[attr-defined]
    if rdtype == "PTR":
        return str(rdata.target.to_text().rstrip("."))  # type: ignore[attr-defined]
    return str(rdata.to_text())  # type: ignore[attr-defined]


async def lookup(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> Answer:
    """The ``rdtype`` records of ``name`` as text (TXT strings joined, names without dot)."""
    try:
        answer = await resolver.resolve(name, rdtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Answer()
    except TEMPORARY_ERRORS as exc:
        return Answer(error=f"DNS lookup of {rdtype} {name} failed: {type(exc).__name__}")
    return Answer(tuple(_text(r, rdtype) for r in answer))


async def lookup_reverse(resolver: dns.asyncresolver.Resolver, ip: str) -> Answer:
    """The PTR names of address ``ip``."""
    return await lookup(resolver, dns.reversename.from_address(ip).to_text(), "PTR")


async def lookup_addresses(resolver: dns.asyncresolver.Resolver, name: str) -> Answer:
    """The A and AAAA addresses of ``name``."""
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        answer = await lookup(resolver, name, rdtype)
        if answer.error:
            return answer
        found.extend(answer.values)
    return Answer(tuple(found))
