"""What one delivery attempt means for its recipient: the delivery judgement.

After an attempt (an SMTP reply, or a route that could not be used) a recipient is
delivered, deferred until a retry with backoff, or bounced. A deferral past the retry
window bounces instead, as *expired*; a hard bounce suppresses the address unless the
refusal was about the sender or the content. A recipient found suppressed when its
delivery starts is dropped without an attempt.

These rules work on plain values so that every branch can be tested without a database;
the worker's store (``herald_queue.delivery_outcomes``, ``herald_queue.delivery_starts``)
applies the verdicts to rows.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from msgspec import Struct

from herald_service.core.backoff import retry_delay
from herald_service.core.smtp_replies import Outcome, classify
from herald_service.core.states import EventType, RecipientStatus

EXPIRED_ENHANCED_CODE = "4.4.7"
"""RFC 3463 "delivery time expired": the code an expired recipient's bounce carries."""
EXPIRED_PREFIX = "expired after retrying: "

_STATUSES = {
    Outcome.DELIVERED: RecipientStatus.DELIVERED,
    Outcome.DEFERRED: RecipientStatus.DEFERRED,
    Outcome.BOUNCED: RecipientStatus.BOUNCED,
}
_EVENT_TYPES = {
    Outcome.DELIVERED: EventType.DELIVERED,
    Outcome.DEFERRED: EventType.DEFERRED,
    Outcome.BOUNCED: EventType.BOUNCED,
}


class BounceType(StrEnum):
    """Why a recipient bounced, as its ``message.bounced`` event says."""

    HARD = "hard"
    EXPIRED = "expired"


class RetryPolicy(Struct, frozen=True):
    """How often and for how long a deferred recipient is tried again.

    ``schedule`` holds the delays (seconds) after attempt 1, 2, …, the last repeating;
    ``max_age`` is the retry window in seconds, counted from the message's acceptance;
    ``jitter`` spreads each delay by that fraction either way.
    """

    schedule: tuple[float, ...]
    max_age: float
    jitter: float = 0.2


class Attempt(Struct, frozen=True):
    """One recipient's attempt, as far as judging it needs.

    ``code`` is None when no server answered (timeout, refused connection, no usable
    route); ``previous_attempts`` counts the attempts before this one.
    """

    code: int | None
    text: str
    enhanced_code: str
    previous_attempts: int
    accepted_at: datetime
    retry_after: float = 0.0
    """Set when Herald itself held the mail back (a shaping budget, a warming IP's daily
    cap): retry that many
    seconds later, whatever the schedule says, and never expire for it."""


class Verdict(Struct, frozen=True):
    """What to store for one attempt: the recipient's new state and the event to write.

    ``text`` and ``enhanced_code`` are the reply as recorded (an expired recipient's
    carry the expiry); ``next_attempt_at`` is set only for a deferral.
    """

    outcome: Outcome
    attempt: int
    text: str
    enhanced_code: str
    next_attempt_at: datetime | None = None
    bounce_type: BounceType | None = None
    suppress: bool = False

    @property
    def status(self) -> RecipientStatus:
        """The recipient's status after this attempt."""
        return _STATUSES[self.outcome]

    @property
    def event_type(self) -> EventType:
        """The event this attempt writes."""
        return _EVENT_TYPES[self.outcome]

    def event_fields(self) -> dict[str, object]:
        """The judgement's part of the event data (after the reply's own fields)."""
        if self.bounce_type is not None:
            fields: dict[str, object] = {"bounce_type": self.bounce_type.value}
            if self.suppress:
                fields["suppressed"] = True
            return fields
        if self.next_attempt_at is not None:
            return {"next_attempt_at": self.next_attempt_at.isoformat()}
        return {}


def suppresses_address(enhanced_code: str) -> bool:
    """Whether a hard bounce with ``enhanced_code`` suppresses the address.

    Policy rejections (5.7.x) are about the sender or the content, not the mailbox, and
    a 4.x code means the recipient only ran out of retries: neither suppresses.
    """
    return not enhanced_code.startswith(("5.7.", "4."))


def judge(
    attempt: Attempt, policy: RetryPolicy, now: datetime, rng: random.Random | None = None
) -> Verdict:
    """The verdict on ``attempt`` made at ``now`` (``rng`` draws the retry jitter)."""
    number = attempt.previous_attempts + 1
    outcome = classify(attempt.code, attempt.text)
    if outcome is Outcome.DELIVERED:
        return Verdict(outcome, number, attempt.text, attempt.enhanced_code)
    if outcome is Outcome.BOUNCED:
        suppress = suppresses_address(attempt.enhanced_code)
        return Verdict(
            outcome,
            number,
            attempt.text,
            attempt.enhanced_code,
            bounce_type=BounceType.HARD,
            suppress=suppress,
        )
    if attempt.retry_after > 0:  # waiting for a budget is no failure of the destination
        next_at = now + timedelta(seconds=attempt.retry_after)
        return Verdict(outcome, number, attempt.text, attempt.enhanced_code, next_at)
    expires_at = attempt.accepted_at + timedelta(seconds=policy.max_age)
    if now >= expires_at:
        text = EXPIRED_PREFIX + attempt.text
        expired = BounceType.EXPIRED
        return Verdict(Outcome.BOUNCED, number, text, EXPIRED_ENHANCED_CODE, bounce_type=expired)
    delay = retry_delay(number, policy.schedule, policy.jitter, rng)
    next_at = min(now + timedelta(seconds=delay), expires_at)  # never past the window
    return Verdict(outcome, number, attempt.text, attempt.enhanced_code, next_at)


class Drop(Struct, frozen=True):
    """What happens to a recipient found suppressed when its delivery starts: it becomes
    ``suppressed`` with a ``message.dropped`` event carrying ``data``."""

    status: ClassVar[RecipientStatus] = RecipientStatus.SUPPRESSED
    event_type: ClassVar[EventType] = EventType.DROPPED
    data: dict[str, object]


def drop_suppressed(suppression_reason: str) -> Drop:
    """A recipient the account suppresses (for ``suppression_reason``) is not tried."""
    return Drop({"reason": "suppressed", "suppression_reason": suppression_reason})
