"""``client.domains``: sending domains, their DNS records, verification, DKIM rotation and
the tracking and unsubscribe defaults of their messages."""

from __future__ import annotations

from typing import Unpack

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import Domain, DomainList, DomainReputation, ResumeResult, Tracking
from herald.resources._base import AsyncResource, SyncResource, make_options, path

__all__ = ["AsyncDomains", "Domains"]


class _AddBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    dkim_selector: str | None = None
    allow_subdomains: bool | None = None


class _RotateBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    dkim_selector: str | None = None


class _TrackingChange(msgspec.Struct, kw_only=True, omit_defaults=True):
    opens: bool | None = None
    clicks: bool | None = None
    host: bool | None = None


class _UpdateBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    tracking: _TrackingChange | None = None
    unsubscribe: bool | None = None
    ip_pool: str | None = None


def add_options(
    name: str, dkim_selector: str | None, allow_subdomains: bool | None, options: CallOptions
) -> RequestOptions:
    """``POST /v1/domains``."""
    body = _AddBody(name=name, dkim_selector=dkim_selector, allow_subdomains=allow_subdomains)
    return make_options("POST", "/v1/domains", options, body=body)


def domain_options(
    method: str, template: str, domain_id: str, options: CallOptions
) -> RequestOptions:
    """A call on one domain: ``template`` is its path with ``{domain_id}``."""
    return make_options(method, path(template, domain_id=domain_id), options)


def rotate_options(
    domain_id: str, dkim_selector: str | None, options: CallOptions
) -> RequestOptions:
    """``POST /v1/domains/{id}/dkim/rotate``."""
    url_path = path("/v1/domains/{domain_id}/dkim/rotate", domain_id=domain_id)
    return make_options("POST", url_path, options, body=_RotateBody(dkim_selector=dkim_selector))


def update_options(
    domain_id: str,
    tracking: Tracking | None,
    unsubscribe: bool | None,
    options: CallOptions,
    tracking_host: bool | None = None,
    ip_pool: str | None = None,
) -> RequestOptions:
    """``PATCH /v1/domains/{id}``."""
    change = None
    if tracking is not None or tracking_host is not None:
        change = _TrackingChange(
            opens=tracking.opens if tracking else None,
            clicks=tracking.clicks if tracking else None,
            host=tracking_host,
        )
    body = _UpdateBody(tracking=change, unsubscribe=unsubscribe, ip_pool=ip_pool)
    return make_options("PATCH", path(ONE, domain_id=domain_id), options, body=body)


ONE = "/v1/domains/{domain_id}"
VERIFY = "/v1/domains/{domain_id}/verify"
REPUTATION = "/v1/domains/{domain_id}/reputation"
RESUME = "/v1/domains/{domain_id}/resume"


