"""Collects field errors so that one response can name all of them."""

from __future__ import annotations

from herald_service.errors import FieldError, InvalidRequest


class Collector:
    """An ordered list of ``(field, message)`` problems."""

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
