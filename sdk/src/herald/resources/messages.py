"""``client.messages``: send a message, read its delivery status and its source."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Required, Unpack, cast

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.attachments import AttachmentBody, AttachmentSource, attachment_body
from herald.models import (
    Address,
    BatchResult,
    EmailAddress,
    Message,
    MessageCheck,
    MessagePage,
    MessageSummary,
    SendResult,
    Tracking,
    Unsubscribe,
)
from herald.resources._base import (
    AsyncResource,
    SyncResource,
    check_keywords,
    make_options,
    path,
    query,
)
from herald.resources._batch import (
    BatchMessage,
    BatchParams,
    RawBatchAnswer,
    batch_options,
    batch_result,
)

__all__ = [
    "Addresses",
    "AsyncMessages",
    "BatchMessage",
    "BatchParams",
    "MessageFilters",
    "MessageParams",
    "Messages",
    "SendParams",
]

Addresses = Address | Sequence[Address]
"""One address or several."""


class MessageParams(CallOptions, total=False):
    """The keyword arguments of ``messages.check``: the message, as ``messages.send`` takes it."""

    from_: Required[Address]
    """The sender, on a verified domain of the account."""
    to: Addresses
    """With ``cc`` and ``bcc``: at least one recipient, at most 1000 in all."""
    cc: Addresses
    bcc: Addresses
    reply_to: Addresses
    """At most 50 addresses."""
    subject: str
    text: str
    """The plain-text body (derived from ``html`` when only that is given)."""
    html: str
    attachments: Sequence[AttachmentSource]
    """Files: :class:`~herald.Attachment` (bytes or path; inline with a ``content_id``) or
    plain paths."""
    headers: Mapping[str, str]
    """Extra headers, e.g. ``{"X-Campaign": "spring"}``."""
    tags: Sequence[str]
    metadata: Mapping[str, str]
    """Your own keys and values, returned in events and webhooks."""
    unsubscribe: Unsubscribe | bool
    """``True``: Herald's hosted one-click unsubscribe (RFC 8058; the message needs exactly
    one recipient); ``False``: none, whatever the domain's default; an
    :class:`~herald.Unsubscribe`: your own ``List-Unsubscribe`` targets (a URL also enables
    one-click unsubscribe)."""
    tracking: Tracking
    """Open and click tracking of this message; what it leaves ``None`` follows the
    sending domain's settings (both off unless the domain turns them on)."""
    sandbox: bool
    """Validate, sign and store, but do not deliver."""
    template_id: str
    """Render subject, html and text from this stored template (then give none of them)."""
    template_alias: str
    """The template by its alias instead of its id."""
    template_data: Mapping[str, Any]
    """The variables the template is rendered with."""
    send_at: datetime
    """Send at this time (timezone-aware; a naive datetime raises ``ValueError``), at most
    72 hours ahead by default. Until then the recipients are ``scheduled`` and
    ``messages.cancel`` can call it off."""
    ip_pool: str
    """The IP pool it leaves from (``client.ip_pools.list()``); default: its domain's."""


class SendParams(MessageParams, total=False):
    """The keyword arguments of ``messages.send``: the message and its idempotency key."""

    idempotency_key: str
    """Your key for this send (default: a new UUID per call, kept across its retries).
    While a send with the same key is in progress elsewhere, Herald answers 409 with
    ``Retry-After`` and the SDK retries after that delay."""


class MessageFilters(CallOptions, total=False):
    """The keyword arguments of ``messages.list`` and ``messages.iter``."""

    recipient: str
    """A recipient's address (any case)."""
    status: str
    """Messages with at least one recipient in this state, e.g. ``"bounced"``."""
    from_: str
    tag: str
    since: datetime
    """At or after this time (timezone-aware)."""
    until: datetime
    """Before this time (timezone-aware)."""
    limit: int
    """Page size, 1 to 100 (default 50)."""
    cursor: str
    """``next_cursor`` of the previous page."""


def list_options(filters: MessageFilters) -> RequestOptions:
    """``GET /v1/messages`` with the filters given."""
    params = query(
        recipient=filters.get("recipient"),
        status=filters.get("status"),
        tag=filters.get("tag"),
        since=filters.get("since"),
        until=filters.get("until"),
        limit=filters.get("limit"),
        cursor=filters.get("cursor"),
    )
    if "from_" in filters:
        params["from"] = filters["from_"]
    return make_options("GET", "/v1/messages", filters, params=params, accepts=MessageFilters)


