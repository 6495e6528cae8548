"""The shapes of ``/v1/smtp``, ``herald smtp`` and the console's SMTP page: the settings an
application types into its mailer, and the addresses locked out of AUTH."""

from __future__ import annotations

import msgspec

from herald_service.settings import Settings
from herald_service.submission.lockout import LockedAddress
from herald_service.submission.options import OPTION_HEADERS

USERNAME = "apikey"
USERNAME_NOTE = "any username is accepted: the password alone says who is sending"
PASSWORD_HINT = "an API key with the send scope"  # noqa: S105 - what to type, not a secret


class SmtpSettings(msgspec.Struct, kw_only=True):
    """What an application's mailer needs to send through Herald over SMTP."""

    host: str
    port: int
    tls_port: int | None
    security: str
    auth_methods: list[str]
    username: str
    username_note: str
    password: str
    max_message_bytes: int
    option_headers: list[str]


class LockoutOut(msgspec.Struct, kw_only=True):
    """A client address (or an IPv6 /64) refused AUTH for now: since when (Unix time, in
    seconds) and for how many seconds still."""

    address: str
    locked_at: float
    expires_in: float


class LockoutList(msgspec.Struct):
    """The addresses locked out now, most recently locked first."""

    data: list[LockoutOut]


def smtp_settings(settings: Settings) -> SmtpSettings:
    """The SMTP settings of this server, as applications should type them."""
    tls_port = settings.submission_tls_port or None
    security = f"STARTTLS on port {settings.submission_port}"
    if tls_port is not None:
        security += f"; TLS from the first byte on port {tls_port}"
    return SmtpSettings(
        host=settings.submission_public_host or settings.hostname,
        port=settings.submission_port,
        tls_port=tls_port,
        security=security,
        auth_methods=["PLAIN", "LOGIN"],
        username=USERNAME,
        username_note=USERNAME_NOTE,
        password=PASSWORD_HINT,
        max_message_bytes=settings.submission_max_message_bytes,
        option_headers=list(OPTION_HEADERS),
    )


def lockout_list(locked: list[LockedAddress]) -> LockoutList:
    """The public view of :meth:`~herald_service.submission.lockout.Lockout.locked`."""
    return LockoutList(
        [
            LockoutOut(address=a.address, locked_at=a.locked_at, expires_in=a.expires_in)
            for a in locked
        ]
    )
