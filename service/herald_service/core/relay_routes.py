"""Which mail goes through the smarthost when the rest is delivered straight to MX hosts.

``HERALD_RELAY_ROUTES`` lists ``recipient:DOMAIN`` and ``sender:DOMAIN`` entries: mail to a
listed recipient domain, or from a listed sending domain, goes through the relay, the rest
to the recipients' MX hosts. Domains match exactly (a subdomain is listed on its own), so
deciding costs two set lookups per recipient domain, and nothing when no route is set.
"""

from __future__ import annotations

import re

from msgspec import Struct

_KINDS = ("recipient", "sender")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$")


class RelayRoutes(Struct, frozen=True):
    """Recipient domains and sending domains whose mail goes through the relay."""

    recipients: frozenset[str] = frozenset()
    senders: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.recipients or self.senders)

    def takes(self, recipient_domain: str, sender_domain: str) -> bool:
        """Whether mail from ``sender_domain`` to ``recipient_domain`` (lower case) is
        relayed."""
        return recipient_domain in self.recipients or sender_domain in self.senders


def parse_relay_routes(raw: str) -> RelayRoutes:
    """``recipient:example.com, sender:corp.example`` (commas, semicolons or spaces
    between entries) as :class:`RelayRoutes`; ``ValueError`` names a bad entry."""
    found: dict[str, set[str]] = {kind: set() for kind in _KINDS}
    for entry in re.split(r"[,;\s]+", raw.strip()):
        if not entry:
            continue
        kind, _, domain = entry.partition(":")
        domain = domain.strip().lower().rstrip(".")
        if kind.strip().lower() not in _KINDS or not _DOMAIN.match(domain):
            raise ValueError(
                f"{entry!r} is not recipient:DOMAIN or sender:DOMAIN "
                "(e.g. recipient:example.com,sender:corp.example)"
            )
        found[kind.strip().lower()].add(domain)
    return RelayRoutes(frozenset(found["recipient"]), frozenset(found["sender"]))
