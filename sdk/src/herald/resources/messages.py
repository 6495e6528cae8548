"""``client.messages``: send a message and read its delivery status (``/v1/messages``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import msgspec

from herald._base_client import AsyncAPIClient, RequestOptions, SyncAPIClient, Timeout
from herald.models import Address, EmailAddress, Message, SendResult

__all__ = ["AsyncMessages", "Messages"]

Addresses = Address | Sequence[Address]
"""One address or several."""


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
    tags: list[str] | None = None
    metadata: dict[str, str] | None = None
    sandbox: bool | None = None


def _addresses(value: Addresses | None) -> Address | list[Address] | None:
    if value is None or isinstance(value, str | EmailAddress):
        return value
    return list(value)


def _send_options(
    body: _SendBody,
    idempotency_key: str | None,
    max_retries: int | None,
    timeout: Timeout,
) -> RequestOptions:
    # One key per call, reused by every retry of it: the server answers a retried send with
    # the message it already accepted instead of sending a second one.
    key = idempotency_key or str(uuid.uuid4())
    return RequestOptions(
        method="POST",
        path="/v1/messages",
        body=msgspec.json.encode(body),
        headers={"Idempotency-Key": key},
        max_retries=max_retries,
        timeout=timeout,
    )


def _get_options(message_id: str, max_retries: int | None, timeout: Timeout) -> RequestOptions:
    if not message_id:
        raise ValueError("message_id must be a non-empty string")
    return RequestOptions(
        method="GET",
        path=f"/v1/messages/{quote(message_id, safe='')}",
        max_retries=max_retries,
        timeout=timeout,
    )


class Messages:
    """Send messages and follow their delivery (blocking)."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def send(
        self,
        *,
        from_: Address,
        to: Addresses | None = None,
        subject: str | None = None,
        text: str | None = None,
        html: str | None = None,
        cc: Addresses | None = None,
        bcc: Addresses | None = None,
        reply_to: Addresses | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        sandbox: bool | None = None,
        idempotency_key: str | None = None,
        max_retries: int | None = None,
        timeout: Timeout = None,
    ) -> SendResult:
        """Send one message; returns as soon as Herald has stored and queued it.

        An address is a plain ``"ann@example.com"`` or an :class:`~herald.EmailAddress`
        (with a display name); ``to``/``cc``/``bcc``/``reply_to`` take one or a list.
        ``sandbox=True`` validates, signs and captures without delivering.

        An ``Idempotency-Key`` header is sent with every send (``idempotency_key`` or a fresh
        UUID), the same on each retry. ``max_retries`` and ``timeout`` override the client's
        for this call. Raises a :class:`~herald.HeraldError` subclass on failure.
        """
        body = _SendBody(
            from_=from_,
            to=_addresses(to),
            cc=_addresses(cc),
            bcc=_addresses(bcc),
            reply_to=_addresses(reply_to),
            subject=subject,
            text=text,
            html=html,
            tags=None if tags is None else list(tags),
            metadata=None if metadata is None else dict(metadata),
            sandbox=sandbox,
        )
        options = _send_options(body, idempotency_key, max_retries, timeout)
        return self._client.request(options, SendResult)

    def get(
        self, message_id: str, *, max_retries: int | None = None, timeout: Timeout = None
    ) -> Message:
        """The message with each recipient's status, delivery attempts and events.

        Raises :class:`~herald.NotFoundError` when this account has no such message.
        """
        return self._client.request(_get_options(message_id, max_retries, timeout), Message)


class AsyncMessages:
    """Send messages and follow their delivery (asyncio); mirrors :class:`Messages`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    async def send(
        self,
        *,
        from_: Address,
        to: Addresses | None = None,
        subject: str | None = None,
        text: str | None = None,
        html: str | None = None,
        cc: Addresses | None = None,
        bcc: Addresses | None = None,
        reply_to: Addresses | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        sandbox: bool | None = None,
        idempotency_key: str | None = None,
        max_retries: int | None = None,
        timeout: Timeout = None,  # noqa: ASYNC109
    ) -> SendResult:
        """Send one message; see :meth:`Messages.send`."""
        body = _SendBody(
            from_=from_,
            to=_addresses(to),
            cc=_addresses(cc),
            bcc=_addresses(bcc),
            reply_to=_addresses(reply_to),
            subject=subject,
            text=text,
            html=html,
            tags=None if tags is None else list(tags),
            metadata=None if metadata is None else dict(metadata),
            sandbox=sandbox,
        )
        options = _send_options(body, idempotency_key, max_retries, timeout)
        return await self._client.request(options, SendResult)

    async def get(
        self,
        message_id: str,
        *,
        max_retries: int | None = None,
        timeout: Timeout = None,  # noqa: ASYNC109
    ) -> Message:
        """The message with its recipients, attempts and events; see :meth:`Messages.get`."""
        return await self._client.request(_get_options(message_id, max_retries, timeout), Message)