class _SendBody(msgspec.Struct, omit_defaults=True, kw_only=True, rename={"from_": "from"}):
    """The JSON body of ``POST /v1/messages``; unset fields are left out."""

    from_: Address
    to: Address | list[Address] | None = None
    cc: Address | list[Address] | None = None
    bcc: Address | list[Address] | None = None
    reply_to: Address | list[Address] | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentBody] | None = None
    headers: dict[str, str] | None = None
    tags: list[str] | None = None
    metadata: dict[str, str] | None = None
    unsubscribe: Unsubscribe | bool | None = None
    tracking: Tracking | None = None
    sandbox: bool | None = None
    template_id: str | None = None
    template_alias: str | None = None
    template_data: dict[str, Any] | None = None
    send_at: datetime | None = None
    ip_pool: str | None = None


def _send_at(value: datetime | None) -> datetime | None:
    """``send_at`` as sent: an aware datetime (a naive one is ambiguous, so refused)."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError("send_at must be timezone-aware, e.g. datetime(..., tzinfo=UTC)")
    return value


def _addresses(value: Addresses | None) -> Address | list[Address] | None:
    if value is None or isinstance(value, str | EmailAddress):
        return value
    return list(value)


def _body(params: MessageParams) -> _SendBody:
    """The JSON body of a message, from the keyword arguments of a send or check."""
    attachments = params.get("attachments")
    headers, tags, metadata = params.get("headers"), params.get("tags"), params.get("metadata")
    data = params.get("template_data")
    return _SendBody(
        from_=params["from_"],
        to=_addresses(params.get("to")),
        cc=_addresses(params.get("cc")),
        bcc=_addresses(params.get("bcc")),
        reply_to=_addresses(params.get("reply_to")),
        subject=params.get("subject"),
        text=params.get("text"),
        html=params.get("html"),
        attachments=None if attachments is None else [attachment_body(a) for a in attachments],
        headers=None if headers is None else dict(headers),
        tags=None if tags is None else list(tags),
        metadata=None if metadata is None else dict(metadata),
        unsubscribe=params.get("unsubscribe"),
        tracking=params.get("tracking"),
        sandbox=params.get("sandbox"),
        template_id=params.get("template_id"),
        template_alias=params.get("template_alias"),
        template_data=None if data is None else dict(data),
        send_at=_send_at(params.get("send_at")),
        ip_pool=params.get("ip_pool"),
    )


def send_options(params: SendParams) -> RequestOptions:
    """The request of one send, with its idempotency key."""
    check_keywords(SendParams, params)
    body = _body(params)
    # One key per call, reused by every retry of it: the server answers a retried send with
    # the message it already accepted instead of sending a second one.
    key = params.get("idempotency_key") or str(uuid.uuid4())
    return make_options(
        "POST",
        "/v1/messages",
        params,
        body=body,
        headers={"Idempotency-Key": key},
        accepts=SendParams,
    )


def _keyword_body(message: Mapping[str, Any]) -> _SendBody:
    """A batch message given as ``send``'s keyword arguments, checked as ``send`` checks."""
    check_keywords(MessageParams, message)
    return _body(cast(MessageParams, message))


def check_options(params: MessageParams) -> RequestOptions:
    """``POST /v1/messages/check``: the same body as a send, to nothing."""
    check_keywords(MessageParams, params)
    return make_options(
        "POST", "/v1/messages/check", params, body=_body(params), accepts=MessageParams
    )


def get_options(message_id: str, options: CallOptions) -> RequestOptions:
    """``GET /v1/messages/{id}``."""
    return make_options("GET", path("/v1/messages/{message_id}", message_id=message_id), options)


def cancel_options(message_id: str, options: CallOptions) -> RequestOptions:
    """``POST /v1/messages/{id}/cancel``."""
    return make_options(
        "POST", path("/v1/messages/{message_id}/cancel", message_id=message_id), options
    )


def raw_options(message_id: str, options: CallOptions) -> RequestOptions:
    """``GET /v1/messages/{id}/raw``."""
    return make_options(
        "GET",
        path("/v1/messages/{message_id}/raw", message_id=message_id),
        options,
        headers={"Accept": "message/rfc822"},
    )


