"""Models shared by every resource: problem details."""

from __future__ import annotations

import msgspec

__all__ = ["FieldError", "Problem"]


class FieldError(msgspec.Struct, frozen=True):
    """One invalid input field named by a validation problem."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An RFC 9457 problem details document, as every Herald error response carries."""

    type: str = "about:blank"
    title: str = ""
    status: int | None = None
    detail: str = ""
    errors: list[FieldError] = msgspec.field(default_factory=list)
