"""The values delivery passes between the worker, its journal and the database.

A delivery *starts* by leasing the ready recipients of a message (:class:`Started`: the
lease token, the :class:`Job` and each :class:`Claimed` recipient), tries them, and ends
with :class:`Outcomes`: the last answer (:class:`Tried`) each recipient got.
"""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from herald_queue.smtp import Reply


class Tried(Struct, frozen=True):
    """The last answer one recipient got, and from where."""

    reply: Reply
    mx: str = ""
    ip: str = ""
    tls: str = ""
    tls_verified: bool = False
    enhanced_code: str = ""
    source_ip: str = ""
    """The local address the connection left from ("": the system's)."""
    retry_after: float = 0.0
    """Seconds until a retry is worth it (traffic shaping's wait for a budget, a warming
    IP's next day); 0: the retry schedule decides."""


class Job(Struct, frozen=True):
    """The message being delivered, as much of it as delivery needs."""

    id: str
    account_id: str
    created_at: datetime
    raw: bytes
    return_path_host: str
    domain: str = ""
    """The sending domain (its From address's) the message's stats count under."""
    tags: tuple[str, ...] = ()
    domain_id: str = ""
    """The Herald domain it is sent under (destination cool-downs are kept per domain)."""
    ip_pool: str = ""
    """The IP pool it leaves from: its own ``ip_pool``, else its domain's ("": default)."""


class Claimed(Struct, frozen=True):
    """A recipient this delivery holds the lease of."""

    id: int
    email: str
    domain: str
    attempt_count: int


class Started(Struct, frozen=True):
    """A message whose ready recipients this delivery leased (with ``token``)."""

    token: str
    message: Job
    recipients: list[Claimed]


class Outcomes(Struct, frozen=True):
    """What one SMTP transaction (or route decision) meant for its recipients."""

    message: Job
    recipients: list[Claimed]
    results: dict[str, Tried]
    token: str
