"""The SDK's errors: one base, API errors pinned to HTTP statuses, transport errors.

Every exception the SDK raises on purpose derives from :class:`HeraldError`::

    HeraldError
    ├── APIError                     the server answered with an error status
    │   ├── BadRequestError          400
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── ConflictError            409
    │   ├── PayloadTooLargeError     413
    │   ├── UnprocessableEntityError 422
    │   ├── RateLimitError           429
    │   └── InternalServerError      5xx
    ├── APIConnectionError           no usable answer: refused, reset, dropped ...
    │   └── APITimeoutError          ... or too slow
    ├── APIResponseValidationError   a 2xx answer that is not the documented shape
    └── WebhookVerificationError     a received webhook's signature or timestamp is wrong
"""

from __future__ import annotations

import httpx
import msgspec

from herald._retry import parse_retry_after
from herald.models import FieldError, Problem

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "HeraldError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]

REQUEST_ID_HEADERS = ("x-request-id", "request-id")


class HeraldError(Exception):
    """Base of every error raised by the Herald SDK."""


class APIError(HeraldError):
    """The server answered with a 4xx or 5xx status.

    Attributes:
        status: the HTTP status code.
        problem: the RFC 9457 problem document (built from the status when the body was not
            one, e.g. an HTML page from a proxy).
        request_id: the server's request id header, when it sent one (quote it in reports).
        headers: the response headers.
    """

    def __init__(
        self,
        status: int,
        problem: Problem,
        *,
        request_id: str | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        self.status = status
        self.problem = problem
        self.request_id = request_id
        self.headers = headers if headers is not None else httpx.Headers()
        summary = problem.title or f"HTTP {status}"
        if problem.detail:
            summary = f"{summary}: {problem.detail}"
        super().__init__(f"{status} {summary}")

    @property
    def errors(self) -> list[FieldError]:
        """The invalid fields named by a validation problem (empty for other errors)."""
        return self.problem.errors

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait before retrying (``Retry-After``), if any."""
        return parse_retry_after(self.headers.get("retry-after"))


class BadRequestError(APIError):
    """400: the request is malformed (bad JSON, wrong types, unknown fields)."""


class AuthenticationError(APIError):
    """401: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the API key is valid but lacks the scope this needs, or asked for a key
    beyond its own scopes, domains or quotas."""


class NotFoundError(APIError):
    """404: no such resource in this account."""


class ConflictError(APIError):
    """409: the resource exists already, or a request with the same idempotency key is in
    flight."""


class GoneError(APIError):
    """410: the resource existed but is no longer kept (a message source pruned by the
    server's retention); its metadata may still be readable."""


class PayloadTooLargeError(APIError):
    """413: the request body is larger than the server accepts."""


class UnprocessableEntityError(APIError):
    """422: the request is well-formed but its content is invalid; see :attr:`errors`."""


class RateLimitError(APIError):
    """429: a per-key quota is exhausted; see :attr:`retry_after`."""


class InternalServerError(APIError):
    """5xx: the server (or a proxy in front of it) failed."""


class APIConnectionError(HeraldError):
    """No usable answer from the server: connection refused, reset or dropped mid-response.

    ``request_sent`` is False when the connection was never made (the request certainly did
    not run), True when it may have reached the server.
    """

    def __init__(
        self, message: str = "could not reach the Herald API", *, request_sent: bool = True
    ) -> None:
        self.request_sent = request_sent
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""

    def __init__(
        self, message: str = "the Herald API did not answer in time", *, request_sent: bool = True
    ) -> None:
        super().__init__(message, request_sent=request_sent)


class APIResponseValidationError(HeraldError):
    """A successful answer whose body is not what the API documents."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class WebhookVerificationError(HeraldError):
    """A webhook failed verification: answer it with 400 and do not act on it."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    """The :class:`APIError` subclass for ``status`` (``APIError`` itself for others)."""
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIError)


def api_error_from_response(response: httpx.Response) -> APIError:
    """The typed error for an error ``response``, with its problem document parsed."""
    status = response.status_code
    try:
        problem = msgspec.json.decode(response.content, type=Problem)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = response.text.strip()
        problem = Problem(title=response.reason_phrase, status=status, detail=text[:500])
    request_id = next(
        (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
    )
    cls = error_class_for(status)
    return cls(status, problem, request_id=request_id, headers=response.headers)


def connection_error_from(exc: httpx.RequestError) -> APIConnectionError:
    """The SDK's view of an httpx transport failure: the one place httpx errors are mapped."""
    request_sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"the Herald API did not answer in time ({type(exc).__name__})",
            request_sent=request_sent,
        )
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(
        f"could not reach the Herald API: {detail}", request_sent=request_sent
    )
