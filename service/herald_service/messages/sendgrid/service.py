"""Translate SendGrid v3 ``/mail/send`` bodies into Herald send requests.

Each personalization becomes its own message. Only fields Herald implements are accepted;
anything else (batches, ASM groups...) is refused by name rather than ignored. ``send_at``
(a UNIX time, for the request or per personalization) schedules the messages. A
``template_id`` names a Herald template (its id or its alias), rendered per
personalization with its ``dynamic_template_data`` (Jinja2 syntax, not Handlebars).

One request's work is bounded as SendGrid bounds it: at most 1,000 personalizations and
1,000 recipients (to, cc and bcc of every personalization together). The parts every
message repeats (headers, custom args, categories, attachments) are bounded in the schema
before they are repeated, and the content of all messages together may not exceed what
one request body may hold (``HERALD_MAX_REQUEST_BYTES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, NamedTuple

import msgspec
from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.message import OutgoingMessage
from herald_service.core.sending_ips import POOL_NAME_PATTERN
from herald_service.errors import FieldError, InvalidRequest
from herald_service.mail.html_text import html_to_text
from herald_service.messages.intake import validate_send_request
from herald_service.messages.intake.addresses import MAX_REPLY_TO
from herald_service.messages.offload import off_loop
from herald_service.messages.schemas import (
    AttachmentIn,
    EmailAddress,
    SendMessageRequest,
)
from herald_service.messages.sendgrid.fields import sendgrid_field as sendgrid_field
from herald_service.messages.sendgrid.scheduling import UnixTime, scheduled_time, send_at_field
from herald_service.messages.sendgrid.templated import render_personalizations, template_fields
from herald_service.messages.sendgrid.tracking import SGTrackingSettings, tracking_fields
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
)
from herald_service.templates.schemas import TemplateData

MAX_PERSONALIZATIONS = 1000


class SGAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``{"email", "name"}``."""

    email: AddressText
    name: DisplayName = ""


Recipients = Annotated[
    list[SGAddress],
    Meta(max_length=MAX_RECIPIENTS, description="At most 1000 over the whole request."),
]


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
    dynamic_template_data: TemplateData | None = None
    send_at: UnixTime | None = None


class SGSwitch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``{"enable": bool}``."""

    enable: bool = False


class SGMailSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Only sandbox mode is supported."""

    sandbox_mode: SGSwitch | None = None


Personalizations = Annotated[
    list[SGPersonalization],
    Meta(
        min_length=1,
        max_length=MAX_PERSONALIZATIONS,
        description="One message each: at least 1, at most 1000, with at most 1000 "
        "recipients (to, cc and bcc) in all.",
    ),
]


class SGMail(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, rename={"sender": "from"}
):
    """The subset of SendGrid's v3 mail/send body Herald implements."""

    personalizations: Personalizations
    sender: SGAddress
    reply_to: SGAddress | None = None
    reply_to_list: Annotated[list[SGAddress], Meta(max_length=MAX_REPLY_TO)] = msgspec.field(
        default_factory=list
    )
    subject: HeaderText = ""
    content: list[SGContent] = msgspec.field(default_factory=list)
    attachments: Annotated[list[SGAttachment], Meta(max_length=MAX_ATTACHMENTS)] = msgspec.field(
        default_factory=list
    )
    headers: Headers = msgspec.field(default_factory=dict)
    categories: Tags = msgspec.field(default_factory=list)
    custom_args: Metadata = msgspec.field(default_factory=dict)
    mail_settings: SGMailSettings | None = None
    tracking_settings: SGTrackingSettings | None = None
    template_id: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=100,
                description="A Herald template's id or alias (Jinja2 syntax, not Handlebars).",
            ),
        ]
        | None
    ) = None
    send_at: UnixTime | None = None
    ip_pool_name: (
        Annotated[
            str,
            Meta(pattern=POOL_NAME_PATTERN, description="A Herald IP pool (`GET /v1/ip-pools`)."),
        ]
        | None
    ) = None

    @property
    def sandbox(self) -> bool:
        """True when ``mail_settings.sandbox_mode.enable`` is set."""
        mode = self.mail_settings.sandbox_mode if self.mail_settings else None
        return bool(mode and mode.enable)


def content_bytes(mail: SGMail) -> int:
    """About how many bytes of content and attachments each message of ``mail`` repeats."""
    return sum(len(c.value) for c in mail.content) + sum(len(a.content) for a in mail.attachments)


