"""``/v1/messages``: send a message and read its status."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from herald_service.api.auth import provide_auth, require_api_key
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.api.ratelimit import enforce_quota
from herald_service.api.schemas import (
    AttemptOut,
    EventOut,
    MessageAccepted,
    MessageOut,
    RecipientOut,
    SendMessageRequest,
    to_address_input,
    to_address_inputs,
)
from herald_service.core.states import summarize
from herald_service.services.api_keys import AuthContext
from herald_service.services.intake import build_outgoing
from herald_service.services.messages import (
    accept_message,
    ensure_sender_allowed,
    get_message,
    message_events,
)
from herald_service.storage.models import Event, Message


class MessageController(Controller):
    """Send messages and follow their delivery."""

    path = "/v1/messages"
    tags = ["messages"]
    guards = [require_api_key]
    dependencies = {"auth": Provide(provide_auth, sync_to_thread=False)}
    security = [{"bearer": []}]

    @post(
        "/",
        status_code=202,
        opt={"scope": "send", "quota": "deferred"},
        summary="Send a message",
        response_description="Accepted: stored durably and queued for delivery",
        responses=problem_responses(400, 401, 403, 413, 422, 429),
    )
    async def send(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SendMessageRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> MessageAccepted:
        """Validate, sign and queue a message; answers 202 once it is stored durably."""
        outgoing = build_outgoing(
            sender=to_address_input(data.sender),
            to=to_address_inputs(data.to),
            cc=to_address_inputs(data.cc),
            bcc=to_address_inputs(data.bcc),
            reply_to=to_address_inputs(data.reply_to),
            subject=data.subject,
            text=data.text,
            html=data.html,
            tags=data.tags,
            metadata=data.metadata,
            sandbox=data.sandbox,
        )
        ensure_sender_allowed(auth.allowed_domains, outgoing.sender.domain)
        # Sandbox messages are never delivered: they count as requests, not recipients.
        recipients = 0 if outgoing.sandbox else len(outgoing.envelope_recipients())
        await enforce_quota(request, auth, recipients)
        async with herald.sessions.begin() as session:
            message = await accept_message(
                session,
                auth.account_id,
                outgoing,
                herald.signing_keys,
                herald.settings.hostname,
                auth.allowed_domains,
            )
        if not outgoing.sandbox:
            await asyncio.to_thread(herald.delivery_queue.enqueue, [message.id])
        return MessageAccepted(
            id=message.id, status=summarize(r.status for r in message.recipients)
        )

    @get(
        "/{message_id:str}",
        opt={"scope": "read"},
        summary="Get a message",
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    async def get(
        self,
        message_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> MessageOut:
        """The message with each recipient's status, attempts and the event timeline."""
        async with herald.sessions() as session:
            message = await get_message(session, auth.account_id, message_id)
            events = await message_events(session, message.id)
        return message_out(message, events)


def message_out(message: Message, events: list[Event]) -> MessageOut:
    """The public view of a stored message."""
    return MessageOut(
        id=message.id,
        status=summarize(r.status for r in message.recipients),
        sender=message.from_email,
        subject=message.subject,
        message_id=message.message_id_header,
        tags=list(message.tags),
        metadata=dict(message.metadata_),
        sandbox=message.sandbox,
        created_at=message.created_at,
        recipients=[
            RecipientOut(
                email=r.email,
                kind=r.kind,
                status=r.status,
                next_attempt_at=r.next_attempt_at if r.status == "deferred" else None,
                attempts=[
                    AttemptOut(
                        at=a.at,
                        mx=a.mx,
                        code=a.code,
                        enhanced_code=a.enhanced_code,
                        response=a.response,
                        outcome=a.outcome,
                        tls=a.tls,
                        tls_verified=a.tls_verified,
                    )
                    for a in r.attempts
                ],
            )
            for r in message.recipients
        ],
        events=[
            EventOut(id=e.id, type=e.type, at=e.at, recipient=e.recipient, data=e.data)
            for e in events
        ],
    )
