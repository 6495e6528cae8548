"""Domain errors. The HTTP layer maps each to an RFC 9457 problem document in one place."""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct


class FieldError(Struct, frozen=True):
    """One bad input field: a JSON pointer-ish path and what is wrong with it."""

    field: str
    message: str


class HeraldError(Exception):
    """Base of errors a caller can cause; ``status`` is the HTTP status to answer with."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = dict(headers or {})
        """Response headers the answer carries (``Retry-After``...)."""


class InvalidRequest(HeraldError):
    """The request is well-formed JSON but its content is not acceptable."""

    status = 422
    title = "Invalid request"


class Collector:
    """An ordered list of ``(field, message)`` problems, so one 422 names all of them."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        """Record that ``field`` is bad."""
        self.errors.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        """Raise :class:`InvalidRequest` listing every recorded error."""
        if self.errors:
            fields = ", ".join(dict.fromkeys(e.field for e in self.errors))
            raise InvalidRequest(f"the request has invalid fields: {fields}", self.errors)


class Unauthorized(HeraldError):
    """No valid API key was presented."""

    status = 401
    title = "Unauthorized"


class Forbidden(HeraldError):
    """The key is valid but may not do this."""

    status = 403
    title = "Forbidden"


class NotFound(HeraldError):
    """No such resource in the caller's account."""

    status = 404
    title = "Not found"


class Conflict(HeraldError):
    """The resource exists already or is in a state that prevents this."""

    status = 409
    title = "Conflict"


class QuotaExceeded(HeraldError):
    """A quota of the key or its account is used up; retry after ``Retry-After``."""

    status = 429
    title = "Too many requests"