def check_bounds(mail: SGMail, max_bytes: int) -> None:
    """Refuse (naming ``personalizations``) a request over 1,000 recipients in all, or whose
    messages together would hold more than ``max_bytes`` of content and attachments."""
    recipients = sum(len(p.to) + len(p.cc) + len(p.bcc) for p in mail.personalizations)
    problems = []
    if recipients > MAX_RECIPIENTS:
        problems.append(
            f"{recipients} recipients (to, cc and bcc of every personalization); "
            f"at most {MAX_RECIPIENTS} are allowed per request"
        )
    count = len(mail.personalizations)
    total = count * content_bytes(mail)
    if total > max_bytes:
        problems.append(
            f"{count} personalizations repeat {content_bytes(mail) / 1e6:.2f} MB of content "
            f"and attachments: {total / 1e6:.0f} MB in all, over the {max_bytes / 1e6:.0f} MB "
            "a request may hold; send fewer personalizations per request"
        )
    if problems:
        raise InvalidRequest(
            "; ".join(problems), [FieldError("personalizations", p) for p in problems]
        )


def _address(address: SGAddress) -> EmailAddress:
    return EmailAddress(address.email, address.name)


def _body(mail: SGMail, content_type: str) -> str | None:
    values = [c.value for c in mail.content if c.type.lower() == content_type]
    return values[0] if values else None


def to_send_requests(mail: SGMail) -> list[SendMessageRequest]:
    """One Herald request per personalization; what they share is worked out once."""
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
    html = _body(mail, "text/html")
    # The text alternative of HTML-only mail, derived once rather than per message.
    text = _body(mail, "text/plain") or (html_to_text(html) if html else None)
    tracking = tracking_fields(mail.tracking_settings)
    return [
        SendMessageRequest(
            sender=_address(mail.sender),
            to=[_address(a) for a in p.to],
            cc=[_address(a) for a in p.cc],
            bcc=[_address(a) for a in p.bcc],
            reply_to=list(reply_to),
            subject=p.subject if p.subject is not None else mail.subject,
            text=text,
            html=html,
            attachments=attachments,
            headers={**mail.headers, **p.headers},
            tags=list(mail.categories),
            metadata={**mail.custom_args, **p.custom_args},
            sandbox=mail.sandbox,
            send_at=scheduled_time(mail.send_at, p.send_at),
            ip_pool=mail.ip_pool_name,
            **template_fields(mail.template_id, p.dynamic_template_data),
            **tracking,
        )
        for p in mail.personalizations
    ]


async def validate_mail(
    mail: SGMail,
    max_bytes: int,
    sessions: async_sessionmaker[AsyncSession],
    account_id: str,
    max_schedule_ahead: float | None = None,
) -> list[OutgoingMessage]:
    """One validated message per personalization, or :class:`InvalidRequest` naming every
    bad field in SendGrid's terms. Large requests are worked on off the event loop.
    ``max_schedule_ahead`` bounds ``send_at`` as on ``/v1/messages``."""
    check_bounds(mail, max_bytes)
    requests = await off_loop(_translate, [mail], content_bytes(mail))
    if mail.template_id is not None or any(
        p.dynamic_template_data is not None for p in mail.personalizations
    ):
        requests = await render_personalizations(sessions, account_id, requests)
    size = len(requests) * content_bytes(mail)
    jobs = [
        _Job(index, request, send_at_field(index, p.send_at), max_schedule_ahead)
        for index, (request, p) in enumerate(zip(requests, mail.personalizations, strict=True))
    ]
    results = await off_loop(_validate, jobs, size)
    errors = [e for r in results if isinstance(r, list) for e in r]
    if errors:
        unique = list(dict.fromkeys(errors))  # shared parts: one error, not one per message
        fields = ", ".join(dict.fromkeys(e.field for e in unique))
        raise InvalidRequest(f"the request has invalid fields: {fields}", unique)
    return [r for r in results if isinstance(r, OutgoingMessage)]


def _translate(mails: Sequence[SGMail]) -> list[SendMessageRequest]:
    return to_send_requests(mails[0])


class _Job(NamedTuple):
    """One personalization's request to validate, and where its ``send_at`` came from."""

    position: int
    request: SendMessageRequest
    send_at_field: str
    max_schedule_ahead: float | None


def _validate(jobs: Sequence[_Job]) -> list[OutgoingMessage | list[FieldError]]:
    results: list[OutgoingMessage | list[FieldError]] = []
    for job in jobs:
        try:
            ahead = job.max_schedule_ahead
            results.append(validate_send_request(job.request, max_schedule_ahead=ahead))
        except InvalidRequest as exc:
            results.append([_field_error(job, e) for e in exc.errors])
    return results


def _field_error(job: _Job, error: FieldError) -> FieldError:
    if error.field == "send_at":
        return FieldError(job.send_at_field, error.message)
    return FieldError(sendgrid_field(job.position, error.field), error.message)
