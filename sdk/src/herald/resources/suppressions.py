"""``client.suppressions``: addresses Herald will not send to (``/v1/suppressions``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Unpack

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import Suppression, SuppressionPage
from herald.resources._base import AsyncResource, SyncResource, make_options, path, query

__all__ = ["AsyncSuppressions", "SuppressionFilters", "Suppressions"]

ROOT = "/v1/suppressions"
ONE = "/v1/suppressions/{email}"


class SuppressionFilters(CallOptions, total=False):
    """The keyword arguments of ``suppressions.list`` and ``suppressions.iter``."""

    reason: str
    limit: int
    cursor: str


class _AddBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    email: str
    reason: str | None = None
    detail: str | None = None


def list_options(filters: SuppressionFilters) -> RequestOptions:
    """``GET /v1/suppressions``."""
    params = query(
        reason=filters.get("reason"), limit=filters.get("limit"), cursor=filters.get("cursor")
    )
    return make_options("GET", ROOT, filters, params=params, accepts=SuppressionFilters)


def add_options(
    email: str, reason: str | None, detail: str | None, options: CallOptions
) -> RequestOptions:
    """``POST /v1/suppressions``."""
    body = _AddBody(email=email, reason=reason, detail=detail)
    return make_options("POST", ROOT, options, body=body)


def one(method: str, email: str, options: CallOptions) -> RequestOptions:
    """A call on one suppressed address."""
    return make_options(method, path(ONE, email=email), options)


class Suppressions(SyncResource):
    """Suppressed addresses (blocking)."""

    def list(self, **filters: Unpack[SuppressionFilters]) -> SuppressionPage:
        """One page, newest first; pass ``next_cursor`` as ``cursor``."""
        return self._client.request(list_options(filters), SuppressionPage)

    def iter(self, **filters: Unpack[SuppressionFilters]) -> Iterator[Suppression]:
        """Every suppression, fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), SuppressionPage)

    def add(
        self,
        email: str,
        *,
        reason: str | None = None,
        detail: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Suppression:
        """Stop sending to ``email`` (reason ``manual`` unless given)."""
        return self._client.request(add_options(email, reason, detail, options), Suppression)

    def get(self, email: str, **options: Unpack[CallOptions]) -> Suppression:
        """Whether and why ``email`` is suppressed (:class:`~herald.NotFoundError` if not)."""
        return self._client.request(one("GET", email, options), Suppression)

    def delete(self, email: str, **options: Unpack[CallOptions]) -> None:
        """Send to ``email`` again."""
        self._client.request(one("DELETE", email, options), type(None))


class AsyncSuppressions(AsyncResource):
    """Suppressed addresses (asyncio); mirrors :class:`Suppressions`."""

    async def list(self, **filters: Unpack[SuppressionFilters]) -> SuppressionPage:
        """One page, newest first; pass ``next_cursor`` as ``cursor``."""
        return await self._client.request(list_options(filters), SuppressionPage)

    def iter(self, **filters: Unpack[SuppressionFilters]) -> AsyncIterator[Suppression]:
        """Every suppression (``async for``), fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), SuppressionPage)

    async def add(
        self,
        email: str,
        *,
        reason: str | None = None,
        detail: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Suppression:
        """Stop sending to ``email`` (reason ``manual`` unless given)."""
        request = add_options(email, reason, detail, options)
        return await self._client.request(request, Suppression)

    async def get(self, email: str, **options: Unpack[CallOptions]) -> Suppression:
        """Whether and why ``email`` is suppressed."""
        return await self._client.request(one("GET", email, options), Suppression)

    async def delete(self, email: str, **options: Unpack[CallOptions]) -> None:
        """Send to ``email`` again."""
        await self._client.request(one("DELETE", email, options), type(None))
