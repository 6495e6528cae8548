"""The body of a send request as callers write it (``POST /v1/messages``).

These Structs are the input contract: the HTTP layer decodes JSON into them, the
SendGrid-compatible endpoint translates into them, and :mod:`.intake` validates them.
Unknown fields are refused everywhere.
"""

from __future__ import annotations

import msgspec


class EmailAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A mailbox with an optional display name."""

    email: str
    name: str = ""


AddressField = str | EmailAddress
"""``"a@example.com"`` or ``{"email": "a@example.com", "name": "A"}``."""


class AttachmentIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A file to attach; ``content`` is base64. Inline parts need a ``content_id``."""

    filename: str
    content: str
    content_type: str = ""
    disposition: str = "attachment"
    content_id: str = ""


class Unsubscribe(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Targets for List-Unsubscribe; a URL also enables one-click (RFC 8058)."""

    url: str = ""
    mailto: str = ""


class SendMessageRequest(
    msgspec.Struct, forbid_unknown_fields=True, rename={"sender": "from"}, kw_only=True
):
    """``POST /v1/messages``: one message to up to 1000 recipients."""

    sender: AddressField
    to: AddressField | list[AddressField] | None = None
    cc: AddressField | list[AddressField] | None = None
    bcc: AddressField | list[AddressField] | None = None
    reply_to: AddressField | list[AddressField] | None = None
    subject: str = ""
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentIn] = msgspec.field(default_factory=list)
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    unsubscribe: Unsubscribe | None = None
    sandbox: bool = False


def address_list(value: AddressField | list[AddressField] | None) -> list[EmailAddress]:
    """One address or a list of them, always as :class:`EmailAddress` values."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [EmailAddress(v) if isinstance(v, str) else v for v in items]


def request_size(request: SendMessageRequest) -> int:
    """About how many bytes of content (text, HTML, base64 attachments) ``request`` holds."""
    text = len(request.text or "") + len(request.html or "")
    return text + sum(len(a.content) for a in request.attachments)
