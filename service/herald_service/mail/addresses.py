"""Email address rules every feature that takes an address shares: syntax (email-validator),
IDN to A-labels, special-use domains, display names that could spoof an address.

An address is a bare ``a@example.com`` or an RFC 5322 name-addr ``Ann <a@example.com>``
(what Postmark, Resend and SendGrid's clients take). Name-addr strings are parsed by the
standard library's header parser; anything it reports a defect in (a second address, a
group, text after the address, line breaks) is refused rather than guessed at.
"""

from __future__ import annotations

import contextlib
import re
from email import errors as email_errors
from email.policy import default as default_policy
from functools import lru_cache
from typing import Protocol

from email_validator import (
    SPECIAL_USE_DOMAIN_NAMES,
    EmailNotValidError,
    EmailSyntaxError,
    validate_email,
)

from herald_service.core.message import Address
from herald_service.errors import Collector
from herald_service.request_fields import (
    MAX_NAME_LENGTH,
)

CONTROL_CHARS = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]"
)  # incl. C1 and Unicode line breaks


class Mailbox(Protocol):
    """An address as a caller gave it: ``email`` (maybe a name-addr) and a display name."""

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...


def special_use_problem(domain: str) -> str | None:
    """Why ``domain`` cannot send or receive mail, when it is under a special-use or
    reserved name (``.test``, ``.invalid``, ``.localhost``, ``.local``, ``.onion``, ``.arpa``:
    the IANA registry as email-validator keeps it); None otherwise.

    The one rule for addresses and for sending domains, so that a domain Herald lets an
    account add is one it can send from.
    """
    name = domain.strip().rstrip(".").lower()
    with contextlib.suppress(UnicodeError):  # not a name at all: the syntax check says so
        name = name.encode("idna").decode("ascii")
    for reserved in SPECIAL_USE_DOMAIN_NAMES:
        if name == reserved or name.endswith("." + reserved):
            return f"{name} is under .{reserved}, a special-use name that cannot be used with email"
    return None


@lru_cache(maxsize=4096)
def normalized_email(email: str) -> str:
    """``local@a-label.domain`` for a syntactically valid address; raises
    :class:`EmailNotValidError` otherwise. Cached: senders, and many recipients, repeat.

    ``strict`` holds the local part to RFC 5321's 64 octets (ASCII only, so characters are
    octets); the whole address is held to 254 and the domain to 253, labels to 63.
    """
    try:
        checked = validate_email(
            email, check_deliverability=False, allow_smtputf8=False, strict=True
        )
    except EmailNotValidError:
        problem = special_use_problem(email.rpartition("@")[2])
        if problem is not None:
            raise EmailSyntaxError(problem) from None
        raise
    return f"{checked.local_part}@{checked.ascii_domain}"


@lru_cache(maxsize=1024)
def parse_name_addr(value: str) -> tuple[str, str] | None:
    """``(display name, addr-spec)`` of a single RFC 5322 mailbox such as
    ``"Acme, Inc." <hi@acme.example>``, or None when ``value`` is anything else.

    Encoded words (RFC 2047) in the name are decoded; the name is encoded again, properly,
    when the message is built.
    """
    if CONTROL_CHARS.search(value):
        return None
    try:
        header = default_policy.header_factory("to", value)
    except (email_errors.HeaderParseError, IndexError, ValueError, AttributeError):
        # AttributeError: the standard library's parser trips over some malformed groups
        # (a Group where it expects a Mailbox); such a string is no single mailbox anyway.
        return None
    groups = header.groups
    if header.defects or len(groups) != 1 or groups[0].display_name is not None:
        return None
    (mailbox,) = groups[0].addresses or (None,)
    if mailbox is None or not mailbox.username or not mailbox.domain:
        return None
    return str(mailbox.display_name), str(mailbox.addr_spec)


def name_problem(name: str) -> str | None:
    """Why a display name is refused (header injection, a spoofed address), or None."""
    if CONTROL_CHARS.search(name) or "\t" in name:
        return "control characters (such as CR or LF) are not allowed"
    if "@" in name:
        return "a display name may not contain '@' (it can spoof an address)"
    if len(name) > MAX_NAME_LENGTH:
        return f"longer than {MAX_NAME_LENGTH} characters"
    return None


def check_address(errors: Collector, field: str, raw: Mailbox) -> Address | None:
    """The normalized address (domain in A-label form), or None with errors recorded."""
    email, name = raw.email, raw.name
    if "<" in email:
        parsed = parse_name_addr(email)
        if parsed is None:
            errors.add(field, "not a valid address: give a@example.com or Name <a@example.com>")
            return None
        if parsed[0] and name:
            errors.add(f"{field}.name", "the display name is given twice (in name and in email)")
            return None
        name, email = (parsed[0] or name), parsed[1]
    problem = name_problem(name)
    if problem is not None:
        errors.add(f"{field}.name", problem)
    try:
        email = normalized_email(email)
    except EmailNotValidError as exc:
        errors.add(field, f"not a valid email address: {exc}")
        return None
    if problem is not None:
        return None
    return Address(email=email, name=name)


def check_bare_address(errors: Collector, field: str, email: str) -> Address | None:
    """:func:`check_address` for fields that take an address without a display name."""
    if "<" in email:
        errors.add(field, "a bare address such as a@example.com, without a display name")
        return None
    return check_address(errors, field, Address(email))
