"""Read bounce and complaint reports: DSNs (RFC 3464), common non-standard bounces and
ARF feedback reports (RFC 5965). Pure parsing; what to do with them is elsewhere."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser

from msgspec import Struct

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_LINE = re.compile(r"^\s*([45]\d\d)[\s-]", re.MULTILINE)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class DeliveryReport(Struct, frozen=True):
    """What a bounce says about one recipient."""

    recipient: str  # the address as the report names it ("" when it names none)
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # RFC 3463 code, e.g. 5.1.1 ("" when unknown)
    diagnostic: str = ""

    @property
    def permanent(self) -> bool:
        """A final failure (``failed`` with a 5.x.x status)."""
        return self.action == "failed" and self.status.startswith("5.")


class Complaint(Struct, frozen=True):
    """An ARF report: a recipient marked the message as abuse (or similar)."""

    feedback_type: str
    recipient: str = ""
    user_agent: str = ""


def _address(value: str) -> str:
    """``rfc822; a@b.c`` → ``a@b.c``."""
    _, _, address = value.rpartition(";")
    return address.strip().strip("<>").lower()


def _fields(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` or ``message/feedback-report``."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser().parsestr(block) for block in blocks if block.strip()]


def _report_part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def parse_complaint(raw: bytes) -> Complaint | None:
    """The ARF report in ``raw``, or None when it is not one."""
    message = message_from_bytes(raw, policy=policy.compat32)
    part = _report_part(message, "message/feedback-report")
    if part is None:
        return None
    blocks = _fields(part)
    if not blocks:
        return None
    fields = blocks[0]
    recipient = str(fields.get("Original-Rcpt-To", "") or "").strip().strip("<>").lower()
    return Complaint(
        feedback_type=str(fields.get("Feedback-Type", "abuse")).strip().lower(),
        recipient=recipient,
        user_agent=str(fields.get("User-Agent", "")).strip(),
    )


def parse_dsn(raw: bytes) -> list[DeliveryReport]:
    """Per-recipient reports of a DSN; for a non-standard bounce, the best reading of its
    text (the first status code or SMTP reply found, the addresses it mentions)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    part = _report_part(message, "message/delivery-status")
    if part is not None:
        reports = []
        for block in _fields(part)[1:]:
            recipient = _address(
                str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            )
            action = str(block.get("Action", "")).strip().lower()
            status = _STATUS.search(str(block.get("Status", "")))
            reports.append(
                DeliveryReport(
                    recipient=recipient,
                    action=action,
                    status=".".join(status.groups()) if status else "",
                    diagnostic=" ".join(str(block.get("Diagnostic-Code", "")).split()),
                )
            )
        if reports:
            return reports
    return _non_standard(message)


def _body_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
        if part.get_content_type() == "message/rfc822":
            break  # the returned original message is not the bounce's own words
    return ""


def _non_standard(message: Message) -> list[DeliveryReport]:
    text = _body_text(message)
    status = _STATUS.search(text)
    smtp = _SMTP_LINE.search(text)
    if status is not None:
        code = ".".join(status.groups())
    elif smtp is not None:
        code = f"{smtp.group(1)[0]}.0.0"
    else:
        return []
    line = next(
        (ln.strip() for ln in text.splitlines() if code in ln or (smtp and smtp.group(1) in ln)), ""
    )
    action = "failed" if code.startswith("5.") else "delayed"
    recipients = sorted({a.lower() for a in _ADDRESS.findall(text)}) or [""]
    return [DeliveryReport(r, action, code, line[:500]) for r in recipients]
