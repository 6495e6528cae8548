"""Opaque cursors for newest-first lists ordered by ``(timestamp, id)``."""

from __future__ import annotations

import base64
from datetime import datetime

import msgspec

from herald_service.errors import FieldError, InvalidRequest


def encode_cursor(at: datetime, row_id: str | int) -> str:
    """A cursor pointing just after the row ``(at, row_id)``."""
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(at, id)`` a cursor points after, or a 422 naming ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not row_id:
            raise ValueError("incomplete cursor")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            "the cursor is not one this API returned",
            [FieldError("cursor", "not a cursor from a previous page")],
        ) from exc
    return parsed, row_id


def timestamp(name: str, value: str | None) -> datetime | None:
    """``value`` as an RFC 3339 timestamp with a time zone, else a 422 naming ``name``."""
    if value is None:
        return None
    try:
        parsed = msgspec.convert(value, datetime, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(
            f"{name} is not an RFC 3339 timestamp",
            [FieldError(name, "an RFC 3339 timestamp such as 2024-05-01T12:00:00Z")],
        ) from exc
    if parsed.tzinfo is None:
        raise InvalidRequest(
            f"{name} needs a time zone", [FieldError(name, "give a time zone, e.g. ...Z")]
        )
    return parsed
