"""The SMTP page: the settings an application's mailer needs, the account's keys that may
serve as its password, and (for operators) the AUTH lock-outs with an Unlock button.

A lock-out is per client address across every account, so the list and the button are
shown only to members of an operator account (``HERALD_OPERATOR_ACCOUNTS``, see
:func:`~herald_service.submission.service.may_manage_lockouts`); unlocking is a change,
so only admins may post it (``check_request``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Template

from herald_service.console.keys import token_prefix
from herald_service.console.web import (
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.keys.schemas import api_key_out
from herald_service.keys.service import list_api_keys
from herald_service.submission.schemas import LockoutOut, lockout_list, smtp_settings
from herald_service.submission.service import SEND_SCOPE, may_manage_lockouts

DONE = {"unlocked": "Address unlocked: it may try AUTH again."}


def _operates(request: Request[Any, Any, Any], operator: Operator) -> bool:
    settings = context_of(request).settings
    return may_manage_lockouts(settings, [a.id for a in operator.accounts])


def _row(entry: LockoutOut) -> dict[str, Any]:
    return {
        "address": entry.address,
        "since": datetime.fromtimestamp(entry.locked_at, UTC),
        "minutes_left": max(1, round(entry.expires_in / 60)),
    }


class SmtpController(Controller):
    """``/console/smtp``."""

    path = "/smtp"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The settings to copy, the send keys, and the lock-outs (operators only)."""
        context = context_of(request)
        account = pick_account(operator, request.query_params.get("account"))
        keys = []
        if account is not None:
            async with context.sessions() as db:
                keys = [
                    key
                    for key in map(api_key_out, await list_api_keys(db, account.id))
                    if SEND_SCOPE in key.scopes and key.revoked_at is None
                ]
        operates = _operates(request, operator)
        locked = lockout_list(await context.lockout.locked()).data if operates else []
        page = {
            "operator": operator,
            "page": "smtp",
            "account": account,
            "smtp": smtp_settings(context.settings),
            "keys": keys,
            "prefix": token_prefix,
            "operates": operates,
            "lockouts": [_row(entry) for entry in locked],
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("smtp.html", context=page)

    @post("/unlock", status_code=303)
    async def unlock(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Lift the lock-out of an address (admins of an operator account only)."""
        if not _operates(request, operator):
            raise ConsoleError(403, "Only the operators of this server may lift lock-outs.")
        form = await request.form()
        address = str(form.get("address") or "")[:100]
        if not address or not await context_of(request).lockout.unlock(address):
            raise ConsoleError(404, "That address is not locked out.")
        query = urlencode({"done": "unlocked"})
        return Redirect(path=f"/console/smtp?{query}", status_code=303)
