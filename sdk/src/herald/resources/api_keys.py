"""``client.api_keys``: create, list, change and revoke API keys (``/v1/api-keys``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import ApiKey, ApiKeyList, KeyQuotas
from herald.resources._base import AsyncResource, SyncResource, make_options, path

__all__ = ["ApiKeys", "AsyncApiKeys"]

ROOT = "/v1/api-keys"
ONE = "/v1/api-keys/{key_id}"


class _KeyBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    scopes: list[str] | None = None
    name: str | None = None
    domains: list[str] | None = None
    quotas: KeyQuotas | None = None


def create_options(
    scopes: Sequence[str],
    name: str | None,
    domains: Sequence[str] | None,
    quotas: KeyQuotas | None,
    options: CallOptions,
) -> RequestOptions:
    """``POST /v1/api-keys``."""
    body = _KeyBody(
        scopes=list(scopes),
        name=name,
        domains=None if domains is None else list(domains),
        quotas=quotas,
    )
    return make_options("POST", ROOT, options, body=body)


def update_options(
    key_id: str, name: str | None, quotas: KeyQuotas | None, options: CallOptions
) -> RequestOptions:
    """``PATCH /v1/api-keys/{id}``."""
    body = _KeyBody(name=name, quotas=quotas)
    return make_options("PATCH", path(ONE, key_id=key_id), options, body=body)


def one(method: str, key_id: str, options: CallOptions) -> RequestOptions:
    """A body-less call on one key."""
    return make_options(method, path(ONE, key_id=key_id), options)


class ApiKeys(SyncResource):
    """The account's API keys (blocking; needs an ``admin`` key)."""

    def create(
        self,
        scopes: Sequence[str],
        *,
        name: str | None = None,
        domains: Sequence[str] | None = None,
        quotas: KeyQuotas | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiKey:
        """A new key with ``scopes`` (``send``, ``read``, ``admin``); its ``key`` is shown
        only in this answer.

        It may not exceed the calling key (scopes, sending domains, quotas): beyond them,
        :class:`~herald.PermissionDeniedError` names each field. Unset quotas take the
        calling key's own overrides."""
        request = create_options(scopes, name, domains, quotas, options)
        return self._client.request(request, ApiKey)

    def list(self, **options: Unpack[CallOptions]) -> list[ApiKey]:
        """Every key of the account, revoked ones included."""
        return self._client.request(make_options("GET", ROOT, options), ApiKeyList).data

    def get(self, key_id: str, **options: Unpack[CallOptions]) -> ApiKey:
        """One key's public facts."""
        return self._client.request(one("GET", key_id, options), ApiKey)

    def update(
        self,
        key_id: str,
        *,
        name: str | None = None,
        quotas: KeyQuotas | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiKey:
        """Rename a key or change its quotas: only a key within the calling key's grant,
        to quotas within its own, else :class:`~herald.PermissionDeniedError`."""
        return self._client.request(update_options(key_id, name, quotas, options), ApiKey)

    def revoke(self, key_id: str, **options: Unpack[CallOptions]) -> None:
        """Revoke a key (one within the calling key's grant): it stops working at once."""
        self._client.request(one("DELETE", key_id, options), type(None))


class AsyncApiKeys(AsyncResource):
    """The account's API keys (asyncio); mirrors :class:`ApiKeys`."""

    async def create(
        self,
        scopes: Sequence[str],
        *,
        name: str | None = None,
        domains: Sequence[str] | None = None,
        quotas: KeyQuotas | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiKey:
        """A new key; its ``key`` is shown only in this answer (within the calling key's
        scopes, domains and quotas, as for :meth:`ApiKeys.create`)."""
        request = create_options(scopes, name, domains, quotas, options)
        return await self._client.request(request, ApiKey)

    async def list(self, **options: Unpack[CallOptions]) -> list[ApiKey]:
        """Every key of the account, revoked ones included."""
        request = make_options("GET", ROOT, options)
        return (await self._client.request(request, ApiKeyList)).data

    async def get(self, key_id: str, **options: Unpack[CallOptions]) -> ApiKey:
        """One key's public facts."""
        return await self._client.request(one("GET", key_id, options), ApiKey)

    async def update(
        self,
        key_id: str,
        *,
        name: str | None = None,
        quotas: KeyQuotas | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiKey:
        """Rename a key or change its quotas (within the calling key's own, as for
        :meth:`ApiKeys.update`)."""
        return await self._client.request(update_options(key_id, name, quotas, options), ApiKey)

    async def revoke(self, key_id: str, **options: Unpack[CallOptions]) -> None:
        """Revoke a key (one within the calling key's grant): it stops working at once."""
        await self._client.request(one("DELETE", key_id, options), type(None))
