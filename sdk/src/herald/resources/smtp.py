"""``client.smtp``: SMTP settings and AUTH lock-outs (``/v1/smtp``).

Lock-outs are per client address, across every account, so listing and lifting them takes
an ``admin`` key of an operator account (``HERALD_OPERATOR_ACCOUNTS``); any other key gets
:class:`~herald.PermissionDeniedError`.
"""

from __future__ import annotations

from typing import Unpack

from herald._base_client import CallOptions, RequestOptions
from herald.models import SmtpLockout, SmtpLockoutList, SmtpSettings
from herald.resources._base import AsyncResource, SyncResource, make_options, path

__all__ = ["AsyncSmtp", "Smtp"]

SETTINGS = "/v1/smtp/settings"
LOCKOUTS = "/v1/smtp/lockouts"
LOCKOUT = "/v1/smtp/lockouts/{address}"


def unlock_options(address: str, options: CallOptions) -> RequestOptions:
    """``DELETE /v1/smtp/lockouts/{address}``; a listed IPv6 ``/64`` is named by its
    first address, as the server takes any address in it."""
    if isinstance(address, str) and address.endswith("/64"):
        address = address.removesuffix("/64")
    return make_options("DELETE", path(LOCKOUT, address=address), options)


class Smtp(SyncResource):
    """SMTP submission (blocking)."""

    def settings(self, **options: Unpack[CallOptions]) -> SmtpSettings:
        """Host, ports, security and credentials a mailer needs (a ``read`` key)."""
        return self._client.request(make_options("GET", SETTINGS, options), SmtpSettings)

    def lockouts(self, **options: Unpack[CallOptions]) -> list[SmtpLockout]:
        """The client addresses locked out of AUTH now, most recent first."""
        request = make_options("GET", LOCKOUTS, options)
        return self._client.request(request, SmtpLockoutList).data

    def unlock(self, address: str, **options: Unpack[CallOptions]) -> None:
        """Let ``address`` (as listed) try AUTH again at once;
        :class:`~herald.NotFoundError` when it is not locked out."""
        self._client.request(unlock_options(address, options), type(None))


class AsyncSmtp(AsyncResource):
    """SMTP submission (asyncio); mirrors :class:`Smtp`."""

    async def settings(self, **options: Unpack[CallOptions]) -> SmtpSettings:
        """Host, ports, security and credentials a mailer needs (a ``read`` key)."""
        return await self._client.request(make_options("GET", SETTINGS, options), SmtpSettings)

    async def lockouts(self, **options: Unpack[CallOptions]) -> list[SmtpLockout]:
        """The client addresses locked out of AUTH now, most recent first."""
        request = make_options("GET", LOCKOUTS, options)
        return (await self._client.request(request, SmtpLockoutList)).data

    async def unlock(self, address: str, **options: Unpack[CallOptions]) -> None:
        """Let ``address`` (as listed) try AUTH again at once;
        :class:`~herald.NotFoundError` when it is not locked out."""
        await self._client.request(unlock_options(address, options), type(None))
