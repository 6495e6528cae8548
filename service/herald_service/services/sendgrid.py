"""Translate SendGrid v3 ``/mail/send`` bodies into Herald send requests.

Each personalization becomes its own message. Only fields Herald implements are accepted;
anything else (templates, scheduling, tracking...) is refused by name rather than ignored.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from herald_service.services.request_fields import (
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
)
from herald_service.services.send_request import (
    AttachmentIn,
    EmailAddress,
    SendMessageRequest,
)


class SGAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``{"email", "name"}``."""

    email: AddressText
    name: DisplayName = ""


Recipients = Annotated[list[SGAddress], msgspec.Meta(max_length=MAX_RECIPIENTS)]


class SGContent(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One body part: ``text/plain`` or ``text/html``."""

    type: str
    value: str


class SGAttachment(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A base64 attachment."""

    content: Base64
    filename: Filename
    type: MediaType = ""
    disposition: Disposition = "attachment"
    content_id: ContentId = ""


class SGPersonalization(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Recipients and per-message overrides."""

    to: Recipients = msgspec.field(default_factory=list)
    cc: Recipients = msgspec.field(default_factory=list)
    bcc: Recipients = msgspec.field(default_factory=list)
    subject: HeaderText | None = None
    headers: Headers = msgspec.field(default_factory=dict)
    custom_args: Metadata = msgspec.field(default_factory=dict)


class SGSwitch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``{"enable": bool}``."""

    enable: bool = False


class SGMailSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Only sandbox mode is supported."""

    sandbox_mode: SGSwitch | None = None


class SGMail(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, rename={"sender": "from"}
):
    """The subset of SendGrid's v3 mail/send body Herald implements."""

    personalizations: Annotated[list[SGPersonalization], msgspec.Meta(min_length=1)]
    sender: SGAddress
    reply_to: SGAddress | None = None
    reply_to_list: Recipients = msgspec.field(default_factory=list)
    subject: HeaderText = ""
    content: list[SGContent] = msgspec.field(default_factory=list)
    attachments: Annotated[list[SGAttachment], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = (
        msgspec.field(default_factory=list)
    )
    headers: Headers = msgspec.field(default_factory=dict)
    categories: Tags = msgspec.field(default_factory=list)
    custom_args: Metadata = msgspec.field(default_factory=dict)
    mail_settings: SGMailSettings | None = None

    @property
    def sandbox(self) -> bool:
        """True when ``mail_settings.sandbox_mode.enable`` is set."""
        mode = self.mail_settings.sandbox_mode if self.mail_settings else None
        return bool(mode and mode.enable)


def _address(address: SGAddress) -> EmailAddress:
    return EmailAddress(address.email, address.name)


def _body(mail: SGMail, content_type: str) -> str | None:
    values = [c.value for c in mail.content if c.type.lower() == content_type]
    return values[0] if values else None


def to_send_requests(mail: SGMail) -> list[SendMessageRequest]:
    """One Herald request per personalization."""
    reply_to = [_address(a) for a in mail.reply_to_list] or (
        [_address(mail.reply_to)] if mail.reply_to else []
    )
    attachments = [
        AttachmentIn(
            filename=a.filename,
            content=a.content,
            content_type=a.type,
            disposition=a.disposition,
            content_id=a.content_id,
        )
        for a in mail.attachments
    ]
    return [
        SendMessageRequest(
            sender=_address(mail.sender),
            to=[_address(a) for a in p.to],
            cc=[_address(a) for a in p.cc],
            bcc=[_address(a) for a in p.bcc],
            reply_to=list(reply_to),
            subject=p.subject if p.subject is not None else mail.subject,
            text=_body(mail, "text/plain"),
            html=_body(mail, "text/html"),
            attachments=attachments,
            headers={**mail.headers, **p.headers},
            tags=list(mail.categories),
            metadata={**mail.custom_args, **p.custom_args},
            sandbox=mail.sandbox,
        )
        for p in mail.personalizations
    ]


_FIELD_NAMES = {
    "text": "content",
    "html": "content",
    "tags": "categories",
    "metadata": "custom_args",
    "from": "from.email",
}
_PER_PERSONALIZATION = ("to", "cc", "bcc", "subject", "headers", "metadata")


def sendgrid_field(index: int, field: str) -> str:
    """A Herald field path in SendGrid's terms (``to[0]`` → ``personalizations.0.to.0``)."""
    head, sep, rest = field.partition(".")
    base = head.split("[")[0]
    renamed = _FIELD_NAMES.get(base, base) + head[len(base) :] + sep + rest
    if base in _PER_PERSONALIZATION:
        renamed = f"personalizations[{index}].{renamed}"
    return renamed
