"""Read a submitted message: what Herald checks, removes and adds before signing it.

The client's MIME is kept as written; only the header section changes: ``Bcc`` and the
``X-Herald-*`` options are removed, a missing ``Message-ID`` or ``Date`` is added. The
recipients are the envelope's (RCPT TO), each tagged ``to``/``cc`` when the header names
it, else ``bcc``: a Bcc recipient is delivered to without being visible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, getaddresses

import msgspec

from herald_service.core.header_section import (
    MalformedMessage,
    MessageParts,
    decoded_text,
    normalise_line_endings,
    split_message,
)
from herald_service.core.message import Address
from herald_service.core.mime import new_message_id
from herald_service.errors import Collector
from herald_service.mail.addresses import check_address
from herald_service.submission.options import PREFIX, SubmissionOptions, read_options
from herald_service.submission.replies import Refusal


class SubmittedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A checked submission: the message to sign and what its rows record."""

    parts: MessageParts
    sender: Address
    subject: str
    message_id: str
    envelope: list[tuple[str, Address]]
    options: SubmissionOptions
    header_to: list[Address]
    header_cc: list[Address]
    reply_to: list[Address]

    def to_bytes(self) -> bytes:
        """The message as it will be signed."""
        return self.parts.to_bytes()


def _malformed(problem: str) -> Refusal:
    return Refusal(550, "5.6.0", problem)


def _addresses(parts: MessageParts, name: str) -> list[Address]:
    """The valid mailboxes of every ``name`` field (an invalid one is the client's
    business in To and Cc: delivery goes to the envelope)."""
    found: list[Address] = []
    for _, email in getaddresses([f.value for f in parts.named(name)]):
        errors = Collector()
        address = check_address(errors, name, Address(email))
        if address is not None:
            found.append(address)
    return found


def _sender(parts: MessageParts) -> Address:
    """The one mailbox of the one From field (RFC 5322 §3.6.2 for a single author)."""
    fields = parts.named("From")
    if len(fields) != 1:
        raise _malformed("exactly one From header field is required")
    mailboxes = getaddresses([fields[0].value])
    if len(mailboxes) != 1 or not mailboxes[0][1]:
        raise _malformed("From must hold exactly one address")
    errors = Collector()
    name, email = mailboxes[0]
    sender = check_address(errors, "from", Address(email, decoded_text(name)))
    if sender is None:
        raise _malformed(f"From: {errors.errors[0].message}")
    return sender


def _envelope(
    recipients: list[Address], to: list[Address], cc: list[Address]
) -> list[tuple[str, Address]]:
    to_emails = {a.email.lower() for a in to}
    cc_emails = {a.email.lower() for a in cc}
    envelope: list[tuple[str, Address]] = []
    for address in recipients:
        email = address.email.lower()
        kind = "to" if email in to_emails else "cc" if email in cc_emails else "bcc"
        envelope.append((kind, address))
    return envelope


def read_submission(
    data: bytes, recipients: list[Address], hostname: str, max_schedule_ahead: float
) -> SubmittedMessage:
    """The checked message of a DATA transaction; :class:`Refusal` (550 5.6.0) naming
    what makes it unacceptable. ``recipients`` are the envelope's, already checked."""
    try:
        parts = split_message(normalise_line_endings(data))
    except MalformedMessage as exc:
        raise _malformed(str(exc)) from None
    sender = _sender(parts)
    options = read_options(parts, max_schedule_ahead)
    to, cc = _addresses(parts, "To"), _addresses(parts, "Cc")
    subject_fields = parts.named("Subject")
    if len(subject_fields) > 1:
        raise _malformed("at most one Subject header field is allowed")
    added: list[tuple[str, str]] = []
    ids = parts.named("Message-ID")
    message_id = ids[0].value if ids else new_message_id(hostname)
    if not ids:
        added.append(("Message-ID", message_id))
    if not parts.named("Date"):
        when = options.send_at or datetime.now(UTC)
        added.append(("Date", format_datetime(when)))
    kept = parts.without("Bcc", prefix=PREFIX).with_fields(*added)
    return SubmittedMessage(
        parts=kept,
        sender=sender,
        subject=decoded_text(subject_fields[0].value) if subject_fields else "",
        message_id=message_id,
        envelope=_envelope(recipients, to, cc),
        options=options,
        header_to=to,
        header_cc=cc,
        reply_to=_addresses(parts, "Reply-To"),
    )
