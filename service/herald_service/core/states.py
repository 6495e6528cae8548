"""States and event types: the names the public contract fixes.

Each state is a :class:`~enum.StrEnum` whose values are the strings stored in the database
and shown by the API, so a member compares equal to (and serialises as) its plain string.
"""

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
    SCHEDULED = "scheduled"
    """Stored and signed, waiting for its ``send_at`` (then the sweeper queues it)."""
    CANCELED = "canceled"
    """Canceled before it was tried (``POST /v1/messages/{id}/cancel``)."""
    HELD = "held"
    """Waiting for its sending domain to be resumed: the reputation guard paused it."""

    @property
    def is_final(self) -> bool:
        """True once nothing more will happen to this recipient."""
        return self not in PENDING_STATUSES


PENDING_STATUSES = (
    RecipientStatus.QUEUED,
    RecipientStatus.DEFERRED,
    RecipientStatus.HELD,
    RecipientStatus.SCHEDULED,
)
"""Not final, in the order :func:`summarize` prefers them."""


class WebhookDeliveryStatus(StrEnum):
    """Where one webhook delivery (one event to one endpoint) stands."""

    PENDING = "pending"
    """Not delivered yet: due at ``next_attempt_at``."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Given up: the schedule ran out, the endpoint was disabled, or the event is gone."""


class DomainStatus(StrEnum):
    """Whether a sending domain may send."""

    PENDING = "pending"
    """A required record is missing or wrong (or was never checked)."""
    VERIFIED = "verified"
    PAUSED = "paused"
    """Shown, not stored: verified, but paused by the reputation guard (``paused_at``)."""
    DELETED = "deleted"


class DkimKeyStatus(StrEnum):
    """The life of one DKIM key, from a rotation to its erasure."""

    PENDING = "pending"
    """Published, not yet signing: a rotation waiting for its DNS record."""
    ACTIVE = "active"
    """Signing."""
    RETIRING = "retiring"
    """Replaced; still published until ``retire_at`` so signatures in transit verify."""
    RETIRED = "retired"
    """Private key erased."""


PUBLISHED_KEY_STATES = (DkimKeyStatus.PENDING, DkimKeyStatus.ACTIVE, DkimKeyStatus.RETIRING)


class RecordStatus(StrEnum):
    """What the last verification found for one DNS record of a domain."""

    PENDING = "pending"
    """Not checked yet."""
    VERIFIED = "verified"
    MISSING = "missing"
    MISMATCH = "mismatch"
    ERROR = "error"
    """The lookup itself failed (try again): it proves nothing either way."""


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
    CANCELED = "message.canceled"


EVENT_TYPES = tuple(t.value for t in EventType)
"""Every message event type name, in the contract's order."""


class DomainEventType(StrEnum):
    """Events about a sending domain's standing (webhooks and the domain's history)."""

    REPUTATION_WARNING = "domain.reputation_warning"
    PAUSED = "domain.paused"
    RESUMED = "domain.resumed"
    DESTINATION_PAUSED = "domain.destination_paused"
    """A burst of policy blocks from one destination: its mail waits for a cool-down."""
    DESTINATION_THROTTLED = "destination.throttled"
    """A destination said "slow down" (421, 4.7.28, ...): its rate is halved for a while."""


class ListingStatus(StrEnum):
    """What the DNSBL checks know of one sending IP on one zone."""

    LISTED = "listed"
    CLEAR = "clear"
    UNKNOWN = "unknown"
    """Never answered usably yet (a lookup failed, or the zone refused the query)."""


class IpEventType(StrEnum):
    """Events about a sending IP, server-wide (told to the operator accounts)."""

    LISTED = "ip.listed"
    """A DNSBL zone lists the IP (it leaves rotation when HERALD_DNSBL_REMOVE_LISTED)."""
    DELISTED = "ip.delisted"


class WebhookEventType(StrEnum):
    """Every type a webhook endpoint may subscribe to: the message events, the domain
    events, then the IP events (spelled out: an enum cannot extend another)."""

    ACCEPTED = EventType.ACCEPTED.value
    DELIVERED = EventType.DELIVERED.value
    DEFERRED = EventType.DEFERRED.value
    BOUNCED = EventType.BOUNCED.value
    DROPPED = EventType.DROPPED.value
    COMPLAINED = EventType.COMPLAINED.value
    UNSUBSCRIBED = EventType.UNSUBSCRIBED.value
    OPENED = EventType.OPENED.value
    CLICKED = EventType.CLICKED.value
    CANCELED = EventType.CANCELED.value
    REPUTATION_WARNING = DomainEventType.REPUTATION_WARNING.value
    PAUSED = DomainEventType.PAUSED.value
    RESUMED = DomainEventType.RESUMED.value
    DESTINATION_PAUSED = DomainEventType.DESTINATION_PAUSED.value
    DESTINATION_THROTTLED = DomainEventType.DESTINATION_THROTTLED.value
    IP_LISTED = IpEventType.LISTED.value
    IP_DELISTED = IpEventType.DELISTED.value


WEBHOOK_EVENT_TYPES = tuple(t.value for t in WebhookEventType)
"""Every type a webhook endpoint may subscribe to, in the contract's order."""


def summarize(statuses: Iterable[str]) -> str:
    """One status for a whole message from its recipients' statuses.

    Pending work wins (``queued``, then ``deferred``, ``held``, then ``scheduled``); when everything
    is final the message is ``delivered`` if all were, the shared status if all agree, else
    ``partial``.
    """
    seen = set(statuses)
    for pending in PENDING_STATUSES:
        if pending in seen:
            return pending.value
    if len(seen) == 1:
        return seen.pop()
    return "partial" if seen else RecipientStatus.QUEUED.value
