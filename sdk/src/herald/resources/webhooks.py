"""``client.webhooks``: endpoints, secrets, test events, deliveries and replays."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Unpack

import msgspec

from herald._base_client import AsyncAPIClient, CallOptions, RequestOptions, SyncAPIClient
from herald.models import (
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookSecret,
)
from herald.resources._base import AsyncResource, SyncResource, make_options, path, query

__all__ = ["AsyncWebhookDeliveries", "AsyncWebhooks", "WebhookDeliveries", "Webhooks"]


class EndpointFields(CallOptions, total=False):
    """What ``webhooks.create`` and ``webhooks.update`` set (omitted: unchanged/default)."""

    event_types: Sequence[str]
    """Event types to receive; empty: every type."""
    description: str
    enabled: bool


class DeliveryFilters(CallOptions, total=False):
    """The keyword arguments of ``deliveries.list`` and ``deliveries.iter``."""

    status: str
    """``pending``, ``succeeded`` or ``failed``."""
    limit: int
    cursor: str


class _EndpointBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class _RotateBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    overlap_seconds: float | None = None


def endpoint_options(
    method: str, url_path: str, url: str | None, fields: EndpointFields
) -> RequestOptions:
    """Create (``POST``) or change (``PATCH``) an endpoint with the fields given."""
    types = fields.get("event_types")
    body = _EndpointBody(
        url=url,
        event_types=None if types is None else list(types),
        description=fields.get("description"),
        enabled=fields.get("enabled"),
    )
    return make_options(method, url_path, fields, body=body, accepts=EndpointFields)


def one(method: str, template: str, webhook_id: str, options: CallOptions) -> RequestOptions:
    """A body-less call on one endpoint (``template`` has ``{webhook_id}``)."""
    return make_options(method, path(template, webhook_id=webhook_id), options)


def rotate_options(webhook_id: str, overlap: float | None, options: CallOptions) -> RequestOptions:
    """``POST /v1/webhooks/{id}/rotate-secret``."""
    url_path = path("/v1/webhooks/{webhook_id}/rotate-secret", webhook_id=webhook_id)
    return make_options("POST", url_path, options, body=_RotateBody(overlap_seconds=overlap))


def deliveries_options(webhook_id: str, filters: DeliveryFilters) -> RequestOptions:
    """``GET /v1/webhooks/{id}/deliveries``."""
    params = query(
        status=filters.get("status"), limit=filters.get("limit"), cursor=filters.get("cursor")
    )
    url_path = path("/v1/webhooks/{webhook_id}/deliveries", webhook_id=webhook_id)
    return make_options("GET", url_path, filters, params=params, accepts=DeliveryFilters)


def replay_options(webhook_id: str, delivery_id: str, options: CallOptions) -> RequestOptions:
    """``POST /v1/webhooks/{id}/deliveries/{delivery_id}/replay``."""
    url_path = path(
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
        webhook_id=webhook_id,
        delivery_id=delivery_id,
    )
    return make_options("POST", url_path, options)


ROOT = "/v1/webhooks"
ONE = "/v1/webhooks/{webhook_id}"
TEST = "/v1/webhooks/{webhook_id}/test"


class WebhookDeliveries(SyncResource):
    """The deliveries of one endpoint, with every attempt (blocking)."""

    def list(self, webhook_id: str, **filters: Unpack[DeliveryFilters]) -> WebhookDeliveryPage:
        """One page of deliveries, newest first; pass ``next_cursor`` as ``cursor``."""
        return self._client.request(deliveries_options(webhook_id, filters), WebhookDeliveryPage)

    def iter(
        self, webhook_id: str, **filters: Unpack[DeliveryFilters]
    ) -> Iterator[WebhookDelivery]:
        """Every delivery, newest first, fetching pages as the loop needs them."""
        return self._client.paginate(deliveries_options(webhook_id, filters), WebhookDeliveryPage)

    def replay(
        self, webhook_id: str, delivery_id: str, **options: Unpack[CallOptions]
    ) -> WebhookDelivery:
        """Send a failed delivery again, with a fresh retry schedule."""
        request = replay_options(webhook_id, delivery_id, options)
        return self._client.request(request, WebhookDelivery)


class AsyncWebhookDeliveries(AsyncResource):
    """The deliveries of one endpoint (asyncio); mirrors :class:`WebhookDeliveries`."""

    async def list(
        self, webhook_id: str, **filters: Unpack[DeliveryFilters]
    ) -> WebhookDeliveryPage:
        """One page of deliveries, newest first; pass ``next_cursor`` as ``cursor``."""
        request = deliveries_options(webhook_id, filters)
        return await self._client.request(request, WebhookDeliveryPage)

    def iter(
        self, webhook_id: str, **filters: Unpack[DeliveryFilters]
    ) -> AsyncIterator[WebhookDelivery]:
        """Every delivery (``async for``), fetching pages as the loop needs them."""
        return self._client.paginate(deliveries_options(webhook_id, filters), WebhookDeliveryPage)

    async def replay(
        self, webhook_id: str, delivery_id: str, **options: Unpack[CallOptions]
    ) -> WebhookDelivery:
        """Send a failed delivery again, with a fresh retry schedule."""
        request = replay_options(webhook_id, delivery_id, options)
        return await self._client.request(request, WebhookDelivery)


class Webhooks(SyncResource):
    """Webhook endpoints of the account (blocking; needs an ``admin`` key)."""

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self.deliveries = WebhookDeliveries(client)
        """Each endpoint's deliveries and their replay."""

    def create(self, url: str, **fields: Unpack[EndpointFields]) -> WebhookEndpoint:
        """Register ``url`` for events. The answer's ``secret`` is shown only now: keep it to
        :func:`herald.webhooks.verify` what the endpoint receives."""
        return self._client.request(endpoint_options("POST", ROOT, url, fields), WebhookEndpoint)

    def list(self, **options: Unpack[CallOptions]) -> list[WebhookEndpoint]:
        """Every endpoint, with why it is disabled if it is."""
        return self._client.request(make_options("GET", ROOT, options), WebhookEndpointList).data

    def get(self, webhook_id: str, **options: Unpack[CallOptions]) -> WebhookEndpoint:
        """One endpoint (its secret is never shown again)."""
        return self._client.request(one("GET", ONE, webhook_id, options), WebhookEndpoint)

    def update(
        self, webhook_id: str, *, url: str | None = None, **fields: Unpack[EndpointFields]
    ) -> WebhookEndpoint:
        """Change the URL, event types, description or enabled flag (only those given)."""
        request = endpoint_options("PATCH", path(ONE, webhook_id=webhook_id), url, fields)
        return self._client.request(request, WebhookEndpoint)

    def delete(self, webhook_id: str, **options: Unpack[CallOptions]) -> None:
        """Delete the endpoint and its delivery history."""
        self._client.request(one("DELETE", ONE, webhook_id, options), type(None))

    def test(self, webhook_id: str, **options: Unpack[CallOptions]) -> WebhookDelivery:
        """Queue a signed ``webhook.test`` event to the endpoint; returns its delivery."""
        return self._client.request(one("POST", TEST, webhook_id, options), WebhookDelivery)

    def rotate_secret(
        self,
        webhook_id: str,
        *,
        overlap_seconds: float | None = None,
        **options: Unpack[CallOptions],
    ) -> WebhookSecret:
        """A new secret (shown once); the old one also signs for ``overlap_seconds``."""
        request = rotate_options(webhook_id, overlap_seconds, options)
        return self._client.request(request, WebhookSecret)


