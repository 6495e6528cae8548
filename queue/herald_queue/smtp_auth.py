"""SMTP AUTH (RFC 4954) towards a smarthost, once the connection is encrypted.

A refusal of the credentials is the operator's problem, not the recipients': it becomes
:class:`AuthenticationFailed`, which the pool turns into a reply without a code, so the
recipients are deferred (and retried) with the reason, never bounced.
"""

from __future__ import annotations

import aiosmtplib
from msgspec import Struct


class Credentials(Struct, frozen=True):
    """A relay's user name and password; ``repr`` (hence any log line) masks the password.

    ``allow_plaintext`` lets AUTH go over a connection that ended up unencrypted.
    """

    username: str
    password: str
    allow_plaintext: bool = False

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"


class AuthenticationFailed(Exception):
    """The relay refused the credentials, or they could not be offered safely."""


async def authenticate(
    client: aiosmtplib.SMTP, credentials: Credentials, host: str, encrypted: bool
) -> None:
    """Log in to ``host`` over ``client`` (PLAIN or LOGIN, whichever it offers)."""
    if not encrypted and not credentials.allow_plaintext:
        raise AuthenticationFailed(
            f"relay authentication not attempted: the connection to {host} is not encrypted"
        )
    try:
        await client.login(credentials.username, credentials.password)
    except aiosmtplib.SMTPResponseException as exc:
        raise AuthenticationFailed(
            f"relay authentication failed at {host}: {exc.code} {exc.message}"
        ) from exc
    except aiosmtplib.SMTPException as exc:
        raise AuthenticationFailed(f"relay authentication failed at {host}: {exc}") from exc
