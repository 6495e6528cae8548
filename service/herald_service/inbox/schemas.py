"""The shapes of the capture inbox (JSON and a minimal HTML page) and their presenters."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

import msgspec

from herald_service.storage.models import CapturedMessage


class CapturedSummary(msgspec.Struct):
    """A captured message without its body."""

    id: int
    received_at: datetime
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    dkim: str
    size: int


class CapturedDetail(CapturedSummary):
    """A captured message with its raw source."""

    raw: str


def captured_summary(m: CapturedMessage) -> CapturedSummary:
    """A captured message as the inbox lists it."""
    return CapturedSummary(
        m.id, m.received_at, m.mail_from, list(m.rcpt_tos), m.subject, m.dkim, len(m.raw)
    )


def captured_detail(m: CapturedMessage) -> CapturedDetail:
    """A captured message with its source (bytes that are not UTF-8 replaced)."""
    s = captured_summary(m)
    return CapturedDetail(**msgspec.structs.asdict(s), raw=m.raw.decode("utf-8", "replace"))


def inbox_page(items: Sequence[CapturedSummary]) -> str:
    """A minimal HTML listing linking to each message's source."""
    rows = "".join(
        f"<tr><td>{m.id}</td><td>{html.escape(m.received_at.isoformat())}</td>"
        f"<td>{html.escape(m.mail_from)}</td><td>{html.escape(', '.join(m.rcpt_tos))}</td>"
        f"<td><a href='/dev/inbox/messages/{m.id}'>{html.escape(m.subject)}</a></td>"
        f"<td>{html.escape(m.dkim)}</td></tr>"
        for m in items
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Herald inbox</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>Herald capture inbox</h1><p>{len(items)} message(s)</p><table>"
        "<tr><th>#</th><th>received</th><th>from</th><th>to</th><th>subject</th>"
        f"<th>DKIM</th></tr>{rows}</table></body></html>"
    )
