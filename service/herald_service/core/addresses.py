"""Which IP addresses a webhook may reach (SSRF protection), as a pure function.

Anything not globally routable is refused: loopback, private, link-local (including cloud
metadata at 169.254.169.254), CGNAT (100.64.0.0/10), multicast, reserved, unspecified,
documentation and benchmark ranges. IPv6 forms that embed an IPv4 address (IPv4-mapped
``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16``, Teredo, NAT64
``64:ff9b::/96``) are judged by the IPv4 address inside as well. Operator-allowed networks
override the refusal.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from CIDR strings (host bits allowed)."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 address (mapped, compatible, 6to4, ...)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _own_refusal(address: IPAddress) -> str | None:
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local (cloud metadata)"),
        (address in _CGNAT, "shared CGNAT (100.64.0.0/10)"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``address`` must not be contacted, or None when it may be."""
    if any(address in network for network in allowed if network.version == address.version):
        return None
    inner = embedded_ipv4(address)
    if inner and all(any(i in n for n in allowed if n.version == 4) for i in inner):
        return None
    # The embedded IPv4 address says more than the IPv6 range (whose "private" flag also
    # differs between Python releases, e.g. for 6to4's 2002::/16).
    reason = next(
        (f"{why} (as {ipv4})" for ipv4 in inner if (why := _own_refusal(ipv4)) is not None),
        None,
    )
    if reason is None:
        reason = _own_refusal(address)
        if reason is not None and inner:
            reason = f"{reason} (embeds {', '.join(map(str, inner))})"
    return f"{address} is {reason}" if reason else None
