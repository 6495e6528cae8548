"""``POST /v1/messages/batch``: up to 500 messages in one request, each accepted or refused
on its own.

The answer is ``200`` whenever the batch itself was well-formed (as Postmark's batch
answers), with one result per message in their order: the ``202`` answer of
``POST /v1/messages`` for an accepted message, a problem-details object for a refused one.
Only what concerns the whole request is an error status: a malformed envelope (400/422
naming the field), the key's scope (403), quotas (429, nothing stored), an
``Idempotency-Key`` in use (409) or reused with another body (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.headers import IdempotencyHeader
from herald_service.api.json_body import decode_body
from herald_service.api.openapi_schemas import REF_PREFIX
from herald_service.api.problems import Problem, problem_of, problem_responses
from herald_service.api.ratelimit import quota_charge
from herald_service.errors import HeraldError
from herald_service.keys.service import AuthContext
from herald_service.messages.accepted import Accepted
from herald_service.messages.batch.service import (
    MAX_MESSAGES,
    Item,
    Result,
    send_batch,
)
from herald_service.messages.schemas import MessageAccepted, SendAt, SendMessageRequest
from herald_service.messages.service import IdempotencyKey, SendOutcome

PATH = "/v1/messages/batch"

# Each message is decoded on its own (so one malformed message is refused alone), and
# documented as what it must be: the body of POST /v1/messages.
MessageItem = Annotated[
    msgspec.Raw, msgspec.Meta(extra_json_schema={"$ref": REF_PREFIX + "SendMessageRequest"})
]


class SendBatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/messages/batch``: each message is the body of ``POST /v1/messages``."""

    messages: Annotated[
        list[MessageItem],
        msgspec.Meta(
            min_length=1,
            max_length=MAX_MESSAGES,
            description="1 to 500 messages, each the body of `POST /v1/messages`.",
        ),
    ]
    send_at: SendAt | None = None
    """The ``send_at`` of every message that gives none of its own."""


@dataclass  # not a Struct: msgspec cannot describe a union of untagged Structs
class BatchResults:
    """One result per message, in the order sent: the message's ``{"id", "status",
    "recipients"}`` when accepted, a problem-details object (``type``, ``title``,
    ``status``, ``detail``, ``errors`` naming fields as ``messages[i].field``) when refused.
    ``accepted`` and ``refused`` count them."""

    accepted: int
    refused: int
    results: list[MessageAccepted | Problem]


class MessageBatchController(AuthenticatedController):
    """Send many messages in one request."""

    path = PATH
    tags = ["messages"]

    @post(
        "/",
        status_code=200,
        opt={"scope": "send", "quota": "deferred"},
        summary="Send a batch of messages",
        response_description="One result per message, in order: accepted or refused",
        responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
    )
    async def send_batch(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SendBatchRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        idempotency_key: IdempotencyHeader = None,
    ) -> Response[BatchResults]:
        """Up to 500 messages, each checked, accepted or refused on its own; the accepted
        ones are stored together and queued. The recipients of all accepted messages count
        against the quotas: a batch over them is refused whole (429, nothing stored)."""
        items = [_decoded(raw, data.send_at) for raw in data.messages]
        fingerprinted = [
            item if isinstance(item, SendMessageRequest) else raw
            for item, raw in zip(items, data.messages, strict=True)
        ]
        outcome = await send_batch(
            herald.sender,
            auth.account_id,
            items,
            _answer,
            idempotency_key=IdempotencyKey.of(idempotency_key, PATH, fingerprinted),
            allowed_domains=auth.allowed_domains,
            charge=quota_charge(request, auth, field="messages"),
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(
            content=outcome.body,  # type: ignore[arg-type]
            status_code=outcome.status_code,
            media_type="application/json",
            headers=headers,
        )


def _decoded(raw: msgspec.Raw, send_at: datetime | None) -> Item:
    """One message as decoded (or the error refusing it), given the batch's ``send_at``
    when it has none of its own."""
    try:
        request: SendMessageRequest = decode_body(bytes(raw), SendMessageRequest)
    except HeraldError as exc:
        return exc
    if send_at is not None and request.send_at is None:
        return msgspec.structs.replace(request, send_at=send_at)
    return request


class _Results(msgspec.Struct):
    accepted: int
    refused: int
    results: list[Accepted | Problem]


def _answer(results: list[Result]) -> SendOutcome:
    shown = [r if isinstance(r, Accepted) else problem_of(r) for r in results]
    refused = sum(isinstance(r, Problem) for r in shown)
    body = _Results(accepted=len(shown) - refused, refused=refused, results=shown)
    return SendOutcome(200, msgspec.json.encode(body))
