"""The body of a send request as callers write it (``POST /v1/messages``).

These Structs are the input contract: the HTTP layer decodes JSON into them, the
SendGrid-compatible endpoint translates into them, and :mod:`.intake` validates them.
Unknown fields are refused everywhere.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from herald_service.request_fields import (
    MAX_ATTACHMENTS,
    MAX_RECIPIENTS,
    AddressText,
    Base64,
    ContentId,
    DisplayName,
    Disposition,
    Filename,
    Headers,
    HeaderText,
    MediaType,
    Metadata,
    Tags,
    UnsubscribeUrl,
)


class EmailAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A mailbox with an optional display name."""

    email: AddressText
    name: DisplayName = ""


AddressField = AddressText | EmailAddress
"""``"a@example.com"`` or ``{"email": "a@example.com", "name": "A"}``."""

AddressList = AddressField | Annotated[list[AddressField], msgspec.Meta(max_length=MAX_RECIPIENTS)]


class AttachmentIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A file to attach; ``content`` is base64. Inline parts need a ``content_id``."""

    filename: Filename
    content: Base64
    content_type: MediaType = ""
    disposition: Disposition = "attachment"
    content_id: ContentId = ""


class Unsubscribe(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Targets for List-Unsubscribe; a URL also enables one-click (RFC 8058)."""

    url: UnsubscribeUrl = ""
    mailto: AddressText = ""


class SendMessageRequest(
    msgspec.Struct, forbid_unknown_fields=True, rename={"sender": "from"}, kw_only=True
):
    """``POST /v1/messages``: one message to up to 1000 recipients."""

    sender: AddressField
    to: AddressList | None = None
    cc: AddressList | None = None
    bcc: AddressList | None = None
    reply_to: AddressList | None = None
    subject: HeaderText = ""
    text: str | None = None
    html: str | None = None
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = (
        msgspec.field(default_factory=list)
    )
    headers: Headers = msgspec.field(default_factory=dict)
    tags: Tags = msgspec.field(default_factory=list)
    metadata: Metadata = msgspec.field(default_factory=dict)
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
