"""Validate a send request into an :class:`OutgoingMessage`, collecting every field error."""

from __future__ import annotations

import re
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email

from herald_service.core.message import Address, OutgoingMessage
from herald_service.errors import FieldError, InvalidRequest

MAX_RECIPIENTS = 1000
MAX_HEADER_LINE = 998
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AddressInput:
    """What the API accepts for an address: ``"a@b.c"`` or ``{"email", "name"}``."""

    def __init__(self, email: str, name: str = "") -> None:
        self.email = email
        self.name = name


class Collector:
    """Gathers field errors so that one response can name all of them."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        """Record that ``field`` is bad."""
        self.errors.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        """Raise :class:`InvalidRequest` listing every recorded error."""
        if self.errors:
            fields = ", ".join(e.field for e in self.errors)
            raise InvalidRequest(f"the request has invalid fields: {fields}", self.errors)


def check_address(errors: Collector, field: str, raw: AddressInput) -> Address | None:
    """A normalized :class:`Address` (A-label domain), or None with an error recorded."""
    if _CONTROL.search(raw.name):
        errors.add(f"{field}.name", "control characters (such as CR or LF) are not allowed")
        return None
    if "@" in raw.name:
        errors.add(f"{field}.name", "a display name may not contain '@' (address spoofing)")
        return None
    try:
        checked = validate_email(raw.email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        errors.add(field, f"not a valid email address: {exc}")
        return None
    domain = checked.ascii_domain
    return Address(email=f"{checked.local_part}@{domain}", name=raw.name)


def check_addresses(
    errors: Collector, field: str, raws: Sequence[AddressInput]
) -> tuple[Address, ...]:
    """Validate a list of addresses, recording an error for each bad one."""
    found = (check_address(errors, f"{field}[{i}]", raw) for i, raw in enumerate(raws))
    return tuple(a for a in found if a is not None)


def check_text_header(errors: Collector, field: str, value: str) -> None:
    """Refuse control characters and overlong values in a header."""
    if _CONTROL.search(value):
        errors.add(field, "control characters (such as CR or LF) are not allowed")
    elif len(value) > MAX_HEADER_LINE:
        errors.add(field, f"longer than {MAX_HEADER_LINE} characters")


def build_outgoing(
    *,
    sender: AddressInput,
    to: Sequence[AddressInput],
    cc: Sequence[AddressInput] = (),
    bcc: Sequence[AddressInput] = (),
    reply_to: Sequence[AddressInput] = (),
    subject: str = "",
    text: str | None = None,
    html: str | None = None,
    tags: Sequence[str] = (),
    metadata: dict[str, str] | None = None,
    sandbox: bool = False,
) -> OutgoingMessage:
    """Validate every field and return the message, or raise listing every problem."""
    errors = Collector()
    sender_address = check_address(errors, "from", sender)
    to_list = check_addresses(errors, "to", to)
    cc_list = check_addresses(errors, "cc", cc)
    bcc_list = check_addresses(errors, "bcc", bcc)
    reply_list = check_addresses(errors, "reply_to", reply_to)
    if not to and not cc and not bcc:
        errors.add("to", "at least one recipient is required")
    total = len(to) + len(cc) + len(bcc)
    if total > MAX_RECIPIENTS:
        errors.add("to", f"{total} recipients; at most {MAX_RECIPIENTS} are allowed")
    seen: set[str] = set()
    for kind, addresses in (("to", to_list), ("cc", cc_list), ("bcc", bcc_list)):
        for address in addresses:
            if address.email.lower() in seen:
                errors.add(kind, f"duplicate recipient {address.email}")
            seen.add(address.email.lower())
    check_text_header(errors, "subject", subject)
    if text is None and html is None:
        errors.add("text", "a message needs text or html content")
    errors.raise_if_any()
    assert sender_address is not None
    return OutgoingMessage(
        sender=sender_address,
        to=to_list,
        cc=cc_list,
        bcc=bcc_list,
        reply_to=reply_list,
        subject=subject,
        text=text,
        html=html,
        tags=tuple(tags),
        metadata=dict(metadata or {}),
        sandbox=sandbox,
    )
