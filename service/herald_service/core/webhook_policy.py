"""What one webhook attempt means for its delivery and its endpoint.

2xx is success; anything else, a redirect included (never followed), is a failure retried
on the schedule, ``Retry-After`` honoured on 429/503. 410 Gone gives up and disables the
endpoint at once; an endpoint failing without a success for ``disable_after`` seconds is
disabled too. Kept apart from the rows it settles so the rules read (and test) as a table.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from msgspec import Struct

from herald_service.core.backoff import retry_delay
from herald_service.core.states import WebhookDeliveryStatus
from herald_service.core.webhooks import is_success

MAX_RETRY_AFTER = 24 * 3600.0
RETRY_AFTER_STATUSES = (429, 503)
GONE = 410


class AttemptVerdict(Struct, frozen=True):
    """What to store after an attempt.

    ``retry_at`` is set while the delivery stays pending; ``failing_since`` is the
    endpoint's new value; a non-empty ``disable_reason`` disables the endpoint.
    """

    delivery_status: WebhookDeliveryStatus
    retry_at: datetime | None
    failing_since: datetime | None
    disable_reason: str = ""


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped at 24 h."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def honoured_retry_after(status_code: int, header: str | None, now: datetime) -> float | None:
    """The ``Retry-After`` to wait, only on the answers that mean "later" (429, 503)."""
    if status_code not in RETRY_AFTER_STATUSES:
        return None
    return retry_after_seconds(header, now)


def response_error(status_code: int, location: str) -> str:
    """Why an HTTP answer is a failure ("" for 2xx); a redirect names where it pointed."""
    if 300 <= status_code < 400:
        return f"redirect to {location or '(no location)'} not followed"
    if not is_success(status_code):
        return f"HTTP {status_code}"
    return ""


def retry_in(
    attempts: int,
    retry_after: float | None,
    schedule: Sequence[float],
    rng: random.Random | None = None,
) -> float | None:
    """Seconds until the next try after ``attempts`` failed ones; None when the schedule is
    used up (one first try plus one retry per entry)."""
    if attempts > len(schedule):
        return None
    if retry_after is not None:
        return retry_after
    return retry_delay(attempts, schedule, rng=rng)


def _utc_text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def judge_attempt(
    *,
    attempts: int,
    status_code: int | None,
    error: str,
    retry_after: float | None,
    failing_since: datetime | None,
    now: datetime,
    schedule: Sequence[float],
    disable_after: float,
    rng: random.Random | None = None,
) -> AttemptVerdict:
    """Settle a delivery after its attempt number ``attempts`` (1-based).

    ``error`` is empty exactly when the attempt succeeded (``status_code`` is None when
    no answer came: a refused address, a timeout, a broken connection).
    """
    if not error:
        return AttemptVerdict(WebhookDeliveryStatus.SUCCEEDED, None, None)
    if status_code == GONE:
        return AttemptVerdict(
            WebhookDeliveryStatus.FAILED, None, failing_since, "the endpoint answered 410 Gone"
        )
    delay = retry_in(attempts, retry_after, schedule, rng)
    status = WebhookDeliveryStatus.FAILED if delay is None else WebhookDeliveryStatus.PENDING
    retry_at = None if delay is None else now + timedelta(seconds=delay)
    if failing_since is None:
        return AttemptVerdict(status, retry_at, now)
    reason = ""
    if now - failing_since >= timedelta(seconds=disable_after):
        reason = f"failing since {_utc_text(failing_since)}; last error: {error}"
    return AttemptVerdict(status, retry_at, failing_since, reason)
