"""The send use case: validate, build, sign, store durably, enqueue (with idempotency)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.message import OutgoingMessage
from herald_service.core.states import summarize
from herald_service.jobs import DeliveryQueue
from herald_service.metrics import MESSAGES_ACCEPTED, RECIPIENTS_ACCEPTED
from herald_service.services import idempotency
from herald_service.services.domains import SigningKeyCache
from herald_service.services.intake import validate_send_request
from herald_service.services.messages import accept_message
from herald_service.services.send_request import SendMessageRequest
from herald_service.storage.models import Message


class Accepted(msgspec.Struct, frozen=True):
    """What a caller learns about an accepted message."""

    id: str
    status: str


class SendOutcome(msgspec.Struct, frozen=True):
    """The answer to a send: fresh, or replayed from an earlier identical request."""

    status_code: int
    body: bytes
    replayed: bool = False


class Sender:
    """Accepts messages on behalf of an account."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signing_keys: SigningKeyCache,
        queue: DeliveryQueue,
        hostname: str,
    ) -> None:
        self._sessions = sessions
        self._signing_keys = signing_keys
        self._queue = queue
        self._hostname = hostname

    async def accept_many(
        self,
        account_id: str,
        messages: Sequence[OutgoingMessage],
        in_transaction: Callable[[AsyncSession, list[Message]], Awaitable[None]] | None = None,
    ) -> list[Message]:
        """Store ``messages`` in one transaction, then enqueue those not sandboxed."""
        async with self._sessions.begin() as session:
            stored = [
                await accept_message(
                    session, account_id, outgoing, self._signing_keys, self._hostname
                )
                for outgoing in messages
            ]
            if in_transaction is not None:
                await in_transaction(session, stored)
        for message in stored:
            MESSAGES_ACCEPTED.labels(str(message.sandbox).lower()).inc()
            RECIPIENTS_ACCEPTED.inc(len(message.recipients))
        to_deliver = [m.id for m in stored if not m.sandbox]
        if to_deliver:
            await asyncio.to_thread(self._queue.enqueue, to_deliver)
        return stored

    async def send(
        self, account_id: str, request: SendMessageRequest, idempotency_key: str | None = None
    ) -> SendOutcome:
        """Validate and accept one message; with a key, at most once per request body."""
        if idempotency_key is None:
            outgoing = validate_send_request(request)
            (message,) = await self.accept_many(account_id, [outgoing])
            return SendOutcome(202, _accepted_body(message))

        key = idempotency.check_key(idempotency_key)
        fingerprint = idempotency.request_fingerprint("POST", "/v1/messages", request)
        replay = await idempotency.claim(self._sessions, account_id, key, fingerprint)
        if replay is not None:
            return SendOutcome(replay.status_code, replay.body, replayed=True)

        async def remember(session: AsyncSession, stored: list[Message]) -> None:
            await idempotency.complete(session, account_id, key, 202, _accepted_body(stored[0]))

        try:
            outgoing = validate_send_request(request)
            (message,) = await self.accept_many(account_id, [outgoing], remember)
        except BaseException:
            await idempotency.release(self._sessions, account_id, key)
            raise
        return SendOutcome(202, _accepted_body(message))


def _accepted_body(message: Message) -> bytes:
    status = summarize(r.status for r in message.recipients)
    return msgspec.json.encode(Accepted(id=message.id, status=status))
