"""The submission use case: who may send (AUTH), to whom (RCPT) and what (DATA).

It feeds the HTTP API's pipeline: the same key checks (scope, domain restriction), the
same quotas, the same sending-domain resolution, suppressions, signing, storage and queue.
Only the message differs: the client's MIME is signed as written (see :mod:`.intake`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from email_validator import EmailNotValidError

from herald_service.api.context import ApiContext
from herald_service.core.message import Address, OutgoingMessage
from herald_service.errors import HeraldError, Unauthorized
from herald_service.keys.service import AuthContext
from herald_service.mail.addresses import normalized_email, special_use_problem
from herald_service.messages.offload import off_loop
from herald_service.messages.service import SendOutcome, Undo
from herald_service.messages.store import (
    MessageFacts,
    PreparedMessage,
    StoredMessage,
    prepare_submitted,
)
from herald_service.metrics import SUBMISSION_MESSAGES
from herald_service.settings import Settings
from herald_service.storage.outages import database_unavailable
from herald_service.submission.intake import SubmittedMessage, read_submission
from herald_service.submission.lockout import LockoutGate
from herald_service.submission.replies import (
    AUTH_FAILED,
    AUTH_UNAVAILABLE,
    LOCKED_OUT,
    Refusal,
    refusal_of,
)
from herald_service.submission.templated import templated_request

log = logging.getLogger("herald.submission")
SEND_SCOPE = "send"


def may_manage_lockouts(settings: Settings, account_ids: Iterable[str]) -> bool:
    """Whether a caller acting for ``account_ids`` may see and lift lock-outs.

    A lock-out is per client address, not per account: the client that failed may have
    meant any account's key, and the address may be another tenant's application server
    (or a guesser aimed at one). Listing them would show one tenant other tenants' client
    addresses, and lifting one would let any tenant switch off the protection of every
    other tenant's keys. So only the operator of the server may: the command line, and the
    accounts named in ``HERALD_OPERATOR_ACCOUNTS`` (their admin keys over the API, their
    console members in the console).
    """
    return not set(settings.operator_accounts).isdisjoint(account_ids)


class SubmissionService:
    """Checks and accepts submitted messages for the keys that authenticate."""

    def __init__(self, context: ApiContext, lockout: LockoutGate | None = None) -> None:
        self._context = context
        self._lockout = lockout
        self._settings = context.settings

    @property
    def trusted_networks(self) -> tuple[str, ...]:
        """CIDRs whose clients send without AUTH, as :meth:`trusted` (Postfix's mynetworks)."""
        return self._settings.submission_trusted_networks

    async def authenticate(self, password: str, peer: str) -> AuthContext:
        """The key ``password`` names, if it may send; :class:`Refusal` otherwise (and a
        failure counted against ``peer``'s address, which a lock-out may stop)."""
        if self._lockout is not None and await self._lockout.is_locked(peer):
            raise LOCKED_OUT
        try:
            auth = await self._context.authenticator.authenticate(password.strip() or None)
        except Unauthorized:
            if self._lockout is not None:
                await self._lockout.record_failure(peer)
            raise AUTH_FAILED from None
        except Exception as exc:
            if database_unavailable(exc):  # not the client's fault: 454, try again later
                log.warning("SMTP AUTH: the database is unavailable")
                raise AUTH_UNAVAILABLE from None
            raise
        if SEND_SCOPE not in auth.scopes:
            raise Refusal(535, "5.7.8", f"this API key lacks the '{SEND_SCOPE}' scope")
        return auth

    async def trusted(self) -> AuthContext | None:
        """The key trusted networks send as (``HERALD_SUBMISSION_TRUSTED_KEY``), if any."""
        token = self._settings.submission_trusted_key
        if not token or not self._settings.submission_trusted_networks:
            return None
        return await self.authenticate(token, "")

    @staticmethod
    def recipient(address: str) -> Address:
        """The checked envelope recipient; :class:`Refusal` (553 5.1.3 / 550 5.1.2)."""
        problem = special_use_problem(address.rpartition("@")[2])
        if problem is not None:
            raise Refusal(550, "5.1.2", problem)
        try:
            return Address(normalized_email(address))
        except EmailNotValidError as exc:
            raise Refusal(553, "5.1.3", f"not a valid recipient address: {exc}") from None

    async def submit(self, auth: AuthContext, data: bytes, recipients: list[Address]) -> str:
        """Accept a DATA transaction; the id of the stored message, once it is committed.

        :class:`Refusal` for what the client must change; any other error becomes a
        temporary failure (the client keeps the message and retries).
        """
        try:
            submitted = read_submission(
                data, recipients, self._settings.hostname, self._settings.max_schedule_ahead
            )
            if submitted.options.template is not None:
                message_id = await self._submit_templated(auth, submitted)
            else:
                message_id = await self._submit(auth, submitted)
        except Refusal as refusal:
            SUBMISSION_MESSAGES.labels("refused").inc()
            raise refusal from None
        except HeraldError as error:
            SUBMISSION_MESSAGES.labels("refused").inc()
            raise refusal_of(error) from None
        SUBMISSION_MESSAGES.labels("accepted").inc()
        return message_id

    async def _submit(self, auth: AuthContext, submitted: SubmittedMessage) -> str:
        sender = self._context.sender
        domain = await sender.sending_domain(
            auth.account_id, submitted.sender.domain, auth.allowed_domains
        )
        options = submitted.options
        facts = MessageFacts(
            sender=submitted.sender,
            subject=submitted.subject,
            envelope=submitted.envelope,
            tags=options.tags,
            metadata=options.metadata,
            sandbox=options.sandbox,
            send_at=options.send_at,
            source="smtp",
        )
        undo = await self._charge(auth, 0 if options.sandbox else len(submitted.envelope))
        try:
            message = submitted.to_bytes()

            def prepare(items: Sequence[bytes]) -> list[PreparedMessage]:
                return [
                    prepare_submitted(auth.account_id, facts, domain, m, submitted.message_id)
                    for m in items
                ]

            prepared = await off_loop(prepare, [message], len(message))
            (stored,) = await sender.store_prepared(auth.account_id, prepared)
        except BaseException:
            await undo()
            raise
        return stored.id

    async def _submit_templated(self, auth: AuthContext, submitted: SubmittedMessage) -> str:
        sender = self._context.sender
        request = templated_request(submitted)
        outgoing = await sender.compose(auth.account_id, request)
        name = outgoing.sender.domain
        domain = await sender.sending_domain(auth.account_id, name, auth.allowed_domains)
        ids: list[str] = []

        def answer(stored: list[StoredMessage]) -> SendOutcome:
            ids.extend(m.id for m in stored)
            return SendOutcome(250, b"")

        async def charge(messages: Sequence[OutgoingMessage]) -> Undo:
            recipients = sum(len(m.envelope_recipients()) for m in messages if not m.sandbox)
            return await self._charge(auth, recipients)

        await sender.accept(
            auth.account_id, [outgoing], [domain], answer, None, charge, source="smtp"
        )
        return ids[0]

    async def _charge(self, auth: AuthContext, recipients: int) -> Undo:
        """Charge the quotas as a send does; :class:`Refusal` when over (451 4.7.1: the
        client retries later) or beyond a whole day's cap (552 5.5.3)."""
        gate = self._context.quotas
        limits = gate.limits(auth)
        caps = [
            c for c in (limits.daily_recipients_per_key, limits.daily_recipients_per_account) if c
        ]
        if caps and recipients > min(caps):
            raise Refusal(
                552, "5.5.3", f"{recipients} recipients exceed the daily cap of {min(caps)}"
            )
        decision = await gate.charge(auth, recipients)
        if decision is not None and not decision.allowed:
            raise Refusal(451, "4.7.1", f"quota exceeded; retry in {decision.retry_after}s")

        async def refund() -> None:
            await gate.refund(auth, decision, recipients)

        return refund