class Messages(SyncResource):
    """Send messages and follow their delivery (blocking)."""

    def send(self, **params: Unpack[SendParams]) -> SendResult:
        """Send one message; returns as soon as Herald has stored and queued it.

        An address is a plain ``"ann@example.com"``, a name-addr ``"Ann <ann@example.com>"``
        or an :class:`~herald.EmailAddress`; ``to``/``cc``/``bcc``/``reply_to`` take one or a
        list. See :class:`SendParams`; an argument it does not name (``from`` instead of
        ``from_``, a misspelling) or a missing ``from_`` raises ``TypeError``.
        Every send carries an ``Idempotency-Key`` (``idempotency_key`` or a fresh UUID), the
        same on each retry, so a retried send never sends twice.
        """
        return self._client.request(send_options(params), SendResult)

    def send_batch(
        self, messages: Sequence[BatchMessage], **params: Unpack[BatchParams]
    ) -> BatchResult:
        """Send 1 to 500 messages in one request; each is accepted or refused on its own.

        Each message is a dict of :meth:`send`'s keyword arguments (``{"from_": ..., "to":
        ...}``) or the JSON body of ``POST /v1/messages`` (``{"from": ...}``). The result
        lists one :class:`~herald.SendResult` or :class:`~herald.Problem` per message, in
        order (``result.problems`` by position). Only a refusal of the whole batch raises:
        a malformed list, the key's scope, quotas (a batch over them stores nothing). The
        batch carries one ``Idempotency-Key`` (``idempotency_key`` or a fresh UUID), the
        same on each retry, so a retried batch never sends twice.
        """
        options = batch_options(messages, params, _keyword_body)
        return batch_result(self._client.request(options, RawBatchAnswer))

    def check(self, **params: Unpack[MessageParams]) -> MessageCheck:
        """What would go wrong with this message, without sending or storing it.

        Takes the arguments of :meth:`send` (but ``idempotency_key``) and raises as a send
        would for an invalid message (:class:`~herald.UnprocessableEntityError`). The
        answer lists findings: the From domain's readiness (verified, SPF/DKIM/DMARC
        published), the size, header and HTML problems, and a spam score when the server
        has a spamd. ``result.ok`` is false when any finding is an error.
        """
        return self._client.request(check_options(params), MessageCheck)

    def get(self, message_id: str, **options: Unpack[CallOptions]) -> Message:
        """The message with each recipient's status, delivery attempts and events."""
        return self._client.request(get_options(message_id, options), Message)

    def raw(self, message_id: str, **options: Unpack[CallOptions]) -> bytes:
        """The message's exact signed source (RFC 5322 bytes), as delivered."""
        return self._client.request(raw_options(message_id, options), bytes)

    def cancel(self, message_id: str, **options: Unpack[CallOptions]) -> Message:
        """Cancel a message not yet started (``scheduled``, or queued and not yet tried);
        returns it with its recipients ``canceled``. One already sent or tried raises
        :class:`~herald.ConflictError`."""
        return self._client.request(cancel_options(message_id, options), Message)

    def list(self, **filters: Unpack[MessageFilters]) -> MessagePage:
        """One page of messages, newest first; pass ``page.next_cursor`` as ``cursor``."""
        return self._client.request(list_options(filters), MessagePage)

    def iter(self, **filters: Unpack[MessageFilters]) -> Iterator[MessageSummary]:
        """Every matching message, newest first, fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), MessagePage)


class AsyncMessages(AsyncResource):
    """Send messages and follow their delivery (asyncio); mirrors :class:`Messages`."""

    async def send(self, **params: Unpack[SendParams]) -> SendResult:
        """Send one message; see :meth:`Messages.send`."""
        return await self._client.request(send_options(params), SendResult)

    async def send_batch(
        self, messages: Sequence[BatchMessage], **params: Unpack[BatchParams]
    ) -> BatchResult:
        """Send 1 to 500 messages in one request; see :meth:`Messages.send_batch`."""
        options = batch_options(messages, params, _keyword_body)
        return batch_result(await self._client.request(options, RawBatchAnswer))

    async def check(self, **params: Unpack[MessageParams]) -> MessageCheck:
        """What would go wrong with this message, unsent; see :meth:`Messages.check`."""
        return await self._client.request(check_options(params), MessageCheck)

    async def get(self, message_id: str, **options: Unpack[CallOptions]) -> Message:
        """The message with its recipients, attempts and events."""
        return await self._client.request(get_options(message_id, options), Message)

    async def raw(self, message_id: str, **options: Unpack[CallOptions]) -> bytes:
        """The message's exact signed source (RFC 5322 bytes)."""
        return await self._client.request(raw_options(message_id, options), bytes)

    async def cancel(self, message_id: str, **options: Unpack[CallOptions]) -> Message:
        """Cancel a message not yet started; see :meth:`Messages.cancel`."""
        return await self._client.request(cancel_options(message_id, options), Message)

    async def list(self, **filters: Unpack[MessageFilters]) -> MessagePage:
        """One page of messages; see :meth:`Messages.list`."""
        return await self._client.request(list_options(filters), MessagePage)

    def iter(self, **filters: Unpack[MessageFilters]) -> AsyncIterator[MessageSummary]:
        """Every matching message (``async for``), fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), MessagePage)
