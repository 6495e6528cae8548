"""The shapes of ``/v1/api-keys`` and ``herald keys``, and the presenter of a stored key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from herald_service.core.key_grants import KeyLimits
from herald_service.keys.grants import key_limits
from herald_service.request_fields import NO_NUL, DomainName
from herald_service.storage.models import ApiKey

Name = Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)]
Scope = Literal["send", "read", "admin"]


class KeyQuotas(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Per-key quota overrides; a null or absent field uses the server's default."""

    requests_per_second: Annotated[float, msgspec.Meta(ge=0.001, le=1_000_000)] | None = None
    burst: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    daily_recipients: Annotated[int, msgspec.Meta(ge=0, le=10**9)] | None = None

    def limits(self) -> KeyLimits:
        """The service-level view of these overrides."""
        return KeyLimits(
            requests_per_second=self.requests_per_second,
            burst=self.burst,
            daily_recipients=self.daily_recipients,
        )


class CreateApiKeyRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/api-keys``."""

    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1)]
    name: Name = ""
    domains: Annotated[list[DomainName], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    quotas: KeyQuotas | None = None


class UpdateApiKeyRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PATCH /v1/api-keys/{id}``: rename, or replace all quota overrides."""

    name: Name | None = None
    quotas: KeyQuotas | None = None


class ApiKeyOut(msgspec.Struct, kw_only=True):
    """An API key as listed: never its secret."""

    id: str
    name: str
    scopes: list[str]
    domains: list[str]
    quotas: KeyQuotas
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut, kw_only=True):
    """A new key: ``key`` is the secret token, shown in this response only."""

    key: str


class ApiKeyList(msgspec.Struct):
    """The account's keys."""

    data: list[ApiKeyOut]


def api_key_out(key: ApiKey) -> ApiKeyOut:
    """The public view of a stored key."""
    limits = key_limits(key)
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=list(key.scopes),
        domains=list(key.allowed_domains or []),
        quotas=KeyQuotas(
            requests_per_second=limits.requests_per_second,
            burst=limits.burst,
            daily_recipients=limits.daily_recipients,
        ),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def api_key_created(key: ApiKey, token: str) -> ApiKeyCreated:
    """A key just created, with its secret ``token`` (shown this once)."""
    return ApiKeyCreated(key=token, **msgspec.structs.asdict(api_key_out(key)))
