"""``client.events``: the account's event log, filtered, page by page or all at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Unpack

from herald._base_client import CallOptions, RequestOptions
from herald.models import EventLogEntry, EventPage
from herald.resources._base import AsyncResource, SyncResource, make_options, query

__all__ = ["AsyncEvents", "EventFilters", "Events"]


class EventFilters(CallOptions, total=False):
    """The keyword arguments of ``events.list`` and ``events.iter``."""

    type: str | Sequence[str]
    """Only these event types, e.g. ``["message.bounced", "message.complained"]``."""
    message_id: str
    recipient: str
    tag: str
    since: datetime
    """At or after this time (timezone-aware)."""
    until: datetime
    """Before this time (timezone-aware)."""
    limit: int
    """Page size, 1 to 100 (default 50)."""
    cursor: str
    """``next_cursor`` of the previous page."""


def list_options(filters: EventFilters) -> RequestOptions:
    """``GET /v1/events`` with the filters given."""
    types = filters.get("type")
    params = query(
        type=[types] if isinstance(types, str) else types,
        message_id=filters.get("message_id"),
        recipient=filters.get("recipient"),
        tag=filters.get("tag"),
        since=filters.get("since"),
        until=filters.get("until"),
        limit=filters.get("limit"),
        cursor=filters.get("cursor"),
    )
    return make_options("GET", "/v1/events", filters, params=params, accepts=EventFilters)


class Events(SyncResource):
    """Read the event log (blocking)."""

    def list(self, **filters: Unpack[EventFilters]) -> EventPage:
        """One page of events, newest first; pass ``page.next_cursor`` as ``cursor``."""
        return self._client.request(list_options(filters), EventPage)

    def iter(self, **filters: Unpack[EventFilters]) -> Iterator[EventLogEntry]:
        """Every matching event, newest first, fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), EventPage)


class AsyncEvents(AsyncResource):
    """Read the event log (asyncio); mirrors :class:`Events`."""

    async def list(self, **filters: Unpack[EventFilters]) -> EventPage:
        """One page of events, newest first; pass ``page.next_cursor`` as ``cursor``."""
        return await self._client.request(list_options(filters), EventPage)

    def iter(self, **filters: Unpack[EventFilters]) -> AsyncIterator[EventLogEntry]:
        """Every matching event (``async for``), fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), EventPage)
