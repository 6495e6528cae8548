"""MX resolution against the simulated DNS server (RFC 5321 §5.1, RFC 7505)."""

from __future__ import annotations

import random

from herald_queue.dns import make_resolver
from herald_queue.mx import RouteCache
from herald_service.settings import Settings
from simnet.dns import DNSServer


def _cache(dns_server: DNSServer, clock: list[float]) -> RouteCache:
    settings = Settings(dns_nameservers=(dns_server.address,), dns_timeout=2.0)
    resolver = make_resolver(settings)
    resolver.cache = None
    return RouteCache(resolver, clock=lambda: clock[0], rng=random.Random(7))


async def test_preference_order_and_random_among_equals(dns_server: DNSServer) -> None:
    dns_server.add_mx("r.example", [(20, "c.r.example"), (10, "a.r.example"), (10, "b.r.example")])
    dns_server.add_a("a.r.example", "127.0.0.2")
    dns_server.add_a("b.r.example", "127.0.0.3")
    dns_server.add_a("c.r.example", "127.0.0.4")
    dns_server.add_aaaa("b.r.example", "::1")
    cache = _cache(dns_server, [0.0])
    firsts = set()
    for _ in range(20):
        route = await cache.route("r.example")
        names = [h.name for h in route.hosts]
        assert names[2] == "c.r.example"
        firsts.add(names[0])
    assert firsts == {"a.r.example", "b.r.example"}
    b = next(h for h in route.hosts if h.name == "b.r.example")
    assert b.addresses == ("127.0.0.3", "::1")


async def test_implicit_mx_null_mx_nxdomain_and_temporary(dns_server: DNSServer) -> None:
    dns_server.add_a("implicit.example", "127.0.0.5")
    dns_server.add_null_mx("null.example")
    dns_server.add_mx("noaddr.example", [(10, "mx.noaddr.example")])
    dns_server.add_txt("noaddr.example", "v=spf1 -all")
    dns_server.set_servfail("broken.example")
    cache = _cache(dns_server, [0.0])
    implicit = await cache.route("implicit.example")
    assert [(h.name, h.addresses) for h in implicit.hosts] == [("implicit.example", ("127.0.0.5",))]
    null = await cache.route("null.example")
    assert null.permanent_error and null.enhanced_code == "5.1.10" and not null.hosts
    missing = await cache.route("missing.example")
    assert "NXDOMAIN" in missing.permanent_error
    assert (await cache.route("noaddr.example")).temporary_error
    broken = await cache.route("broken.example")
    assert broken.temporary_error and not broken.permanent_error


async def test_routes_cached_for_their_ttl(dns_server: DNSServer) -> None:
    dns_server.add_mx("r.example", [(10, "mx.r.example")], ttl=60)
    dns_server.add_a("mx.r.example", "127.0.0.2", ttl=30)
    clock = [0.0]
    cache = _cache(dns_server, clock)
    await cache.route("r.example")
    clock[0] = 29.0
    await cache.route("r.example")
    assert cache.lookups == 1
    clock[0] = 31.0
    dns_server.remove("mx.r.example")
    dns_server.add_a("mx.r.example", "127.0.0.9")
    route = await cache.route("r.example")
    assert cache.lookups == 2
    assert route.hosts[0].addresses == ("127.0.0.9",)


async def test_temporary_failures_are_not_cached(dns_server: DNSServer) -> None:
    dns_server.set_servfail("later.example")
    cache = _cache(dns_server, [0.0])
    assert (await cache.route("later.example")).temporary_error
    dns_server.clear()
    dns_server.add_a("later.example", "127.0.0.2")
    assert (await cache.route("later.example")).hosts
