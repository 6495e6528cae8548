"""Address rules: syntax (email-validator), IDN to A-labels, spoofed names, recipient limits."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from herald_service.core.message import Address
from herald_service.services.intake.collector import Collector
from herald_service.services.send_request import EmailAddress

MAX_RECIPIENTS = 1000
MAX_REPLY_TO = 50
MAX_NAME_LENGTH = 256
CONTROL_CHARS = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]"
)  # incl. C1 and Unicode line breaks


@lru_cache(maxsize=4096)
def normalized_email(email: str) -> str:
    """``local@a-label.domain`` for a syntactically valid address; raises
    :class:`EmailNotValidError` otherwise. Cached: senders, and many recipients, repeat."""
    checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    return f"{checked.local_part}@{checked.ascii_domain}"


def check_address(errors: Collector, field: str, raw: EmailAddress) -> Address | None:
    """The normalized address (domain in A-label form), or None with errors recorded."""
    ok = True
    if CONTROL_CHARS.search(raw.name) or "\t" in raw.name:
        errors.add(f"{field}.name", "control characters (such as CR or LF) are not allowed")
        ok = False
    elif "@" in raw.name:
        errors.add(f"{field}.name", "a display name may not contain '@' (it can spoof an address)")
        ok = False
    elif len(raw.name) > MAX_NAME_LENGTH:
        errors.add(f"{field}.name", f"longer than {MAX_NAME_LENGTH} characters")
        ok = False
    try:
        email = normalized_email(raw.email)
    except EmailNotValidError as exc:
        errors.add(field, f"not a valid email address: {exc}")
        return None
    if not ok:
        return None
    return Address(email=email, name=raw.name)


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
