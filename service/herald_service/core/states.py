"""Recipient states and event types: the names the public contract fixes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class RecipientStatus(StrEnum):
    """Where one recipient of a message stands."""

    QUEUED = "queued"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"
    FAILED = "failed"
    CAPTURED = "captured"

    @property
    def is_final(self) -> bool:
        """True once nothing more will happen to this recipient."""
        return self not in (RecipientStatus.QUEUED, RecipientStatus.DEFERRED)


PENDING_STATUSES = (RecipientStatus.QUEUED, RecipientStatus.DEFERRED)


class EventType(StrEnum):
    """Event names as webhooks and ``GET /v1/events`` show them."""

    ACCEPTED = "message.accepted"
    DELIVERED = "message.delivered"
    DEFERRED = "message.deferred"
    BOUNCED = "message.bounced"
    DROPPED = "message.dropped"
    COMPLAINED = "message.complained"
    UNSUBSCRIBED = "message.unsubscribed"
    OPENED = "message.opened"
    CLICKED = "message.clicked"


def summarize(statuses: Iterable[str]) -> str:
    """One status for a whole message from its recipients' statuses.

    Pending work wins (``queued`` before ``deferred``); when everything is final the
    message is ``delivered`` if all were, the shared status if all agree, else ``partial``.
    """
    seen = set(statuses)
    for pending in PENDING_STATUSES:
        if pending in seen:
            return pending.value
    if len(seen) == 1:
        return seen.pop()
    return "partial" if seen else RecipientStatus.QUEUED.value
