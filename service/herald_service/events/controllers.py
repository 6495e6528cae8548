"""``GET /v1/events``: the account's event log with filters and cursor pagination."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.api.query_params import Cursor, PageSize, Since, Until
from herald_service.core.states import EVENT_TYPES
from herald_service.errors import FieldError, InvalidRequest
from herald_service.events import log as event_log
from herald_service.events.log import EventFilter
from herald_service.events.schemas import EventList, event_list
from herald_service.keys.service import AuthContext
from herald_service.pagination import timestamp


class EventController(AuthenticatedController):
    """The event log: every state change of every recipient."""

    path = "/v1/events"
    tags = ["events"]

    @get(
        "/",
        opt={"scope": "read"},
        summary="List events",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_events(
        self,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        event_type: Annotated[
            list[str] | None,
            QueryParameter(name="type", description="Event types (repeat or comma-separate)."),
        ] = None,
        message_id: FromQuery[str | None] = None,
        recipient: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        since: Since = None,
        until: Until = None,
        cursor: Cursor = None,
        limit: PageSize = 50,
    ) -> EventList:
        """Events newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
        types = tuple(t.strip() for raw in event_type or [] for t in raw.split(",") if t.strip())
        unknown = [t for t in types if t not in EVENT_TYPES]
        if unknown:
            raise InvalidRequest(
                f"unknown event types: {', '.join(unknown)}",
                [FieldError("type", f"must be among {', '.join(EVENT_TYPES)}")],
            )
        filters = EventFilter(
            types=types,
            message_id=message_id,
            recipient=recipient,
            tag=tag,
            since=timestamp("since", since),
            until=timestamp("until", until),
        )
        async with herald.sessions() as session:
            views, next_cursor = await event_log.list_events(
                session, auth.account_id, filters, cursor=cursor, limit=limit
            )
        return event_list(views, next_cursor)
