"""Batch send: up to 500 messages in one request, each accepted or refused on its own.

The sibling of :meth:`Sender.submit`, which takes the messages of a request all or none:
here each message is checked alone (:func:`check_item`), a refused one keeps its place in
the answer as the error that refused it, and the others go through the same steps as a
single send (:meth:`Sender.accept`): charged to the quotas together (a batch over quota is
refused whole), built and signed off the event loop in one go, stored in one statement and
one commit, enqueued in one call. An ``Idempotency-Key`` covers the whole batch
(:meth:`Sender.once`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from herald_service.core.message import OutgoingMessage
from herald_service.domains.service import SendingDomain
from herald_service.errors import FieldError, HeraldError, InvalidRequest
from herald_service.messages.accepted import Accepted, accepted
from herald_service.messages.schemas import SendMessageRequest, address_list
from herald_service.messages.service import Charge, IdempotencyKey, Sender, SendOutcome
from herald_service.messages.store import StoredMessage

MAX_MESSAGES = 500
# Recipients (to, cc and bcc) of all the messages of a batch together: ten times what one
# message may have, so that a batch's rows stay one modest statement.
MAX_RECIPIENTS = 10_000

Item = SendMessageRequest | HeraldError
"""A message of the batch as decoded, or the error that refused its JSON."""
Result = Accepted | HeraldError
"""What became of one message: accepted, or refused (fields named ``messages[i]...``)."""
BatchAnswer = Callable[[list[Result]], SendOutcome]
"""The answer to a batch whose messages came to these results, in their order."""


async def check_item(
    sender: Sender, account_id: str, request: SendMessageRequest, allowed: Collection[str]
) -> tuple[OutgoingMessage, SendingDomain]:
    """One message of a batch, checked as a single send checks it: valid, and from a
    domain the key and the account may send from. Raises the :class:`HeraldError` that
    refuses it (field names as in ``POST /v1/messages``).

    :meth:`Sender.compose` renders its template, if it names one, and validates it.
    """
    outgoing = await sender.compose(account_id, request)
    domain = await sender.sending_domain(account_id, outgoing.sender.domain, allowed)
    await sender.check_pools([outgoing])
    return outgoing, domain


async def send_batch(
    sender: Sender,
    account_id: str,
    items: Sequence[Item],
    answer: BatchAnswer,
    *,
    idempotency_key: IdempotencyKey | None = None,
    allowed_domains: Collection[str] = (),
    charge: Charge | None = None,
) -> SendOutcome:
    """Accept every message of ``items`` that passes :func:`check_item`, and ``answer``
    with one result per item, in order.

    Refusals cost no quota. The accepted messages' recipients are charged together: a
    batch over quota raises :class:`QuotaExceeded` and nothing is stored. A batch over
    :data:`MAX_RECIPIENTS` is refused whole (422 naming ``messages``).
    """
    check_bounds(items)

    async def work() -> SendOutcome:
        results: list[Result | None] = []
        messages: list[OutgoingMessage] = []
        domains: list[SendingDomain] = []
        positions: list[int] = []
        for index, item in enumerate(items):
            try:
                if isinstance(item, HeraldError):
                    raise item
                outgoing, domain = await check_item(sender, account_id, item, allowed_domains)
            except HeraldError as exc:
                results.append(refusal(index, exc))
                continue
            results.append(None)
            messages.append(outgoing)
            domains.append(domain)
            positions.append(index)

        def answer_stored(stored: list[StoredMessage]) -> SendOutcome:
            final = list(results)
            for index, message in zip(positions, stored, strict=True):
                final[index] = accepted(message)
            return answer([r for r in final if r is not None])

        return await sender.accept(
            account_id, messages, domains, answer_stored, idempotency_key, charge
        )

    return await sender.once(account_id, idempotency_key, work)


def check_bounds(items: Sequence[Item]) -> None:
    """Refuse a batch whose messages have more than :data:`MAX_RECIPIENTS` in all."""
    recipients = sum(
        len(address_list(i.to)) + len(address_list(i.cc)) + len(address_list(i.bcc))
        for i in items
        if isinstance(i, SendMessageRequest)
    )
    if recipients > MAX_RECIPIENTS:
        problem = (
            f"{recipients} recipients (to, cc and bcc of every message); "
            f"at most {MAX_RECIPIENTS} are allowed per batch"
        )
        raise InvalidRequest(problem, [FieldError("messages", problem)])


def refusal(index: int, exc: HeraldError) -> HeraldError:
    """``exc`` about the ``index``-th message: its fields named ``messages[index].field``
    (the message itself when the error named none, or only the whole body)."""
    prefix = f"messages[{index}]"
    errors = [
        FieldError(prefix if e.field == "body" else f"{prefix}.{e.field}", e.message)
        for e in exc.errors
    ] or [FieldError(prefix, exc.detail)]
    return type(exc)(f"{prefix}: {exc.detail}", errors, exc.headers)
