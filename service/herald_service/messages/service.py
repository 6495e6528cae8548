"""The send use case: validate, build, sign, store durably, enqueue (with idempotency).

A send is answered once its rows are committed; the delivery jobs are written to Redis in
the background (:class:`~herald_service.messages.enqueue_batcher.EnqueueBatcher`). That is
safe because the database, not Redis, decides: a committed message the queue never got is
enqueued by the worker's sweeper once its ``ENQUEUE_GRACE`` has passed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.core.message import OutgoingMessage
from herald_service.core.states import RecipientStatus
from herald_service.delivery_queue import DeliveryQueue
from herald_service.domains.service import (
    SendingDomain,
    SendingDomainCache,
    ensure_sender_allowed,
)
from herald_service.events.service import EndpointSource
from herald_service.ip_pools.service import check_pool_names
from herald_service.messages import idempotency
from herald_service.messages.accepted import Accepted as Accepted  # the SendGrid answer's too
from herald_service.messages.accepted import accepted_body as accepted_body
from herald_service.messages.cancel import cancel_message as cancel_message  # the console's
from herald_service.messages.check import check_source as check_source  # the console inbox
from herald_service.messages.enqueue_batcher import EnqueueBatcher
from herald_service.messages.intake import validate_send_request
from herald_service.messages.offload import off_loop
from herald_service.messages.outcomes import Answer as Answer
from herald_service.messages.outcomes import IdempotencyKey as IdempotencyKey
from herald_service.messages.outcomes import SendOutcome as SendOutcome
from herald_service.messages.queue import WAITING as WAITING  # the console's Queue page
from herald_service.messages.queue import waiting as waiting
from herald_service.messages.queue import waiting_by_domain as waiting_by_domain
from herald_service.messages.retry import retry_deferred as retry_deferred
from herald_service.messages.retry import retry_message as retry_message  # the console's
from herald_service.messages.scheduled import scheduled_messages as scheduled_messages
from herald_service.messages.schemas import SendMessageRequest, request_size
from herald_service.messages.search import MessageFilter as MessageFilter  # the console's too
from herald_service.messages.search import has_tag as has_tag  # the event log filters by tag too
from herald_service.messages.search import search_messages as search_messages
from herald_service.messages.store import (
    PreparedMessage,
    StoredMessage,
    prepare_message,
    store_messages,
)
from herald_service.messages.store import get_message as get_message  # the console's lookup
from herald_service.messages.store import message_events as message_events  # and timeline
from herald_service.messages.store import message_source as message_source  # and its source
from herald_service.messages.suppressed import drop_suppressed
from herald_service.messages.templated import apply_template
from herald_service.metrics import MESSAGES_ACCEPTED, RECIPIENTS_ACCEPTED
from herald_service.storage.batched_writes import BatchedWriter, one_statement_connections
from herald_service.tracking.service import TrackingUrls

Undo = Callable[[], Awaitable[None]]
Charge = Callable[[Sequence[OutgoingMessage]], Awaitable[Undo | None]]
"""Charges quotas for messages about to be stored; returns how to give that back."""
_Job = tuple[OutgoingMessage, SendingDomain]


class Sender:
    """Accepts messages on behalf of an account."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        domains: SendingDomainCache,
        queue: DeliveryQueue,
        hostname: str,
        endpoints: EndpointSource | None = None,
        max_schedule_ahead: float | None = None,
        tracking: TrackingUrls | None = None,
    ) -> None:
        self._sessions = sessions
        self._tracking = tracking
        self._max_schedule_ahead = max_schedule_ahead
        self._domains = domains
        self._endpoints = endpoints
        self._enqueuer = EnqueueBatcher(queue)
        self._hostname = hostname
        engine: AsyncEngine = sessions.kw["bind"]
        single_writer = engine.dialect.name == "sqlite"
        self._writer: BatchedWriter[AsyncConnection, PreparedMessage, StoredMessage]
        self._writer = BatchedWriter(
            one_statement_connections(engine), self._store, parallel=1 if single_writer else 2
        )

    @property
    def max_schedule_ahead(self) -> float | None:
        """How far ahead ``send_at`` may be (``None``: ``HERALD_MAX_SCHEDULE_AHEAD``), on
        ``/v1/messages`` and ``/v3/mail/send`` alike."""
        return self._max_schedule_ahead

    async def _store(
        self, connection: AsyncConnection, prepared: list[PreparedMessage]
    ) -> list[StoredMessage]:
        kept = await drop_suppressed(connection, prepared)
        await store_messages(connection, kept, self._endpoints)
        return [p.stored for p in kept]

    async def submit(
        self,
        account_id: str,
        validate: Callable[[], Awaitable[list[OutgoingMessage]]],
        answer: Answer,
        *,
        idempotency_key: IdempotencyKey | None = None,
        allowed_domains: Collection[str] = (),
        charge: Charge | None = None,
    ) -> SendOutcome:
        """Accept the messages ``validate`` gives, all or none, and ``answer`` for them.

        In order: validation, the key's domain restriction and the From domains (every
        refusal so far costs no quota), ``charge`` (quotas), then building, signing and
        storing; if storing fails, the undo ``charge`` returned gives the recipients back.
        With ``idempotency_key`` the answer is stored with the messages, and a repeated
        request gets it again without anything being run (nor charged) twice.
        """
        key = idempotency_key

        async def work() -> SendOutcome:
            messages = await validate()
            domains = await self._resolve(account_id, messages, allowed_domains)
            return await self.accept(account_id, messages, domains, answer, key, charge)

        return await self.once(account_id, key, work)

    async def once(
        self,
        account_id: str,
        key: IdempotencyKey | None,
        work: Callable[[], Awaitable[SendOutcome]],
    ) -> SendOutcome:
        """``work()``; with ``key``, the stored answer of an identical earlier request
        instead (nothing run twice), and the key released if ``work`` fails."""
        if key is not None:
            replay = await idempotency.claim(self._sessions, account_id, key.key, key.fingerprint)
            if replay is not None:
                return SendOutcome(replay.status_code, replay.body, replayed=True)
        try:
            return await work()
        except BaseException:
            if key is not None:
                await idempotency.release(self._sessions, account_id, key.key)
            raise

    async def accept(
        self,
        account_id: str,
        messages: Sequence[OutgoingMessage],
        domains: list[SendingDomain],
        answer: Answer,
        key: IdempotencyKey | None,
        charge: Charge | None,
        source: str = "api",
    ) -> SendOutcome:
        """Charge the quotas for checked ``messages``, then build, sign and store them in one
        go; if that fails, the recipients charged are given back. ``source`` is the door
        they came in by (``api``, or ``smtp`` for a templated submission)."""
        undo = await charge(messages) if charge is not None else None
        try:
            prepared = await self._prepare(account_id, messages, domains, source)
            return await self._commit(account_id, prepared, answer, key)
        except Exception:
            if undo is not None:
                await undo()
            raise

    async def sending_domain(
        self, account_id: str, name: str, allowed: Collection[str]
    ) -> SendingDomain:
        """The sending domain of a From domain (403 or 422 naming ``from`` when it may not
        send: outside the key's domains, or not the account's verified domain)."""
        ensure_sender_allowed(allowed, name)
        return await self._domains.resolve_with(self._sessions, account_id, name)

    async def _resolve(
        self, account_id: str, messages: Sequence[OutgoingMessage], allowed: Collection[str]
    ) -> list[SendingDomain]:
        """Each message's sending domain (403 or 422 naming ``from`` when it may not send)."""
        by_name: dict[str, SendingDomain] = {}
        for outgoing in messages:
            name = outgoing.sender.domain
            if name not in by_name:
                by_name[name] = await self.sending_domain(account_id, name, allowed)
        await self.check_pools(messages)
        return [by_name[m.sender.domain] for m in messages]

    async def check_pools(self, messages: Sequence[OutgoingMessage]) -> None:
        """422 naming ``ip_pool`` when a message asks for a pool there is none of (one
        query, and only when a message names a pool)."""
        pools = {m.ip_pool for m in messages if m.ip_pool}
        if pools:
            async with self._sessions() as session:
                await check_pool_names(session, pools, "ip_pool")

    async def _prepare(
        self,
        account_id: str,
        messages: Sequence[OutgoingMessage],
        domains: list[SendingDomain],
        source: str,
    ) -> list[PreparedMessage]:
        """Build and sign (off the event loop when there is much of it)."""

        def prepare(jobs: Sequence[_Job]) -> list[PreparedMessage]:
            return [
                prepare_message(account_id, m, d, self._hostname, source, self._tracking)
                for m, d in jobs
            ]

        jobs = list(zip(messages, domains, strict=True))
        return await off_loop(prepare, jobs, sum(map(content_size, messages)))

    async def _commit(
        self,
        account_id: str,
        prepared: list[PreparedMessage],
        answer: Answer,
        key: IdempotencyKey | None,
    ) -> SendOutcome:
        """Store durably; once committed, hand the messages not sandboxed to the
        background enqueue (this does not wait for Redis).

        Without an idempotency key the rows go through a :class:`BatchedWriter`, sharing a
        transaction with concurrent requests; with one, they get a transaction of their
        own, which also stores the answer under the key.
        """
        if key is None:
            stored = await self._writer.submit_many(prepared)
            outcome = answer(stored)
        else:
            async with self._sessions.begin() as session:
                stored = await self._store(await session.connection(), prepared)
                outcome = answer(stored)
                await idempotency.complete(
                    session, account_id, key.key, outcome.status_code, outcome.body
                )
        for message in stored:
            MESSAGES_ACCEPTED.labels(str(message.sandbox).lower()).inc()
            RECIPIENTS_ACCEPTED.inc(len(message.recipient_statuses))
        self._enqueuer.submit([m.id for m in stored if not m.sandbox and _deliverable(m)])
        return outcome

    async def store_prepared(
        self, account_id: str, prepared: list[PreparedMessage]
    ) -> list[StoredMessage]:
        """Store messages built and signed elsewhere (SMTP submission signs its client's
        MIME as written), then hand them to the queue as :meth:`accept` does."""
        stored: list[StoredMessage] = []

        def answer(messages: list[StoredMessage]) -> SendOutcome:
            stored.extend(messages)
            return SendOutcome(250, b"")

        await self._commit(account_id, prepared, answer, None)
        return stored

    async def flush_enqueues(self) -> None:
        """Return once every message accepted so far has been handed to the delivery queue
        (or its enqueue failed and was logged: the sweeper enqueues it)."""
        await self._enqueuer.flush()

    async def close(self) -> None:
        """Finish the writes and enqueues under way (once the API stops taking requests)."""
        await self._writer.close()
        await self._enqueuer.close()

    async def compose(self, account_id: str, request: SendMessageRequest) -> OutgoingMessage:
        """The message ``request`` asks for: its template (if it names one) rendered, then
        validated; raises the 422 naming the fields. Single and batch sends alike."""
        filled = await apply_template(self._sessions, account_id, request)
        ahead = self._max_schedule_ahead

        def validate(requests: Sequence[SendMessageRequest]) -> list[OutgoingMessage]:
            return [validate_send_request(r, max_schedule_ahead=ahead) for r in requests]

        (outgoing,) = await off_loop(validate, [filled], request_size(filled))
        return outgoing

    async def send(
        self,
        account_id: str,
        request: SendMessageRequest,
        idempotency_key: str | None = None,
        *,
        allowed_domains: Collection[str] = (),
        charge: Charge | None = None,
    ) -> SendOutcome:
        """Validate and accept one message (``POST /v1/messages``), as :meth:`submit` does."""

        async def validated() -> list[OutgoingMessage]:
            return [await self.compose(account_id, request)]

        return await self.submit(
            account_id,
            validated,
            lambda stored: SendOutcome(202, accepted_body(stored[0])),
            idempotency_key=IdempotencyKey.of(idempotency_key, "/v1/messages", request),
            allowed_domains=allowed_domains,
            charge=charge,
        )


def content_size(message: OutgoingMessage) -> int:
    """About how many bytes of content ``message`` carries (to tell big work from small)."""
    text = len(message.text or "") + len(message.html or "")
    return text + sum(len(a.content) for a in message.attachments)


def _deliverable(message: StoredMessage) -> bool:
    """Whether a recipient is left to deliver (not all were suppressed at acceptance)."""
    return RecipientStatus.QUEUED.value in message.recipient_statuses
