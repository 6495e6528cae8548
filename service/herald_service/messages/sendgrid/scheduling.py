"""``send_at`` on ``/v3/mail/send``: SendGrid's UNIX time (in seconds) as Herald's
scheduled send.

A personalization's own ``send_at`` wins over the request's. The time is then checked as on
``/v1/messages`` (past by more than the clock skew, beyond ``HERALD_MAX_SCHEDULE_AHEAD``, or
with sandbox mode), and its errors name ``send_at`` or ``personalizations[i].send_at``,
whichever the time came from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from msgspec import Meta

LATEST = 253402300799
"""9999-12-31T23:59:59Z: the latest UNIX time a ``datetime`` can hold."""

UnixTime = Annotated[
    int,
    Meta(
        ge=0,
        le=LATEST,
        description=(
            "Send at this UNIX time (seconds), at most HERALD_MAX_SCHEDULE_AHEAD (72 h by "
            "default) ahead and no more than 5 s in the past; a personalization's own "
            "`send_at` wins over the request's. Not with sandbox mode."
        ),
    ),
]


def scheduled_time(request_send_at: int | None, own: int | None) -> datetime | None:
    """When one personalization's message is to be sent (``None``: at once)."""
    chosen = own if own is not None else request_send_at
    return None if chosen is None else datetime.fromtimestamp(chosen, UTC)


def send_at_field(index: int, own: int | None) -> str:
    """The field a ``send_at`` error of personalization ``index`` names."""
    return "send_at" if own is None else f"personalizations[{index}].send_at"
