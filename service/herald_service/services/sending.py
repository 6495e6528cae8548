"""The send use case: validate, build, sign, store durably, enqueue (with idempotency).

A send is answered once its rows are committed; the delivery jobs are written to Redis in
the background (:class:`~herald_service.services.enqueue_batcher.EnqueueBatcher`). That is
safe because the database, not Redis, decides: a committed message the queue never got is
enqueued by the worker's sweeper once its ``ENQUEUE_GRACE`` has passed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.core.message import OutgoingMessage
from herald_service.core.states import RecipientStatus, summarize
from herald_service.jobs import DeliveryQueue
from herald_service.metrics import MESSAGES_ACCEPTED, RECIPIENTS_ACCEPTED
from herald_service.services import idempotency
from herald_service.services.accept_suppressed import drop_suppressed
from herald_service.services.enqueue_batcher import EnqueueBatcher
from herald_service.services.events import EndpointSource
from herald_service.services.intake import validate_send_request
from herald_service.services.messages import (
    PreparedMessage,
    StoredMessage,
    prepare_message,
    store_messages,
)
from herald_service.services.send_request import SendMessageRequest
from herald_service.services.sending_domains import SendingDomainCache, ensure_sender_allowed
from herald_service.storage.batched_writes import BatchedWriter

InTransaction = Callable[[AsyncSession, list[StoredMessage]], Awaitable[None]]


class AcceptedRecipient(msgspec.Struct, frozen=True):
    """A recipient of an accepted message and where it stands (``suppressed``: dropped)."""

    email: str
    status: str


class Accepted(msgspec.Struct, frozen=True):
    """What a caller learns about an accepted message."""

    id: str
    status: str
    recipients: list[AcceptedRecipient]


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
        domains: SendingDomainCache,
        queue: DeliveryQueue,
        hostname: str,
        endpoints: EndpointSource | None = None,
    ) -> None:
        self._sessions = sessions
        self._domains = domains
        self._endpoints = endpoints
        self._enqueuer = EnqueueBatcher(queue)
        self._hostname = hostname
        engine: AsyncEngine = sessions.kw["bind"]
        single_writer = engine.dialect.name == "sqlite"
        self._writer: BatchedWriter[AsyncConnection, PreparedMessage, StoredMessage]
        self._writer = BatchedWriter(
            _connections_for_one_statement(engine), self._store, parallel=1 if single_writer else 2
        )

    async def _store(
        self, connection: AsyncConnection, prepared: list[PreparedMessage]
    ) -> list[StoredMessage]:
        kept = await drop_suppressed(connection, prepared)
        await store_messages(connection, kept, self._endpoints)
        return [p.stored for p in kept]

    async def accept_many(
        self,
        account_id: str,
        messages: Sequence[OutgoingMessage],
        in_transaction: InTransaction | None = None,
        allowed_domains: Collection[str] = (),
    ) -> list[StoredMessage]:
        """Build and sign ``messages`` and store them in one transaction; once committed,
        hand those not sandboxed to the background enqueue (this does not wait for Redis).

        Without ``in_transaction`` the rows go through a :class:`BatchedWriter`, sharing a
        transaction with concurrent requests; with it, they get one of their own.
        ``allowed_domains`` is the API key's restriction of sending domains (empty: any).
        """
        prepared = []
        for outgoing in messages:
            ensure_sender_allowed(allowed_domains, outgoing.sender.domain)
            domain = await self._domains.resolve_with(
                self._sessions, account_id, outgoing.sender.domain
            )
            prepared.append(prepare_message(account_id, outgoing, domain, self._hostname))
        if in_transaction is None:
            stored = await self._writer.submit_many(prepared)
        else:
            async with self._sessions.begin() as session:
                stored = await self._store(await session.connection(), prepared)
                await in_transaction(session, stored)
        for message in stored:
            MESSAGES_ACCEPTED.labels(str(message.sandbox).lower()).inc()
            RECIPIENTS_ACCEPTED.inc(len(message.recipient_statuses))
        self._enqueuer.submit([m.id for m in stored if not m.sandbox and _deliverable(m)])
        return stored

    async def flush_enqueues(self) -> None:
        """Return once every message accepted so far has been handed to the delivery queue
        (or its enqueue failed and was logged: the sweeper enqueues it)."""
        await self._enqueuer.flush()

    async def close(self) -> None:
        """Finish the writes and enqueues under way (once the API stops taking requests)."""
        await self._writer.close()
        await self._enqueuer.close()

    async def send(
        self,
        account_id: str,
        request: SendMessageRequest,
        idempotency_key: str | None = None,
        *,
        allowed_domains: Collection[str] = (),
        before_accept: Callable[[OutgoingMessage], Awaitable[None]] | None = None,
    ) -> SendOutcome:
        """Validate and accept one message; with a key, at most once per request body.

        ``before_accept`` runs after validation and before anything is stored (quota
        charging); a replayed idempotent request does not run it.
        """

        async def validated() -> OutgoingMessage:
            outgoing = validate_send_request(request)
            ensure_sender_allowed(allowed_domains, outgoing.sender.domain)
            if before_accept is not None:
                await before_accept(outgoing)
            return outgoing

        if idempotency_key is None:
            outgoing = await validated()
            (message,) = await self.accept_many(
                account_id, [outgoing], allowed_domains=allowed_domains
            )
            return SendOutcome(202, _accepted_body(message))

        key = idempotency.check_key(idempotency_key)
        fingerprint = idempotency.request_fingerprint("POST", "/v1/messages", request)
        replay = await idempotency.claim(self._sessions, account_id, key, fingerprint)
        if replay is not None:
            return SendOutcome(replay.status_code, replay.body, replayed=True)

        async def remember(session: AsyncSession, stored: list[StoredMessage]) -> None:
            await idempotency.complete(session, account_id, key, 202, _accepted_body(stored[0]))

        try:
            outgoing = await validated()
            (message,) = await self.accept_many(
                account_id, [outgoing], remember, allowed_domains=allowed_domains
            )
        except BaseException:
            await idempotency.release(self._sessions, account_id, key)
            raise
        return SendOutcome(202, _accepted_body(message))


def _connections_for_one_statement(
    engine: AsyncEngine,
) -> Callable[[], AbstractAsyncContextManager[AsyncConnection]]:
    """Connections for :func:`store_messages`: on PostgreSQL in autocommit mode, since its
    single statement is atomic by itself (which saves the BEGIN and COMMIT round trips);
    elsewhere in a transaction."""
    if engine.dialect.name != "postgresql":
        return engine.begin

    @asynccontextmanager
    async def autocommit() -> AsyncIterator[AsyncConnection]:
        async with engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    return autocommit


def _deliverable(message: StoredMessage) -> bool:
    """Whether a recipient is left to deliver (not all were suppressed at acceptance)."""
    return RecipientStatus.QUEUED.value in message.recipient_statuses


def _accepted_body(message: StoredMessage) -> bytes:
    status = summarize(message.recipient_statuses)
    recipients = [
        AcceptedRecipient(email, recipient_status)
        for email, recipient_status in zip(
            message.recipient_emails, message.recipient_statuses, strict=True
        )
    ]
    return msgspec.json.encode(Accepted(id=message.id, status=status, recipients=recipients))