class AsyncWebhooks(AsyncResource):
    """Webhook endpoints of the account (asyncio); mirrors :class:`Webhooks`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self.deliveries = AsyncWebhookDeliveries(client)
        """Each endpoint's deliveries and their replay."""

    async def create(self, url: str, **fields: Unpack[EndpointFields]) -> WebhookEndpoint:
        """Register ``url`` for events; the answer's ``secret`` is shown only now."""
        request = endpoint_options("POST", ROOT, url, fields)
        return await self._client.request(request, WebhookEndpoint)

    async def list(self, **options: Unpack[CallOptions]) -> list[WebhookEndpoint]:
        """Every endpoint, with why it is disabled if it is."""
        request = make_options("GET", ROOT, options)
        return (await self._client.request(request, WebhookEndpointList)).data

    async def get(self, webhook_id: str, **options: Unpack[CallOptions]) -> WebhookEndpoint:
        """One endpoint (its secret is never shown again)."""
        return await self._client.request(one("GET", ONE, webhook_id, options), WebhookEndpoint)

    async def update(
        self, webhook_id: str, *, url: str | None = None, **fields: Unpack[EndpointFields]
    ) -> WebhookEndpoint:
        """Change the URL, event types, description or enabled flag (only those given)."""
        request = endpoint_options("PATCH", path(ONE, webhook_id=webhook_id), url, fields)
        return await self._client.request(request, WebhookEndpoint)

    async def delete(self, webhook_id: str, **options: Unpack[CallOptions]) -> None:
        """Delete the endpoint and its delivery history."""
        await self._client.request(one("DELETE", ONE, webhook_id, options), type(None))

    async def test(self, webhook_id: str, **options: Unpack[CallOptions]) -> WebhookDelivery:
        """Queue a signed ``webhook.test`` event to the endpoint; returns its delivery."""
        return await self._client.request(one("POST", TEST, webhook_id, options), WebhookDelivery)

    async def rotate_secret(
        self,
        webhook_id: str,
        *,
        overlap_seconds: float | None = None,
        **options: Unpack[CallOptions],
    ) -> WebhookSecret:
        """A new secret (shown once); the old one also signs for ``overlap_seconds``."""
        request = rotate_options(webhook_id, overlap_seconds, options)
        return await self._client.request(request, WebhookSecret)
