"""``/v1/messages``: send a message and read its status and source."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.headers import IdempotencyHeader
from herald_service.api.problems import problem_responses
from herald_service.api.query_params import Cursor, PageSize, Since, Until
from herald_service.api.ratelimit import quota_charge
from herald_service.core.states import RecipientStatus
from herald_service.keys.service import AuthContext
from herald_service.messages.cancel import cancel_message
from herald_service.messages.check import check_message
from herald_service.messages.retry import (
    RetryDeferredRequest,
    RetryDeferredResult,
    retry_deferred,
    retry_message,
)
from herald_service.messages.schemas import (
    MessageAccepted,
    MessageCheck,
    MessageList,
    MessageOut,
    SendMessageRequest,
    message_out,
    message_summary,
)
from herald_service.messages.search import MessageFilter, search_messages
from herald_service.messages.store import get_message, message_events, message_source
from herald_service.pagination import timestamp


class MessageController(AuthenticatedController):
    """Send messages and follow their delivery."""

    path = "/v1/messages"
    tags = ["messages"]

    @post(
        "/",
        status_code=202,
        opt={"scope": "send", "quota": "deferred"},
        summary="Send a message",
        response_description="Accepted: stored durably and queued for delivery",
        responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
    )
    async def send(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SendMessageRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        idempotency_key: IdempotencyHeader = None,
    ) -> Response[MessageAccepted]:
        """Validate, sign and queue a message; answers 202 once it is stored durably."""
        outcome = await herald.sender.send(
            auth.account_id,
            data,
            idempotency_key,
            allowed_domains=auth.allowed_domains,
            charge=quota_charge(request, auth),
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(
            content=outcome.body,  # type: ignore[arg-type]
            status_code=outcome.status_code,
            media_type="application/json",
            headers=headers,
        )

    @post(
        "/check",
        status_code=200,
        opt={"scope": "send"},
        summary="Check a message without sending it",
        response_description="The findings: domain readiness, size, headers, HTML, spam score",
        responses=problem_responses(400, 401, 403, 413, 422, 429),
    )
    async def check(
        self,
        data: JSONBody[SendMessageRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> MessageCheck:
        """Take a message exactly as ``POST /v1/messages`` does (the same 400 and 422 for a
        bad request) and report what would go wrong, without storing or sending anything.

        Findings: whether the key may send from the From domain and that domain is verified
        with SPF, DKIM and DMARC published (as its last verification found them: no DNS
        lookup is made), the built size, header problems, HTML problems (structure, images
        without alt, links that are not absolute, anchors without target) and a spam score
        when a spamd is configured. It counts as one request against the key's rate limit
        and charges no recipients.
        """
        return await check_message(
            herald.sessions, herald.settings, auth.account_id, data, auth.allowed_domains
        )

    @get(
        "/",
        opt={"scope": "read"},
        summary="Search messages",
        responses=problem_responses(400, 401, 403, 422, 429),
    )
    async def search(
        self,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        recipient: Annotated[
            str | None, QueryParameter(description="A recipient's address (any case).")
        ] = None,
        status: Annotated[
            RecipientStatus | None,
            QueryParameter(description="Messages with at least one recipient in this state."),
        ] = None,
        sender: Annotated[
            str | None, QueryParameter(name="from", description="From address.")
        ] = None,
        tag: FromQuery[str | None] = None,
        since: Since = None,
        until: Until = None,
        cursor: Cursor = None,
        limit: PageSize = 50,
    ) -> MessageList:
        """The account's messages newest first; pass ``next_cursor`` back as ``cursor``."""
        filters = MessageFilter(
            recipient=recipient,
            status=status.value if status else None,
            sender=sender,
            tag=tag,
            since=timestamp("since", since),
            until=timestamp("until", until),
        )
        async with herald.sessions() as session:
            messages, next_cursor = await search_messages(
                session, auth.account_id, filters, cursor=cursor, limit=limit
            )
        return MessageList(
            data=[message_summary(m) for m in messages],
            next_cursor=next_cursor,
        )

    @get(
        "/{message_id:str}",
        opt={"scope": "read"},
        summary="Get a message",
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    async def retrieve(
        self,
        message_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> MessageOut:
        """The message with each recipient's status, attempts and the event timeline."""
        return await _message_view(herald, auth.account_id, message_id)

    @post(
        "/{message_id:str}/cancel",
        status_code=200,
        opt={"scope": "send"},
        summary="Cancel a message",
        response_description="The message, its recipients now canceled",
        responses=problem_responses(400, 401, 403, 404, 409, 429),
    )
    async def cancel(
        self,
        message_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> MessageOut:
        """Cancel a message none of whose recipients has started: ``scheduled`` ones, or
        ``queued`` ones no delivery worker has taken yet. They end ``canceled``, each with
        a ``message.canceled`` event (and its webhooks). A message already sent, tried or
        canceled is a 409; needs the ``send`` scope, as sending does."""
        await cancel_message(herald.sessions, auth.account_id, message_id, herald.webhook_endpoints)
        return await _message_view(herald, auth.account_id, message_id)

    @post(
        "/{message_id:str}/retry",
        status_code=200,
        opt={"scope": "admin"},
        summary="Retry a deferred message now",
        response_description="The message; its deferred recipients are due now",
        responses=problem_responses(400, 401, 403, 404, 409, 429),
    )
    async def retry(
        self,
        message_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> MessageOut:
        """Try the message's `deferred` recipients now instead of at their next retry
        time (Postfix's `postqueue -i`): the workers' next sweep (within
        `HERALD_SWEEP_INTERVAL`) queues them. 409 when none is deferred; admin scope."""
        async with herald.sessions.begin() as session:
            await retry_message(session, auth.account_id, message_id)
        return await _message_view(herald, auth.account_id, message_id)

    @post(
        "/retry",
        status_code=200,
        opt={"scope": "admin"},
        summary="Retry every deferred message now",
        response_description="How many deferred recipients are due now",
        responses=problem_responses(400, 401, 403, 422, 429),
    )
    async def retry_all(
        self,
        data: JSONBody[RetryDeferredRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> RetryDeferredResult:
        """Try every `deferred` recipient of the account now, or those at one
        `recipient_domain` (Postfix's `postqueue -f`), for the day a destination came back.
        Admin scope."""
        async with herald.sessions.begin() as session:
            count = await retry_deferred(session, auth.account_id, data.recipient_domain)
        return RetryDeferredResult(retried=count)

    @get(
        "/{message_id:str}/raw",
        opt={"scope": "read"},
        summary="Get a message's source",
        media_type="message/rfc822",
        responses=problem_responses(400, 401, 403, 404, 410, 429),
    )
    async def raw(
        self,
        message_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> Response[bytes]:
        """The exact signed bytes that are (or, in sandbox mode, would be) delivered.
        410 once retention deleted them (`HERALD_RETENTION_BODIES`)."""
        async with herald.sessions() as session:
            message = await get_message(session, auth.account_id, message_id)
        return Response(
            content=message_source(message),
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="{message.id}.eml"'},
        )


async def _message_view(herald: ApiContext, account_id: str, message_id: str) -> MessageOut:
    """The caller's message as ``GET /v1/messages/{id}`` shows it (a 404 otherwise)."""
    async with herald.sessions() as session:
        message = await get_message(session, account_id, message_id)
        events = await message_events(session, message.id)
    return message_out(message, events)
