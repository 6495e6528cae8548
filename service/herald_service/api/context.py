"""Long-lived objects the API needs, built once per process in the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dns.asyncresolver
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.dns import make_resolver
from herald_service.domains.sending import SendingDomainCache
from herald_service.domains.service import SigningKeyCache
from herald_service.keys.quotas import QuotaGate, quota_redis
from herald_service.keys.service import Authenticator
from herald_service.keys.usage import KeyUsage
from herald_service.messages.service import Sender
from herald_service.security.secretbox import derive_key
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.submission.lockout import Lockout
from herald_service.tracking.recording import TrackingRecorder
from herald_service.tracking.service import TrackingUrls, tracking_key
from herald_service.webhooks.endpoints import WebhookEndpointCache


class ApiContext:
    """Database sessions, key checks, quotas, signing keys and the delivery queue of one process."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        secret_key = settings.require_secret_key()
        self.settings = settings
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = async_session_factory(engine)
        self.key_usage = KeyUsage(self.sessions)
        self.authenticator = Authenticator(
            self.sessions,
            pepper=derive_key(secret_key, "herald/token-cache/v1"),
            usage=self.key_usage,
            failure_floor=settings.auth_failure_floor,
        )
        self.signing_keys = SigningKeyCache(secret_key)
        # Uncached: a record published a moment ago must be seen by the next verification.
        self.resolver: dns.asyncresolver.Resolver = make_resolver(settings, cache=False)
        self.redis = redis_connection(settings.redis_url)
        self.delivery_queue = DeliveryQueue(self.redis, settings.queue_name)
        self.quota_redis = quota_redis(settings.redis_url)
        self.sending_domains = SendingDomainCache(self.signing_keys)
        self.webhook_endpoints = WebhookEndpointCache(self.quota_redis)
        self.sender = Sender(
            self.sessions,
            self.sending_domains,
            self.delivery_queue,
            settings.hostname,
            self.webhook_endpoints,
            settings.max_schedule_ahead,
            TrackingUrls.from_settings(settings),
        )
        self.quotas = QuotaGate(self.quota_redis, settings)
        self.tracking = TrackingRecorder(
            self.sessions,
            self.quota_redis,
            tracking_key(secret_key),
            settings.tracking_ip_privacy,
            self.webhook_endpoints,
        )
        self.lockout = Lockout.from_settings(self.quota_redis, settings)
        self._usage_flusher: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background flush of API key ``last_used_at``."""
        self._usage_flusher = asyncio.create_task(
            self.key_usage.run(self.settings.key_usage_flush_interval)
        )

    async def close(self) -> None:
        """Stop background work, write what is buffered and release connections."""
        if self._usage_flusher is not None:
            self._usage_flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._usage_flusher
        await self.key_usage.flush()
        await self.sender.close()
        await self.tracking.close()
        await self.engine.dispose()
        await self.quota_redis.aclose()
        self.redis.close()


@asynccontextmanager
async def api_context(settings: Settings) -> AsyncIterator[ApiContext]:
    """An :class:`ApiContext` for the lifetime of the block."""
    context = ApiContext(settings, make_async_engine(settings.database_url))
    context.start()
    try:
        yield context
    finally:
        await context.close()
