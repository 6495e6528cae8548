"""The shapes of ``/v1/suppressions`` and the presenter of a suppression entry."""

from __future__ import annotations

from datetime import datetime

import msgspec

from herald_service.request_fields import AddressText, FreeText
from herald_service.storage.models import Suppression
from herald_service.suppressions.service import Reason


class SuppressionOut(msgspec.Struct):
    """One suppressed address and why."""

    email: str
    reason: str
    detail: str
    message_id: str | None
    created_at: datetime


class SuppressionPage(msgspec.Struct):
    """A page of suppressions, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    data: list[SuppressionOut]
    next_cursor: str | None


class AddSuppressionRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/suppressions``: suppress one address (``reason`` defaults to ``manual``)."""

    email: AddressText
    reason: Reason = "manual"
    detail: FreeText = ""


def suppression_out(row: Suppression) -> SuppressionOut:
    """The public view of a suppression entry."""
    return SuppressionOut(
        email=row.email,
        reason=row.reason,
        detail=row.detail,
        message_id=row.message_id,
        created_at=row.created_at,
    )
