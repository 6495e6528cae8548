"""Every error leaves the API as an RFC 9457 ``application/problem+json`` document."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec

from herald_service.api.problem_catalog import type_uri
from herald_service.errors import FieldError, HeraldError
from herald_service.storage.outages import RETRY_AFTER_SECONDS, database_unavailable

PROBLEM_JSON = "application/problem+json"

log = logging.getLogger(__name__)


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem details document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


def problem_response(
    status: int,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """A problem+json response."""
    body = Problem(
        type=problem_type(title), title=title, status=status, detail=detail, errors=errors or []
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_type(title: str) -> str:
    """The ``type`` of problems with this title (see :mod:`.problem_catalog`)."""
    return type_uri(title)


def problem_of(exc: HeraldError) -> Problem:
    """The problem document of a domain error (as an item of a larger answer)."""
    return Problem(
        type=problem_type(exc.title),
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        errors=exc.errors,
    )


_RESPONSE_DESCRIPTIONS = {
    400: "Malformed request: bad JSON, wrong types or unknown fields (named in `errors`)",
    401: "Missing, malformed, unknown or revoked API key",
    403: "The API key lacks the scope this operation needs",
    404: "No such resource in this account",
    409: "Conflict with the resource's current state",
    410: "Gone: removed for good (a message source past its retention)",
    413: "Request body too large",
    422: "Invalid content; every bad field is named in `errors`",
    429: "Quota exhausted; retry after `Retry-After` seconds",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem+json answers a handler can give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_RESPONSE_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in statuses
    }


_UNKNOWN_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors: list[FieldError] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        field = str(item.get("key") or "")
        unknown = _UNKNOWN_FIELD.search(message)
        if unknown:
            prefix = "" if field in ("", "data") else field + "."
            field = prefix + unknown.group(1)
        errors.append(FieldError(field or "body", message))
    return errors


def handle_herald_error(_: Request[Any, Any, Any], exc: HeraldError) -> Response[Any]:
    """Domain errors, mapped by their own status, title and headers."""
    return problem_response(exc.status, exc.title, exc.detail, exc.errors, exc.headers or None)


def handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Type errors in the query, path or headers, or a missing body: every bad field named.

    Bodies are decoded by :mod:`herald_service.api.json_body`, which raises its own errors.
    """
    errors = _validation_errors(exc)
    detail = str(exc.detail)
    if errors:
        detail = "the request has invalid fields: " + ", ".join(e.field for e in errors)
    return problem_response(400, "Malformed request", detail, errors)


def handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors (404 route, 405 method with its ``Allow``, 413 size...)."""
    headers = {k: str(v) for k, v in (exc.headers or {}).items()}
    title = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}.get(
        exc.status_code, "Request error"
    )
    return problem_response(exc.status_code, title, str(exc.detail), headers=headers)


def handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything else: logged with its traceback, answered without internals; a database
    that is down, restarting or full is ``503`` with ``Retry-After``, not a ``500``."""
    if database_unavailable(exc):
        log.warning("database unavailable: %s", _first_line(exc))
        return database_unavailable_response()
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "Internal error", "an unexpected error occurred")


def database_unavailable_response() -> Response[Any]:
    """The ``503`` of a request the database could not serve (see :mod:`.problem_catalog`)."""
    return problem_response(
        503,
        "Service unavailable",
        f"the database is unavailable; retry in {RETRY_AFTER_SECONDS}s",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().partition(chr(10))[0]}"


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    HeraldError: handle_herald_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
