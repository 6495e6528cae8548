"""The public clients: :class:`Herald` (blocking) and :class:`AsyncHerald` (asyncio)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import TracebackType

import httpx

from herald._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncAPIClient,
    SyncAPIClient,
    Timeout,
)
from herald._retry import RetryPolicy
from herald.resources import (
    ApiKeys,
    AsyncApiKeys,
    AsyncDomains,
    AsyncEvents,
    AsyncIpListings,
    AsyncIpPools,
    AsyncMessages,
    AsyncQueue,
    AsyncSmtp,
    AsyncStats,
    AsyncSuppressions,
    AsyncTemplates,
    AsyncWebhooks,
    Domains,
    Events,
    IpListings,
    IpPools,
    Messages,
    Queue,
    Smtp,
    Stats,
    Suppressions,
    Templates,
    Webhooks,
)

__all__ = ["AsyncHerald", "Herald"]


class Herald(SyncAPIClient):
    """A blocking client for the Herald API.

    Args:
        api_key: the API key; default the ``HERALD_API_KEY`` environment variable.
        base_url: where Herald listens; default ``HERALD_BASE_URL``, else
            ``http://127.0.0.1:8000``. A path prefix (``https://host/herald``) is kept.
        timeout: per-attempt timeout in seconds, or an ``httpx.Timeout``; ``None`` waits
            forever.
        max_retries: how many times a failed request is retried (connection errors, 408,
            409, 429, 5xx); ``0`` disables retries. Each call can override it.
        http_client: an ``httpx.Client`` to send through (proxies, custom transports, tests).
            The SDK does not close a client it was given.
        default_headers: extra headers sent with every request.
        retry_policy: backoff timings; see :class:`herald.RetryPolicy`.

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            http_client=http_client,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
        )

    @cached_property
    def messages(self) -> Messages:
        """Send messages, read their status and source (``/v1/messages``)."""
        return Messages(self)

    @cached_property
    def events(self) -> Events:
        """The event log, filtered and paginated (``/v1/events``)."""
        return Events(self)

    @cached_property
    def domains(self) -> Domains:
        """Sending domains, verification and DKIM rotation (``/v1/domains``)."""
        return Domains(self)

    @cached_property
    def webhooks(self) -> Webhooks:
        """Webhook endpoints and their deliveries (``/v1/webhooks``)."""
        return Webhooks(self)

    @cached_property
    def api_keys(self) -> ApiKeys:
        """API keys: create, list, change quotas, revoke (``/v1/api-keys``)."""
        return ApiKeys(self)

    @cached_property
    def suppressions(self) -> Suppressions:
        """Addresses Herald will not send to (``/v1/suppressions``)."""
        return Suppressions(self)

    @cached_property
    def queue(self) -> Queue:
        """Deferred mail: retry a message, or every deferred recipient, now."""
        return Queue(self)

    @cached_property
    def stats(self) -> Stats:
        """Sending stats per day, hour, domain or tag (``/v1/stats``)."""
        return Stats(self)

    @cached_property
    def smtp(self) -> Smtp:
        """SMTP submission: its settings and AUTH lock-outs (``/v1/smtp``)."""
        return Smtp(self)

    @cached_property
    def ip_pools(self) -> IpPools:
        """Sending IPs, their pools and warm-up (``/v1/ip-pools``)."""
        return IpPools(self)

    @cached_property
    def ip_listings(self) -> IpListings:
        """The sending IPs' blocklist (DNSBL) status (``/v1/ip-listings``, an admin key)."""
        return IpListings(self)

    @cached_property
    def templates(self) -> Templates:
        """Message templates, their versions and renders (``/v1/templates``)."""
        return Templates(self)

    def __enter__(self) -> Herald:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncHerald(AsyncAPIClient):
    """An asyncio client for the Herald API, with the same surface as :class:`Herald`.

    Takes the same arguments, except that ``http_client`` is an ``httpx.AsyncClient``.
    Use it as an async context manager, or await :meth:`close`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            http_client=http_client,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
        )

    @cached_property
    def messages(self) -> AsyncMessages:
        """Send messages, read their status and source (``/v1/messages``)."""
        return AsyncMessages(self)

    @cached_property
    def events(self) -> AsyncEvents:
        """The event log, filtered and paginated (``/v1/events``)."""
        return AsyncEvents(self)

    @cached_property
    def domains(self) -> AsyncDomains:
        """Sending domains, verification and DKIM rotation (``/v1/domains``)."""
        return AsyncDomains(self)

    @cached_property
    def webhooks(self) -> AsyncWebhooks:
        """Webhook endpoints and their deliveries (``/v1/webhooks``)."""
        return AsyncWebhooks(self)

    @cached_property
    def api_keys(self) -> AsyncApiKeys:
        """API keys: create, list, change quotas, revoke (``/v1/api-keys``)."""
        return AsyncApiKeys(self)

    @cached_property
    def suppressions(self) -> AsyncSuppressions:
        """Addresses Herald will not send to (``/v1/suppressions``)."""
        return AsyncSuppressions(self)

    @cached_property
    def queue(self) -> AsyncQueue:
        """Deferred mail: retry a message, or every deferred recipient, now."""
        return AsyncQueue(self)

    @cached_property
    def stats(self) -> AsyncStats:
        """Sending stats per day, hour, domain or tag (``/v1/stats``)."""
        return AsyncStats(self)

    @cached_property
    def smtp(self) -> AsyncSmtp:
        """SMTP submission: its settings and AUTH lock-outs (``/v1/smtp``)."""
        return AsyncSmtp(self)

    @cached_property
    def ip_pools(self) -> AsyncIpPools:
        """Sending IPs, their pools and warm-up (``/v1/ip-pools``)."""
        return AsyncIpPools(self)

    @cached_property
    def ip_listings(self) -> AsyncIpListings:
        """The sending IPs' blocklist (DNSBL) status (``/v1/ip-listings``, an admin key)."""
        return AsyncIpListings(self)

    @cached_property
    def templates(self) -> AsyncTemplates:
        """Message templates, their versions and renders (``/v1/templates``)."""
        return AsyncTemplates(self)

    async def __aenter__(self) -> AsyncHerald:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
