"""Webhook targets checked against SSRF: resolve once, check every address, pin the one used.

A webhook URL's host is resolved once (A and AAAA), every address is checked with
:func:`herald_service.core.addresses.refusal`, and the caller connects to the checked
address itself (with the original name in ``Host`` and TLS SNI), so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot redirect the request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver
from msgspec import Struct

from herald_service.core.addresses import IPAddress, IPNetwork, refusal

MAX_URL_LENGTH = 2000


class UnsafeTarget(Exception):
    """The URL may not be contacted; the message says why (safe to show the account)."""


class Target(Struct, frozen=True):
    """A checked webhook destination: connect to ``address``, present ``host``."""

    scheme: str
    host: str
    port: int
    address: str


def check_url_syntax(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an absolute http(s) URL, or :class:`UnsafeTarget`."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("the URL must start with https:// or http://")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL must not contain credentials")
    if any(c.isspace() for c in url):
        raise UnsafeTarget("the URL must not contain white space")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def _resolve(resolver: dns.asyncresolver.Resolver, host: str) -> list[IPAddress]:
    found: list[IPAddress] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = await resolver.resolve(host, rdtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        except dns.exception.DNSException as exc:
            raise UnsafeTarget(f"cannot resolve {host}: {type(exc).__name__}") from exc
        found.extend(ipaddress.ip_address(r.to_text()) for r in answer)
    if not found:
        raise UnsafeTarget(f"{host} does not resolve to any address")
    return found


async def resolve_target(
    url: str, resolver: dns.asyncresolver.Resolver, allowed: Sequence[IPNetwork]
) -> Target:
    """Resolve ``url``'s host once and check every address; the first is the one to use."""
    scheme, host, port = check_url_syntax(url)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _resolve(resolver, host.rstrip(".").lower())
    for address in addresses:
        reason = refusal(address, allowed)
        if reason is not None:
            raise UnsafeTarget(
                f"{host} is not allowed as a webhook destination: {reason} "
                "(an operator may allow networks with HERALD_WEBHOOK_ALLOW_NETWORKS)"
            )
    chosen = addresses[0]
    if isinstance(chosen, ipaddress.IPv6Address) and chosen.ipv4_mapped is not None:
        chosen = chosen.ipv4_mapped
    return Target(scheme=scheme, host=host, port=port, address=str(chosen))
