"""``/v1/smtp``: the SMTP settings applications type, and the AUTH lock-outs.

The settings are the same for every account (any key with the ``read`` scope may read
them). A lock-out is per client address and server-wide, so listing and lifting them is
the operator's act: it takes an ``admin`` key of an account named in
``HERALD_OPERATOR_ACCOUNTS`` (see
:func:`~herald_service.submission.service.may_manage_lockouts`); any other key gets 403.
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get
from litestar.di import NamedDependency
from litestar.params import PathParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.errors import Forbidden, NotFound
from herald_service.keys.service import AuthContext
from herald_service.submission.schemas import (
    LockoutList,
    SmtpSettings,
    lockout_list,
    smtp_settings,
)
from herald_service.submission.service import may_manage_lockouts

NOT_OPERATOR = (
    "SMTP lock-outs are per client address, across every account: only an admin key of "
    "an operator account (HERALD_OPERATOR_ACCOUNTS) may see or lift them"
)


def require_operator(auth: AuthContext, herald: ApiContext) -> None:
    """Refuse (403) a key whose account is not an operator account."""
    if not may_manage_lockouts(herald.settings, [auth.account_id]):
        raise Forbidden(NOT_OPERATOR)


class SmtpController(AuthenticatedController):
    """SMTP submission: its settings and its lock-outs."""

    path = "/v1/smtp"
    tags = ["smtp"]

    @get(
        "/settings",
        opt={"scope": "read"},
        summary="Get the SMTP settings",
        responses=problem_responses(401, 403, 429),
    )
    async def settings(self, herald: NamedDependency[ApiContext]) -> SmtpSettings:
        """Host, ports, security and credentials an application's mailer needs.

        The password is an API key with the `send` scope; the username may be anything
        (`apikey` by convention). `option_headers` are the `X-Herald-*` header fields a
        message may carry (tags, metadata, sandbox, send-at, template), removed before
        signing.
        """
        return smtp_settings(herald.settings)

    @get(
        "/lockouts",
        opt={"scope": "admin"},
        summary="List SMTP lock-outs",
        responses=problem_responses(401, 403, 429),
    )
    async def lockouts(
        self, auth: NamedDependency[AuthContext], herald: NamedDependency[ApiContext]
    ) -> LockoutList:
        """The client addresses refused SMTP AUTH for now after repeated failures.

        Lock-outs are per client address (an IPv6 client by its /64), whichever account
        it meant: only an admin key of an operator account may list them.
        """
        require_operator(auth, herald)
        return lockout_list(await herald.lockout.locked())

    @delete(
        "/lockouts/{address:str}",
        opt={"scope": "admin"},
        summary="Lift an SMTP lock-out",
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    async def unlock(
        self,
        address: Annotated[str, PathParameter(min_length=1, max_length=100)],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Let a locked-out address try SMTP AUTH again at once, its failures forgotten.

        For an IPv6 /64, give any address in it (`2001:db8:1:2::`). Only an admin key of
        an operator account may; 404 when the address is not locked out.
        """
        require_operator(auth, herald)
        if not await herald.lockout.unlock(address):
            raise NotFound(f"{address} is not locked out")
