"""``client.queue``: the queue per destination, and deliver deferred mail now (an
``admin`` key).

A deferred recipient waits for its next retry time; these calls move that time to now, and
the workers' next sweep (within ``HERALD_SWEEP_INTERVAL``) queues it, as Postfix's
``postqueue -i`` and ``-f`` do. Cancel a message with ``client.messages.cancel``.
"""

from __future__ import annotations

from typing import Unpack

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import Message, QueueDestinationList, RetryResult
from herald.resources._base import AsyncResource, SyncResource, make_options, path

__all__ = ["AsyncQueue", "Queue"]


class _RetryDeferred(msgspec.Struct, omit_defaults=True):
    recipient_domain: str | None = None


def retry_options(message_id: str, options: CallOptions) -> RequestOptions:
    """``POST /v1/messages/{id}/retry``."""
    return make_options(
        "POST", path("/v1/messages/{message_id}/retry", message_id=message_id), options
    )


def retry_deferred_options(recipient_domain: str | None, options: CallOptions) -> RequestOptions:
    """``POST /v1/messages/retry``."""
    body = _RetryDeferred(recipient_domain=recipient_domain)
    return make_options("POST", "/v1/messages/retry", options, body=body)


def destinations_options(options: CallOptions) -> RequestOptions:
    """``GET /v1/queue/destinations``."""
    return make_options("GET", "/v1/queue/destinations", options)


class Queue(SyncResource):
    """Deferred mail (blocking)."""

    def destinations(self, **options: Unpack[CallOptions]) -> QueueDestinationList:
        """Waiting mail per recipient domain: counts, the rate allowed there now (halved
        after a "slow down" reply, until when), suspensions and the latest reply."""
        return self._client.request(destinations_options(options), QueueDestinationList)

    def retry(self, message_id: str, **options: Unpack[CallOptions]) -> Message:
        """Try the message's deferred recipients now; the message.
        :class:`~herald.ConflictError` when none is deferred."""
        return self._client.request(retry_options(message_id, options), Message)

    def retry_deferred(
        self, recipient_domain: str | None = None, **options: Unpack[CallOptions]
    ) -> RetryResult:
        """Try every deferred recipient of the account now, or those at one domain."""
        request = retry_deferred_options(recipient_domain, options)
        return self._client.request(request, RetryResult)


class AsyncQueue(AsyncResource):
    """Deferred mail (asyncio); mirrors :class:`Queue`."""

    async def destinations(self, **options: Unpack[CallOptions]) -> QueueDestinationList:
        """Waiting mail per destination; see :meth:`Queue.destinations`."""
        return await self._client.request(destinations_options(options), QueueDestinationList)

    async def retry(self, message_id: str, **options: Unpack[CallOptions]) -> Message:
        """Try the message's deferred recipients now; see :meth:`Queue.retry`."""
        return await self._client.request(retry_options(message_id, options), Message)

    async def retry_deferred(
        self, recipient_domain: str | None = None, **options: Unpack[CallOptions]
    ) -> RetryResult:
        """Try every deferred recipient now; see :meth:`Queue.retry_deferred`."""
        request = retry_deferred_options(recipient_domain, options)
        return await self._client.request(request, RetryResult)
