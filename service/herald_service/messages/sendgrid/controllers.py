"""``POST /v3/mail/send``: SendGrid v3 compatible sending.

Point the official SendGrid client at Herald by changing only its host. Answers use
SendGrid's shapes: ``202`` with ``X-Message-Id``, ``200`` in sandbox mode, and errors as
``{"errors": [{"message", "field", "help"}]}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from herald_service.api.auth import provide_auth, require_api_key
from herald_service.api.context import ApiContext
from herald_service.api.headers import IdempotencyHeader
from herald_service.api.ratelimit import quota_charge
from herald_service.core.message import OutgoingMessage
from herald_service.errors import FieldError, HeraldError
from herald_service.keys.service import AuthContext
from herald_service.messages.sendgrid.service import SGMail, validate_mail
from herald_service.messages.service import Accepted, IdempotencyKey, SendOutcome, accepted_body
from herald_service.messages.store import StoredMessage

_FROM = "from.email"  # where SendGrid names the From address
# Fields the sender's checks name in Herald's terms (after validation, which renames).
_RENAMED = {"from": _FROM, "ip_pool": "ip_pool_name"}


class SGError(msgspec.Struct):
    """One error in SendGrid's format."""

    message: str
    field: str | None = None
    help: str | None = None


class SGErrors(msgspec.Struct):
    """SendGrid's error document."""

    errors: list[SGError]


def _documented_errors(*statuses: int) -> dict[int, ResponseSpec]:
    descriptions = {
        400: "Invalid request; each bad field is named in `errors`",
        401: "Missing, unknown or revoked API key",
        403: "The API key lacks the `send` scope, or may not send from this domain",
        409: "A request with this `Idempotency-Key` is in progress; retry after `Retry-After`",
        413: "Request body too large",
        429: "Quota exhausted; retry after `Retry-After` seconds",
    }
    return {
        status: ResponseSpec(
            data_container=SGErrors,
            media_type="application/json",
            description=descriptions[status],
            generate_examples=False,
        )
        for status in statuses
    }


def _sendgrid_errors(
    status: int, errors: list[SGError], headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(
        content=msgspec.json.encode(SGErrors(errors)),
        status_code=status,
        media_type="application/json",
        headers=headers or None,
    )


def _sg_error(error: FieldError) -> SGError:
    if error.message == "unknown field":  # a SendGrid feature Herald does not implement
        return SGError(f"{error.field} is not supported by Herald", error.field)
    return SGError(error.message, _RENAMED.get(error.field, error.field))


def _herald_error(_: Request[Any, Any, Any], exc: HeraldError) -> Response[Any]:
    status = 400 if exc.status == 422 else exc.status
    errors = [_sg_error(e) for e in exc.errors]
    return _sendgrid_errors(status, errors or [SGError(exc.detail)], exc.headers)


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return _sendgrid_errors(400, [SGError(str(exc.detail))])


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _sendgrid_errors(exc.status_code, [SGError(str(exc.detail))])


@post(
    "/v3/mail/send",
    guards=[require_api_key],
    opt={"scope": "send", "quota": "deferred"},
    dependencies={"auth": Provide(provide_auth, sync_to_thread=False)},
    exception_handlers={
        HeraldError: _herald_error,
        ValidationException: _validation_error,
        HTTPException: _http_error,
    },
    summary="Send mail (SendGrid v3 compatible)",
    tags=["sendgrid"],
    status_code=202,
    media_type=MediaType.TEXT,
    response_description="Accepted, with an empty body; the first message's id is in "
    "`X-Message-Id`",
    responses={
        200: ResponseSpec(
            data_container=None,
            description="Sandbox mode: validated and stored, nothing delivered",
            generate_examples=False,
        ),
        **_documented_errors(400, 401, 403, 409, 413, 429),
    },
)
async def sendgrid_mail_send(
    request: Request[Any, Any, Any],
    data: JSONBody[SGMail],
    auth: NamedDependency[AuthContext],
    herald: NamedDependency[ApiContext],
    idempotency_key: IdempotencyHeader = None,
) -> Response[bytes]:
    """Each personalization becomes one message; all are accepted or none.

    At most 1000 personalizations and 1000 recipients (to, cc and bcc of all of them) per
    request. With an `Idempotency-Key`, a repeated request gets the first answer and
    nothing is sent twice, as on `/v1/messages`.
    """
    max_bytes = herald.settings.max_request_bytes
    sender = herald.sender

    async def validated() -> list[OutgoingMessage]:
        return await validate_mail(
            data, max_bytes, herald.sessions, auth.account_id, sender.max_schedule_ahead
        )

    def answer(stored: list[StoredMessage]) -> SendOutcome:
        return SendOutcome(200 if data.sandbox else 202, accepted_body(stored[0]))

    outcome = await sender.submit(
        auth.account_id,
        validated,
        answer,
        idempotency_key=IdempotencyKey.of(idempotency_key, "/v3/mail/send", data),
        allowed_domains=auth.allowed_domains,
        charge=quota_charge(request, auth, field="personalizations"),
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.status_code == 202:
        headers["X-Message-Id"] = msgspec.json.decode(outcome.body, type=Accepted).id
    # SendGrid answers with an empty body (not JSON ``null``); clients ignore it.
    return Response(
        content=b"", status_code=outcome.status_code, headers=headers, media_type=MediaType.TEXT
    )
