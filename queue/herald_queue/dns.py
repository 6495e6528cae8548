"""A dnspython resolver that honours ``HERALD_DNS_NAMESERVERS`` (``host[:port]`` entries)."""

from __future__ import annotations

import dns.asyncresolver
import dns.nameserver

from herald_service.settings import Settings


def _nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    host, port = entry, 53
    if entry.startswith("["):  # [::1]:5353
        host, _, rest = entry[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif entry.count(":") == 1:
        host, raw_port = entry.split(":")
        port = int(raw_port)
    return dns.nameserver.Do53Nameserver(host, port)


def make_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """The system resolver, or the configured name servers when set."""
    configure = not settings.dns_nameservers
    resolver = dns.asyncresolver.Resolver(configure=configure)
    if settings.dns_nameservers:
        resolver.nameservers = [_nameserver(e) for e in settings.dns_nameservers]
    resolver.lifetime = settings.dns_timeout
    resolver.timeout = min(settings.dns_timeout, 2.0)
    resolver.cache = dns.resolver.LRUCache()
    return resolver
