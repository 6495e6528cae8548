"""Recipient rules of a message: at least one, at most 1000, no duplicates; Reply-To.

Each address itself is checked by :func:`herald_service.mail.addresses.check_address`.
"""

from __future__ import annotations

from herald_service.core.message import Address
from herald_service.errors import Collector
from herald_service.mail.addresses import check_address
from herald_service.messages.schemas import EmailAddress
from herald_service.request_fields import (
    MAX_RECIPIENTS,
)

MAX_REPLY_TO = 50


def check_recipients(
    errors: Collector, to: list[EmailAddress], cc: list[EmailAddress], bcc: list[EmailAddress]
) -> tuple[tuple[Address, ...], tuple[Address, ...], tuple[Address, ...]]:
    """Validate To, Cc and Bcc together: at least one, at most 1000, no duplicates."""
    total = len(to) + len(cc) + len(bcc)
    if total == 0:
        errors.add("to", "at least one recipient (to, cc or bcc) is required")
    if total > MAX_RECIPIENTS:
        errors.add("to", f"{total} recipients; at most {MAX_RECIPIENTS} are allowed per message")
        return (), (), ()
    seen: set[str] = set()
    lists: list[tuple[Address, ...]] = []
    for kind, raws in (("to", to), ("cc", cc), ("bcc", bcc)):
        valid: list[Address] = []
        for i, raw in enumerate(raws):
            address = check_address(errors, f"{kind}[{i}]", raw)
            if address is None:
                continue
            if address.email.lower() in seen:
                errors.add(f"{kind}[{i}]", f"duplicate recipient {address.email}")
                continue
            seen.add(address.email.lower())
            valid.append(address)
        lists.append(tuple(valid))
    return lists[0], lists[1], lists[2]


def check_reply_to(errors: Collector, raws: list[EmailAddress]) -> tuple[Address, ...]:
    """Valid Reply-To addresses, at most :data:`MAX_REPLY_TO` (each costs a validation)."""
    if len(raws) > MAX_REPLY_TO:
        errors.add("reply_to", f"{len(raws)} addresses; at most {MAX_REPLY_TO} are allowed")
        return ()
    return tuple(
        a
        for i, raw in enumerate(raws)
        if (a := check_address(errors, f"reply_to[{i}]", raw)) is not None
    )
