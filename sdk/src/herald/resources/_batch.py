"""The request and answer of ``messages.send_batch`` (``POST /v1/messages/batch``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import BatchResult, Problem, SendResult
from herald.resources._base import make_options

__all__ = ["BatchMessage", "BatchParams", "RawBatchAnswer", "batch_options", "batch_result"]

MAX_BATCH = 500

BatchMessage = Mapping[str, Any]
"""One message of a batch: the keyword arguments of ``messages.send`` as a dict
(``{"from_": ..., "to": ...}``), or the JSON body of ``POST /v1/messages``
(``{"from": ..., "to": ...}``)."""


class BatchParams(CallOptions, total=False):
    """The keyword arguments of ``messages.send_batch`` besides the messages."""

    send_at: datetime
    """Send every message that gives no ``send_at`` of its own at this time
    (timezone-aware; a naive datetime raises ``ValueError``)."""
    idempotency_key: str
    """Your key for the whole batch (default: a new UUID per call, kept across its
    retries): a repeated batch gets the first answer and nothing is sent twice."""


class _BatchBody(msgspec.Struct, omit_defaults=True):
    messages: list[msgspec.Raw]
    send_at: datetime | None = None


class RawBatchAnswer(msgspec.Struct):
    """The answer as sent, each result still JSON (its kind is told by an ``id``)."""

    accepted: int
    refused: int
    results: list[msgspec.Raw]


class _Kind(msgspec.Struct):
    id: str | None = None


KeywordBody = Callable[[Mapping[str, Any]], msgspec.Struct]
"""The JSON body of one message given as ``messages.send``'s keyword arguments."""


def _message(message: BatchMessage, keyword_body: KeywordBody) -> msgspec.Raw:
    if not isinstance(message, Mapping):
        raise TypeError(f"a batch message is a dict, not {type(message).__name__}")
    if "from" in message:  # already the JSON body of POST /v1/messages
        return msgspec.Raw(msgspec.json.encode(dict(message)))
    per_call = sorted(set(message) & set(CallOptions.__annotations__))
    if per_call:
        raise TypeError(f"options of the whole call given inside a message: {per_call}")
    return msgspec.Raw(msgspec.json.encode(keyword_body(message)))


def batch_options(
    messages: Sequence[BatchMessage], params: BatchParams, keyword_body: KeywordBody
) -> RequestOptions:
    """``POST /v1/messages/batch`` with ``messages`` (1 to 500) and an idempotency key."""
    if isinstance(messages, Mapping | str | bytes) or not 1 <= len(messages) <= MAX_BATCH:
        raise ValueError(f"send_batch takes a list of 1 to {MAX_BATCH} messages")
    send_at = params.get("send_at")
    if send_at is not None and (send_at.tzinfo is None or send_at.utcoffset() is None):
        raise ValueError("send_at must be timezone-aware, e.g. datetime(..., tzinfo=UTC)")
    body = _BatchBody([_message(m, keyword_body) for m in messages], send_at)
    # One key per call, reused by every retry of it, as for a single send.
    key = params.get("idempotency_key") or str(uuid.uuid4())
    return make_options(
        "POST",
        "/v1/messages/batch",
        params,
        body=body,
        headers={"Idempotency-Key": key},
        accepts=BatchParams,
    )


def batch_result(answer: RawBatchAnswer) -> BatchResult:
    """The typed result of a batch from its answer."""
    results: list[SendResult | Problem] = []
    for raw in answer.results:
        if msgspec.json.decode(raw, type=_Kind).id:
            results.append(msgspec.json.decode(raw, type=SendResult))
        else:
            results.append(msgspec.json.decode(raw, type=Problem))
    return BatchResult(accepted=answer.accepted, refused=answer.refused, results=results)
