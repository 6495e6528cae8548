"""Per-message options a submitted message carries in ``X-Herald-*`` header fields.

What ``POST /v1/messages`` takes as JSON fields, an SMTP client sets as header fields
(SendGrid's ``X-SMTPAPI`` and Postmark's ``X-PM-Tag`` do the same). They are read, checked
with the API's own rules, and removed before the message is signed: recipients never see
them. Any other ``X-Herald-*`` field is refused, so a misspelt option is not silently
ignored.

============================  ==============================================================
``X-Herald-Tags``             comma-separated tags (``welcome, onboarding``)
``X-Herald-Metadata``         a JSON object of string values (``{"user_id": "42"}``)
``X-Herald-Sandbox``          ``true``: capture in the inbox instead of delivering
``X-Herald-Send-At``          RFC 3339 time with offset: schedule the message
``X-Herald-Template``         a template id (``tpl_...``) or alias: its rendering replaces
                              the body and Subject (the From, To, Cc and Reply-To are kept)
``X-Herald-Template-Data``    the template's variables, a JSON object
============================  ==============================================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from herald_service.core.header_section import MessageParts
from herald_service.core.scheduling import normalize_send_at, send_at_problem
from herald_service.errors import Collector
from herald_service.messages.intake.content import check_metadata, check_tags
from herald_service.submission.replies import Refusal

PREFIX = "x-herald-"
# The option header fields, as the API, the CLI and the console name them.
OPTION_HEADERS = (
    "X-Herald-Tags",
    "X-Herald-Metadata",
    "X-Herald-Sandbox",
    "X-Herald-Send-At",
    "X-Herald-Template",
    "X-Herald-Template-Data",
)
_KNOWN = {name.lower() for name in OPTION_HEADERS}
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class SubmissionOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The options of one submitted message (all defaults: a plain send)."""

    tags: tuple[str, ...] = ()
    metadata: dict[str, str] = {}
    sandbox: bool = False
    send_at: datetime | None = None
    template: str | None = None
    template_data: dict[str, Any] | None = None


def _refuse(field: str, problem: str) -> Refusal:
    return Refusal(550, "5.6.0", f"{field}: {problem}")


def _single(parts: MessageParts, name: str) -> str | None:
    fields = parts.named(name)
    if len(fields) > 1:
        raise _refuse(name, "given more than once")
    return fields[0].value if fields else None


def _json_object(name: str, value: str) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(value.encode())
    except msgspec.DecodeError:
        raise _refuse(name, "not valid JSON") from None
    if not isinstance(decoded, dict):
        raise _refuse(name, "a JSON object is expected")
    return decoded


def _metadata(value: str | None) -> dict[str, str]:
    if value is None:
        return {}
    decoded = _json_object("X-Herald-Metadata", value)
    if not all(isinstance(v, str) for v in decoded.values()):
        raise _refuse("X-Herald-Metadata", "values must be strings")
    return decoded


def _send_at(value: str | None, sandbox: bool, max_ahead: float) -> datetime | None:
    if value is None:
        return None
    name = "X-Herald-Send-At"
    if sandbox:
        raise _refuse(name, "sandbox messages are captured at once: leave it out")
    try:
        when = msgspec.json.decode(msgspec.json.encode(value), type=datetime)
    except msgspec.ValidationError:
        raise _refuse(name, "an RFC 3339 time with offset is expected") from None
    if when.tzinfo is None:
        raise _refuse(name, "an RFC 3339 time with offset is expected")
    problem = send_at_problem(when, datetime.now(UTC), max_ahead)
    if problem is not None:
        raise _refuse(name, problem)
    return normalize_send_at(when)


def read_options(parts: MessageParts, max_schedule_ahead: float) -> SubmissionOptions:
    """The options ``parts`` carries; :class:`Refusal` (550 5.6.0) naming a bad one."""
    for field in parts.fields:
        lowered = field.name.lower()
        if lowered.startswith(PREFIX) and lowered not in _KNOWN:
            raise _refuse(field.name, "not a Herald option (see the README's list)")
    tags_value = _single(parts, "X-Herald-Tags")
    tags = [t.strip() for t in tags_value.split(",")] if tags_value else []
    metadata = _metadata(_single(parts, "X-Herald-Metadata"))
    errors = Collector()
    check_tags(errors, tags)
    check_metadata(errors, metadata)
    if errors.errors:
        error = errors.errors[0]
        raise _refuse(f"X-Herald-{error.field.split('[')[0].split('.')[0].title()}", error.message)
    sandbox_value = (_single(parts, "X-Herald-Sandbox") or "false").lower()
    if sandbox_value not in _BOOLEANS:
        raise _refuse("X-Herald-Sandbox", "true or false")
    sandbox = _BOOLEANS[sandbox_value]
    data = _single(parts, "X-Herald-Template-Data")
    template = _single(parts, "X-Herald-Template")
    if data is not None and template is None:
        raise _refuse("X-Herald-Template-Data", "given without X-Herald-Template")
    return SubmissionOptions(
        tags=tuple(tags),
        metadata=metadata,
        sandbox=sandbox,
        send_at=_send_at(_single(parts, "X-Herald-Send-At"), sandbox, max_schedule_ahead),
        template=template or None,
        template_data=_json_object("X-Herald-Template-Data", data) if data else None,
    )
