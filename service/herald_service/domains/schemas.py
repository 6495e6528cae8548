"""The shapes of ``/v1/domains`` and ``herald domains``, and the presenter of a domain.

The records themselves (:class:`DnsRecord`, :class:`DmarcStage`) are defined with the
rules that compute them, in :mod:`herald_service.domains.records`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from herald_service.core.sending_ips import POOL_NAME_PATTERN
from herald_service.core.states import DomainStatus
from herald_service.domains.records import (
    DmarcStage,
    DnsRecord,
    dmarc_progression,
    dns_records,
)
from herald_service.request_fields import DkimSelector, DomainName
from herald_service.settings import Settings
from herald_service.storage.models import Domain

__all__ = [
    "CreateDomainRequest",
    "DkimKeyOut",
    "DmarcStage",
    "DnsRecord",
    "DomainList",
    "DomainOut",
    "DomainTracking",
    "RotateDkimRequest",
    "TrackingChange",
    "UpdateDomainRequest",
    "domain_out",
]


class CreateDomainRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/domains``."""

    name: DomainName
    dkim_selector: DkimSelector | None = None
    allow_subdomains: bool = False


class RotateDkimRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/domains/{id}/dkim/rotate`` (the body is optional)."""

    dkim_selector: DkimSelector | None = None


class TrackingChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The tracking part of ``PATCH /v1/domains/{id}``: a field left out stays as it is."""

    opens: bool | None = None
    clicks: bool | None = None
    host: bool | None = None
    """``true``: the domain's own tracking host ``track.<domain>`` (a CNAME to publish,
    listed among its records; used once it verifies); ``false``: none."""


class UpdateDomainRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PATCH /v1/domains/{id}``: the defaults of the domain's messages (a message's own
    ``tracking`` and ``unsubscribe`` override them). A field left out stays as it is."""

    tracking: TrackingChange | None = None
    unsubscribe: bool | None = None
    """Herald's hosted one-click unsubscribe on every message with one recipient."""
    ip_pool: Annotated[str, msgspec.Meta(pattern=f"^$|{POOL_NAME_PATTERN}")] | None = None
    """The IP pool the domain's mail leaves from (``GET /v1/ip-pools``); ``""``: the
    default pool. A message's own ``ip_pool`` overrides it."""


class DomainTracking(msgspec.Struct):
    """Whether the domain's messages have their opens and clicks tracked by default."""

    opens: bool
    clicks: bool
    host: str | None = None
    """The domain's own tracking host (used once its CNAME verifies), or ``null``."""


class DkimKeyOut(msgspec.Struct):
    """A DKIM key's public facts (never its private half)."""

    selector: str
    algorithm: str
    status: str
    created_at: datetime
    activated_at: datetime | None = None
    retire_at: datetime | None = None


class DomainOut(msgspec.Struct):
    """A sending domain with the records to publish and their verification status."""

    id: str
    name: str
    status: str
    allow_subdomains: bool
    return_path_host: str
    created_at: datetime
    records: list[DnsRecord]
    dkim_keys: list[DkimKeyOut]
    dmarc_progression: list[DmarcStage]
    tracking: DomainTracking
    unsubscribe: bool
    """Hosted one-click unsubscribe by default (messages with one recipient)."""
    verified_at: datetime | None = None
    last_checked_at: datetime | None = None
    paused_at: datetime | None = None
    """Set while the reputation guard has the domain paused (``status`` ``paused``)."""
    pause_reason: str | None = None
    """Why it was paused: the rate, its window and the threshold it reached."""
    ip_pool: str | None = None
    """The IP pool its mail leaves from; ``null``: the default pool."""


class DomainList(msgspec.Struct):
    """The account's domains."""

    data: list[DomainOut]


def domain_out(domain: Domain, settings: Settings) -> DomainOut:
    """The public view of a domain."""
    return DomainOut(
        id=domain.id,
        name=domain.name,
        status=DomainStatus.PAUSED.value if domain.paused_at is not None else domain.status,
        paused_at=domain.paused_at,
        pause_reason=domain.pause_reason or None,
        allow_subdomains=domain.allow_subdomains,
        return_path_host=domain.return_path_host,
        created_at=domain.created_at,
        verified_at=domain.verified_at,
        last_checked_at=domain.last_checked_at,
        records=dns_records(domain, settings),
        dkim_keys=[
            DkimKeyOut(
                selector=k.selector,
                algorithm=k.algorithm,
                status=k.status,
                created_at=k.created_at,
                activated_at=k.activated_at,
                retire_at=k.retire_at,
            )
            for k in domain.dkim_keys
        ],
        dmarc_progression=dmarc_progression(domain, settings),
        tracking=DomainTracking(
            opens=domain.tracking_opens,
            clicks=domain.tracking_clicks,
            host=domain.tracking_host,
        ),
        unsubscribe=domain.unsubscribe_default,
        ip_pool=domain.ip_pool,
    )