class Domains(SyncResource):
    """Manage sending domains (blocking; needs an ``admin`` key to change them)."""

    def add(
        self,
        name: str,
        *,
        dkim_selector: str | None = None,
        allow_subdomains: bool | None = None,
        **options: Unpack[CallOptions],
    ) -> Domain:
        """Add a domain; publish the returned ``records`` in its DNS, then :meth:`verify`.

        Raises :class:`~herald.ConflictError` if the account has it already.
        """
        request = add_options(name, dkim_selector, allow_subdomains, options)
        return self._client.request(request, Domain)

    def get(self, domain_id: str, **options: Unpack[CallOptions]) -> Domain:
        """One domain with its records and the result of the last verification."""
        return self._client.request(domain_options("GET", ONE, domain_id, options), Domain)

    def list(self, **options: Unpack[CallOptions]) -> list[Domain]:
        """Every domain of the account, oldest first."""
        request = make_options("GET", "/v1/domains", options)
        return self._client.request(request, DomainList).data

    def verify(self, domain_id: str, **options: Unpack[CallOptions]) -> Domain:
        """Look the domain's records up now; each record gets a ``status``."""
        return self._client.request(domain_options("POST", VERIFY, domain_id, options), Domain)

    def rotate_dkim(
        self, domain_id: str, *, dkim_selector: str | None = None, **options: Unpack[CallOptions]
    ) -> Domain:
        """New DKIM keys under a new selector, ``pending`` until their records verify."""
        return self._client.request(rotate_options(domain_id, dkim_selector, options), Domain)

    def update(
        self,
        domain_id: str,
        *,
        tracking: Tracking | None = None,
        unsubscribe: bool | None = None,
        tracking_host: bool | None = None,
        ip_pool: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Domain:
        """Set the defaults of the domain's messages: open and click tracking
        (``Tracking(opens=True, clicks=True)``; a field left ``None`` stays as it is) and
        Herald's one-click unsubscribe on messages with one recipient. A message's own
        ``tracking`` and ``unsubscribe`` override them. Other API processes than the one
        that answers apply the change within five seconds. ``tracking_host=True`` asks for
        the domain's own tracking host ``track.<domain>``: publish the CNAME listed in its
        ``records``; it is used once it verifies. ``ip_pool`` is the IP pool its mail
        leaves from (``""``: the default pool).
        """
        request = update_options(domain_id, tracking, unsubscribe, options, tracking_host, ip_pool)
        return self._client.request(request, Domain)

    def delete(self, domain_id: str, **options: Unpack[CallOptions]) -> None:
        """Stop sending from the domain and erase its private keys."""
        self._client.request(domain_options("DELETE", ONE, domain_id, options), type(None))

    def reputation(self, domain_id: str, **options: Unpack[CallOptions]) -> DomainReputation:
        """Its rolling 24 h and 7 d bounce and complaint rates against the server's
        thresholds, whether it is paused and why, and its latest domain events."""
        request = domain_options("GET", REPUTATION, domain_id, options)
        return self._client.request(request, DomainReputation)

    def resume(self, domain_id: str, **options: Unpack[CallOptions]) -> ResumeResult:
        """Resume a domain the reputation guard paused (``admin``): sends are accepted
        again and its held mail is queued. Raises :class:`~herald.ConflictError` when it
        is not paused."""
        request = domain_options("POST", RESUME, domain_id, options)
        return self._client.request(request, ResumeResult)


class AsyncDomains(AsyncResource):
    """Manage sending domains (asyncio); mirrors :class:`Domains`."""

    async def add(
        self,
        name: str,
        *,
        dkim_selector: str | None = None,
        allow_subdomains: bool | None = None,
        **options: Unpack[CallOptions],
    ) -> Domain:
        """Add a domain; see :meth:`Domains.add`."""
        request = add_options(name, dkim_selector, allow_subdomains, options)
        return await self._client.request(request, Domain)

    async def get(self, domain_id: str, **options: Unpack[CallOptions]) -> Domain:
        """One domain with its records and the result of the last verification."""
        return await self._client.request(domain_options("GET", ONE, domain_id, options), Domain)

    async def list(self, **options: Unpack[CallOptions]) -> list[Domain]:
        """Every domain of the account, oldest first."""
        request = make_options("GET", "/v1/domains", options)
        return (await self._client.request(request, DomainList)).data

    async def verify(self, domain_id: str, **options: Unpack[CallOptions]) -> Domain:
        """Look the domain's records up now; each record gets a ``status``."""
        request = domain_options("POST", VERIFY, domain_id, options)
        return await self._client.request(request, Domain)

    async def rotate_dkim(
        self, domain_id: str, *, dkim_selector: str | None = None, **options: Unpack[CallOptions]
    ) -> Domain:
        """New DKIM keys under a new selector; see :meth:`Domains.rotate_dkim`."""
        return await self._client.request(rotate_options(domain_id, dkim_selector, options), Domain)

    async def update(
        self,
        domain_id: str,
        *,
        tracking: Tracking | None = None,
        unsubscribe: bool | None = None,
        tracking_host: bool | None = None,
        ip_pool: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Domain:
        """Set the tracking, unsubscribe and IP pool defaults; see :meth:`Domains.update`."""
        request = update_options(domain_id, tracking, unsubscribe, options, tracking_host, ip_pool)
        return await self._client.request(request, Domain)

    async def delete(self, domain_id: str, **options: Unpack[CallOptions]) -> None:
        """Stop sending from the domain and erase its private keys."""
        await self._client.request(domain_options("DELETE", ONE, domain_id, options), type(None))

    async def reputation(self, domain_id: str, **options: Unpack[CallOptions]) -> DomainReputation:
        """The domain's rates and standing; see :meth:`Domains.reputation`."""
        request = domain_options("GET", REPUTATION, domain_id, options)
        return await self._client.request(request, DomainReputation)

    async def resume(self, domain_id: str, **options: Unpack[CallOptions]) -> ResumeResult:
        """Resume a paused domain; see :meth:`Domains.resume`."""
        request = domain_options("POST", RESUME, domain_id, options)
        return await self._client.request(request, ResumeResult)
