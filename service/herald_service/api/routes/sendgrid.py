"""``POST /v3/mail/send``: SendGrid v3 compatible sending.

Point the official SendGrid client at Herald by changing only its host. Answers use
SendGrid's shapes: ``202`` with ``X-Message-Id``, ``200`` in sandbox mode, and errors as
``{"errors": [{"message", "field", "help"}]}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from herald_service.api.auth import provide_auth, require_api_key
from herald_service.api.context import ApiContext
from herald_service.api.ratelimit import enforce_quota
from herald_service.errors import FieldError, HeraldError, InvalidRequest
from herald_service.services.api_keys import AuthContext
from herald_service.services.intake import validate_send_request
from herald_service.services.sendgrid import SGMail, sendgrid_field, to_send_requests
from herald_service.services.sending_domains import ensure_sender_allowed


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
        403: "The API key lacks the `send` scope",
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


def _sendgrid_errors(status: int, errors: list[SGError]) -> Response[Any]:
    return Response(
        content=msgspec.json.encode(SGErrors(errors)),
        status_code=status,
        media_type="application/json",
    )


def _sg_error(error: FieldError) -> SGError:
    if error.message == "unknown field":  # a SendGrid feature Herald does not implement
        return SGError(f"{error.field} is not supported by Herald", error.field)
    return SGError(error.message, error.field)


def _herald_error(_: Request[Any, Any, Any], exc: HeraldError) -> Response[Any]:
    if exc.errors:
        return _sendgrid_errors(
            400 if exc.status == 422 else exc.status, [_sg_error(e) for e in exc.errors]
        )
    return _sendgrid_errors(exc.status, [SGError(exc.detail)])


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
    response_description="Accepted; the first message's id is in `X-Message-Id`",
    responses={
        200: ResponseSpec(
            data_container=None,
            description="Sandbox mode: validated and stored, nothing delivered",
            generate_examples=False,
        ),
        **_documented_errors(400, 401, 403, 413, 429),
    },
)
async def sendgrid_mail_send(
    request: Request[Any, Any, Any],
    data: JSONBody[SGMail],
    auth: NamedDependency[AuthContext],
    herald: NamedDependency[ApiContext],
) -> Response[None]:
    """Each personalization becomes one message; all are accepted or none."""
    if not data.personalizations:
        raise InvalidRequest(
            "personalizations is required",
            [FieldError("personalizations", "at least one personalization is required")],
        )
    requests = to_send_requests(data)
    outgoing = []
    problems: list[SGError] = []
    for index, send_request in enumerate(requests):
        try:
            outgoing.append(validate_send_request(send_request))
        except InvalidRequest as exc:
            problems.extend(SGError(e.message, sendgrid_field(index, e.field)) for e in exc.errors)
    if problems:
        return _sendgrid_errors(400, list({(p.field, p.message): p for p in problems}.values()))
    for message in outgoing:
        ensure_sender_allowed(auth.allowed_domains, message.sender.domain)
    recipients = 0 if data.sandbox else sum(len(m.envelope_recipients()) for m in outgoing)
    await enforce_quota(request, auth, recipients)
    stored = await herald.sender.accept_many(
        auth.account_id, outgoing, allowed_domains=auth.allowed_domains
    )
    if data.sandbox:
        return Response(content=None, status_code=200)
    return Response(content=None, status_code=202, headers={"X-Message-Id": stored[0].id})
