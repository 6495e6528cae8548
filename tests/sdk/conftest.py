"""SDK clients wired to a real Herald app in this process (see tests/support for the app)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from litestar.testing import AsyncTestClient, TestClient
from loopback_http import FAST_RETRIES

from herald import AsyncHerald, Herald
from herald_service.api.app import create_app
from support.harness import Herald as HeraldHarness
from support.harness import Tenant


@pytest.fixture
async def tenant(herald: HeraldHarness) -> Tenant:
    """An account with a send/read/admin key and a verified ``sender.example`` domain."""
    return await herald.create_tenant("sender.example")


@pytest.fixture
def app_client(herald: HeraldHarness) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """A blocking in-process HTTP client of the API app (an ``httpx.Client``); ``herald``
    waits for the app's background enqueues before it inspects the queue."""
    with TestClient(create_app(herald.settings)) as client, herald.serving(client):
        yield client


@pytest.fixture
def client(tenant: Tenant, app_client: TestClient) -> Iterator[Herald]:  # type: ignore[type-arg]
    """The blocking SDK client, talking to the real app in process."""
    with Herald(
        api_key=tenant.api_key,
        base_url=str(app_client.base_url),
        http_client=app_client,
        retry_policy=FAST_RETRIES,
    ) as sdk:
        yield sdk


@pytest.fixture
async def async_client(
    tenant: Tenant,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> AsyncIterator[AsyncHerald]:
    """The asyncio SDK client, talking to the real app in process."""
    async with AsyncHerald(
        api_key=tenant.api_key,
        base_url=str(api.base_url),
        http_client=api,
        retry_policy=FAST_RETRIES,
    ) as sdk:
        yield sdk
