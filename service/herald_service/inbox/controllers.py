"""The local capture inbox over HTTP (only when ``HERALD_DELIVERY_MODE=capture``).

Lists what the capture SMTP server received, as JSON and as a minimal HTML page. It needs
no API key: it exists for local development and is not mounted in other modes.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from sqlalchemy import select

from herald_service.api.context import ApiContext
from herald_service.errors import NotFound
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


def _summary(m: CapturedMessage) -> CapturedSummary:
    return CapturedSummary(
        m.id, m.received_at, m.mail_from, list(m.rcpt_tos), m.subject, m.dkim, len(m.raw)
    )


class InboxController(Controller):
    """Read the capture inbox."""

    path = "/dev/inbox"
    tags = ["dev inbox"]
    include_in_schema = False

    @get("/messages")
    async def list_messages(
        self,
        herald: NamedDependency[ApiContext],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> list[CapturedSummary]:
        """The newest captured messages first (a negative limit would mean "all")."""
        async with herald.sessions() as session:
            rows = await session.execute(
                select(CapturedMessage).order_by(CapturedMessage.id.desc()).limit(limit)
            )
            return [_summary(m) for m in rows.scalars()]

    @get("/messages/{captured_id:int}")
    async def get_message(
        self, herald: NamedDependency[ApiContext], captured_id: FromPath[int]
    ) -> CapturedDetail:
        """One captured message with its raw source."""
        async with herald.sessions() as session:
            m = await session.get(CapturedMessage, captured_id)
        if m is None:
            raise NotFound(f"no captured message {captured_id}")
        s = _summary(m)
        return CapturedDetail(**msgspec.structs.asdict(s), raw=m.raw.decode("utf-8", "replace"))

    @get("/", media_type=MediaType.HTML)
    async def page(self, herald: NamedDependency[ApiContext]) -> str:
        """A minimal HTML listing with each message's source."""
        items = await self.list_messages.fn(self, herald, 50)
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
