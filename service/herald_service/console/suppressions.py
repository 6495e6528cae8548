"""The Suppressions page: look up, add and remove addresses an account will not send to.

Adding and removing are changes, so only admins may post them (``check_request``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Template

from herald_service.console.web import (
    AccountRef,
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.errors import HeraldError
from herald_service.suppressions.schemas import suppression_out
from herald_service.suppressions.service import (
    REASONS,
    add_suppression,
    checked_email,
    get_suppression,
    list_suppressions,
    remove_suppression,
)

PAGE_SIZE = 100
DONE = {"added": "Address suppressed.", "removed": "Suppression removed."}


def _back(account: AccountRef, done: str) -> Redirect:
    query = urlencode({"account": account.id, "done": done})
    return Redirect(path=f"/console/suppressions?{query}", status_code=303)


async def _form(request: Request[Any, Any, Any], operator: Operator) -> tuple[AccountRef, Any]:
    """The target account (a member one, else 404) and the posted form."""
    form = await request.form()
    account = pick_account(operator, str(form.get("account") or "") or None)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account, form


class SuppressionsController(Controller):
    """``/console/suppressions``."""

    path = "/suppressions"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The list, newest first, or the entry of one searched address."""
        account = pick_account(operator, request.query_params.get("account"))
        query = request.query_params.get("q", "").strip()[:320]
        rows: list[Any] = []
        next_cursor = None
        if account is not None:
            async with context_of(request).sessions() as db:
                if query:
                    found = await get_suppression(db, account.id, query, missing_ok=True)
                    rows = [found] if found else []
                else:
                    cursor = request.query_params.get("cursor") or None
                    try:
                        page, next_cursor = await list_suppressions(
                            db, account.id, limit=PAGE_SIZE, cursor=cursor
                        )
                    except HeraldError as exc:
                        raise ConsoleError(exc.status, exc.detail) from None
                    rows = list(page)
        context = {
            "operator": operator,
            "page": "suppressions",
            "account": account,
            "rows": [suppression_out(r) for r in rows],
            "next": next_cursor,
            "q": query,
            "reasons": REASONS,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("suppressions.html", context=context)

    @post("/", status_code=303)
    async def add(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Suppress an address (admins only)."""
        account, form = await _form(request, operator)
        reason = str(form.get("reason") or "manual")
        if reason not in REASONS:
            raise ConsoleError(422, f"The reason must be one of {', '.join(REASONS)}.")
        try:
            email = checked_email("email", str(form.get("email") or "")[:400])
        except HeraldError:
            raise ConsoleError(422, "That is not an email address.") from None
        detail = str(form.get("detail") or "")[:2000]
        async with context_of(request).sessions.begin() as db:
            await add_suppression(db, account.id, email, reason, detail=detail)
        return _back(account, "added")

    @post("/remove", status_code=303)
    async def remove(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Allow sending to an address again (admins only)."""
        account, form = await _form(request, operator)
        try:
            async with context_of(request).sessions.begin() as db:
                await remove_suppression(db, account.id, str(form.get("email") or "")[:400])
        except HeraldError as exc:
            raise ConsoleError(exc.status, "That address is not suppressed.") from None
        return _back(account, "removed")
