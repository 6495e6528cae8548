"""Long-lived objects the API needs, built once per process in the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.jobs import DeliveryQueue, redis_connection
from herald_service.security.secretbox import derive_key
from herald_service.security.ssrf import make_resolver
from herald_service.services.api_keys import Authenticator
from herald_service.services.domains import SigningKeyCache
from herald_service.services.sending import Sender
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine


class ApiContext:
    """Database sessions, key checks, signing keys and the delivery queue of one process."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        secret_key = settings.require_secret_key()
        self.settings = settings
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = async_session_factory(engine)
        self.authenticator = Authenticator(
            self.sessions, pepper=derive_key(secret_key, "herald/token-cache/v1")
        )
        self.signing_keys = SigningKeyCache(secret_key)
        self.redis = redis_connection(settings.redis_url)
        self.delivery_queue = DeliveryQueue(self.redis, settings.queue_name)
        self.sender = Sender(
            self.sessions, self.signing_keys, self.delivery_queue, settings.hostname
        )
        self.resolver = make_resolver(settings)  # checks webhook URLs

    async def close(self) -> None:
        """Release connections."""
        await self.engine.dispose()
        self.redis.close()


@asynccontextmanager
async def api_context(settings: Settings) -> AsyncIterator[ApiContext]:
    """An :class:`ApiContext` for the lifetime of the block."""
    context = ApiContext(settings, make_async_engine(settings.database_url))
    try:
        yield context
    finally:
        await context.close()
