"""API keys and suppressions."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["ApiKey", "ApiKeyList", "KeyQuotas", "Suppression", "SuppressionPage"]


class KeyQuotas(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Per-key quota overrides; ``None`` uses the server's default."""

    requests_per_second: float | None = None
    burst: int | None = None
    daily_recipients: int | None = None


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key's public facts; ``key`` (the secret token) is set only when created."""

    id: str
    name: str = ""
    scopes: list[str] = msgspec.field(default_factory=list)
    domains: list[str] = msgspec.field(default_factory=list)
    """The sending domains this key may use (empty: every domain of the account)."""
    quotas: KeyQuotas = msgspec.field(default_factory=KeyQuotas)
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    key: str | None = None


class ApiKeyList(msgspec.Struct, frozen=True):
    """The answer of ``GET /v1/api-keys``."""

    data: list[ApiKey]


class Suppression(msgspec.Struct, frozen=True, kw_only=True):
    """An address Herald will not send to, and why (``bounce``, ``complaint``, ``manual``...)."""

    email: str
    reason: str
    detail: str = ""
    message_id: str | None = None
    created_at: datetime | None = None


class SuppressionPage(msgspec.Struct, frozen=True):
    """A page of suppressions, newest first; ``next_cursor`` fetches the next."""

    data: list[Suppression]
    next_cursor: str | None = None
