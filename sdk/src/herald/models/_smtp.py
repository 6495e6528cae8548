"""SMTP submission: the settings a mailer types, and the addresses locked out of AUTH."""

from __future__ import annotations

import msgspec

__all__ = ["SmtpLockout", "SmtpLockoutList", "SmtpSettings"]


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What an application's mailer needs to send through Herald over SMTP."""

    host: str
    port: int
    tls_port: int | None = None
    """The implicit-TLS port (465), or ``None`` when the server offers only STARTTLS."""
    security: str = ""
    auth_methods: list[str] = msgspec.field(default_factory=list)
    username: str = "apikey"
    username_note: str = ""
    password: str = ""
    """What to use as the password: an API key with the ``send`` scope."""
    max_message_bytes: int = 0
    option_headers: list[str] = msgspec.field(default_factory=list)
    """The ``X-Herald-*`` header fields a message may carry (tags, metadata, ...)."""


class SmtpLockout(msgspec.Struct, frozen=True, kw_only=True):
    """A client address (or an IPv6 /64) refused SMTP AUTH after repeated failures."""

    address: str
    locked_at: float
    """Since when, in Unix time (seconds)."""
    expires_in: float
    """Seconds until the lock lifts by itself."""


class SmtpLockoutList(msgspec.Struct, frozen=True):
    """The answer of ``GET /v1/smtp/lockouts``."""

    data: list[SmtpLockout]
