"""The addresses in ``HERALD_SENDING_IPS``, whatever else an entry carries.

An entry is an IP address, optionally followed by ``=NAME`` (the address's name, for
the sending-IP settings). What checks an address from outside (the DNSBL monitor) needs
only the addresses, so it reads them here, through one small function.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def sending_addresses(entries: Iterable[str]) -> tuple[str, ...]:
    """The IP addresses of ``entries`` (``ADDRESS`` or ``ADDRESS=NAME``), normalized,
    each once, in order; an entry that is no address is skipped (settings refuse it)."""
    found: dict[str, None] = {}
    for entry in entries:
        address = entry.partition("=")[0].strip()
        try:
            found[str(ipaddress.ip_address(address))] = None
        except ValueError:
            continue
    return tuple(found)
