"""The local capture inbox over HTTP (only when ``HERALD_DELIVERY_MODE=capture``).

Lists what the capture SMTP server received as JSON. It needs no API key: it exists for
local development and is not mounted in other modes. People read the inbox in the
console (``/console/inbox``, per account, signed in), where ``/dev/inbox/`` now leads.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from herald_service.api.context import ApiContext
from herald_service.inbox.schemas import (
    CapturedDetail,
    CapturedSummary,
    captured_detail,
    captured_summary,
)
from herald_service.inbox.service import get_captured, list_captured


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
            return [captured_summary(m) for m in await list_captured(session, limit)]

    @get("/messages/{captured_id:int}")
    async def get_message(
        self, herald: NamedDependency[ApiContext], captured_id: FromPath[int]
    ) -> CapturedDetail:
        """One captured message with its raw source."""
        async with herald.sessions() as session:
            return captured_detail(await get_captured(session, captured_id))

    @get("/")
    async def page(self) -> Redirect:
        """The inbox page moved into the console."""
        return Redirect(path="/console/inbox", status_code=302)
