"""Where to deliver mail for a domain (RFC 5321 §5.1, null MX per RFC 7505).

MX records are tried in preference order, hosts of equal preference in random order; a
domain without MX records is its own mail host (implicit MX) when it has an address. A null
MX or a domain that does not exist is a permanent error; a failed lookup is temporary.
Answers are cached for the smallest TTL of the records they were built from.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver
from msgspec import Struct

# A permanent answer (no such domain, null MX) is kept this long at most (RFC 2308 style).
NEGATIVE_TTL = 300.0
MAX_TTL = 3600.0


class MailHost(Struct, frozen=True):
    """One host to try, with its addresses in the order to try them."""

    name: str
    addresses: tuple[str, ...]
    preference: int = 0


class Route(Struct, frozen=True):
    """The hosts to try in order, or why there are none."""

    hosts: tuple[MailHost, ...] = ()
    permanent_error: str = ""
    temporary_error: str = ""
    enhanced_code: str = ""


_TEMPORARY = (dns.resolver.NoNameservers, dns.exception.Timeout, dns.resolver.LifetimeTimeout)


class _Lookup:
    """Collects the smallest TTL seen while answering one question."""

    def __init__(self, resolver: dns.asyncresolver.Resolver) -> None:
        self.resolver = resolver
        self.ttl = MAX_TTL

    async def answer(self, name: str, rdtype: str) -> dns.resolver.Answer:
        answer = await self.resolver.resolve(name, rdtype)
        if answer.rrset is not None:
            self.ttl = min(self.ttl, float(answer.rrset.ttl))
        return answer

    async def addresses(self, name: str) -> tuple[str, ...]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self.answer(name, rdtype)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            found.extend(r.to_text() for r in answer)
        return tuple(found)


def order_hosts(hosts: tuple[MailHost, ...], rng: random.Random) -> tuple[MailHost, ...]:
    """Lowest preference first; hosts of equal preference in random order."""
    shuffled = list(hosts)
    rng.shuffle(shuffled)
    return tuple(sorted(shuffled, key=lambda h: h.preference))


async def _lookup_route(lookup: _Lookup, domain: str) -> tuple[Route, float]:
    try:
        try:
            answer = await lookup.answer(domain, "MX")
            records = [(r.preference, r.exchange.to_text().rstrip(".")) for r in answer]
        except dns.resolver.NoAnswer:
            records = []
        if any(host in ("", ".") for _, host in records):
            error = f"{domain} does not accept mail (null MX, RFC 7505)"
            return Route(permanent_error=error, enhanced_code="5.1.10"), min(
                lookup.ttl, NEGATIVE_TTL
            )
        if not records:
            addresses = await lookup.addresses(domain)  # implicit MX
            if not addresses:
                error = f"{domain} has no MX and no address records"
                return Route(permanent_error=error, enhanced_code="5.1.2"), NEGATIVE_TTL
            return Route(hosts=(MailHost(domain, addresses),)), lookup.ttl
        hosts = []
        for preference, name in sorted(set(records)):
            addresses = await lookup.addresses(name)
            if addresses:
                hosts.append(MailHost(name, addresses, preference))
        if not hosts:
            error = f"no MX host of {domain} has an address"
            return Route(temporary_error=error, enhanced_code="4.4.3"), 0.0
        return Route(hosts=tuple(hosts)), lookup.ttl
    except dns.resolver.NXDOMAIN:
        error = f"{domain} does not exist (NXDOMAIN)"
        return Route(permanent_error=error, enhanced_code="5.1.2"), NEGATIVE_TTL
    except _TEMPORARY as exc:
        error = f"DNS lookup for {domain} failed: {type(exc).__name__}"
        return Route(temporary_error=error, enhanced_code="4.4.3"), 0.0


async def resolve_route(
    resolver: dns.asyncresolver.Resolver, domain: str, rng: random.Random | None = None
) -> Route:
    """The MX hosts of ``domain`` with their addresses, or a permanent/temporary error."""
    route, _ = await _lookup_route(_Lookup(resolver), domain)
    return Route(
        hosts=order_hosts(route.hosts, rng or random.Random()),
        permanent_error=route.permanent_error,
        temporary_error=route.temporary_error,
        enhanced_code=route.enhanced_code,
    )


class RouteCache:
    """Routes by domain, each kept for the smallest TTL of the records behind it.

    Temporary failures are not cached. The host order is drawn afresh on every call so
    equal-preference hosts share the load.
    """

    def __init__(
        self,
        resolver: dns.asyncresolver.Resolver,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.resolver = resolver
        self._clock = clock
        self._rng = rng or random.Random()
        self._entries: dict[str, tuple[float, Route]] = {}
        self.lookups = 0

    async def route(self, domain: str) -> Route:
        """The route for ``domain``, from the cache while its TTL lasts."""
        key = domain.lower().rstrip(".")
        now = self._clock()
        cached = self._entries.get(key)
        if cached is None or cached[0] <= now:
            self.lookups += 1
            route, ttl = await _lookup_route(_Lookup(self.resolver), key)
            if ttl > 0:
                self._entries[key] = (now + ttl, route)
            else:
                self._entries.pop(key, None)
        else:
            route = cached[1]
        return Route(
            hosts=order_hosts(route.hosts, self._rng),
            permanent_error=route.permanent_error,
            temporary_error=route.temporary_error,
            enhanced_code=route.enhanced_code,
        )
