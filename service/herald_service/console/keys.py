"""The API keys page: list an account's keys, create one (its token shown once), revoke.

Creating and revoking are changes, so only admins may post them (``check_request``). The
new token is rendered straight into the answer to the POST (never stored, never put in a
URL), and every console page is ``no-store``, so it is not shown again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from herald_service.console.web import (
    AccountRef,
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.domains.service import list_domains
from herald_service.errors import HeraldError
from herald_service.keys.schemas import ApiKeyOut, api_key_out
from herald_service.keys.service import create_api_key, get_api_key, list_api_keys, revoke_api_key
from herald_service.security.tokens import PREFIX

SCOPES = ("send", "read", "admin")
DONE = {"revoked": "Key revoked: the API refuses it within five seconds."}


def token_prefix(key: ApiKeyOut) -> str:
    """The public start of the key's token (``hrld_<id>_``), to recognise it by."""
    return f"{PREFIX}{key.id.removeprefix('key_')}_"


def _account(operator: Operator, requested: str | None) -> AccountRef:
    account = pick_account(operator, requested)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account


async def _key(request: Request[Any, Any, Any], account: AccountRef, key_id: str) -> ApiKeyOut:
    """The account's key ``key_id``; any other is a 404."""
    async with context_of(request).sessions() as db:
        try:
            return api_key_out(await get_api_key(db, account.id, key_id))
        except HeraldError:
            raise ConsoleError(404, "No such API key.") from None


class KeysController(Controller):
    """``/console/keys``."""

    path = "/keys"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The account's keys, oldest first, revoked ones included, and the create form."""
        account = pick_account(operator, request.query_params.get("account"))
        keys: list[ApiKeyOut] = []
        domains: list[str] = []
        if account is not None:
            async with context_of(request).sessions() as db:
                keys = [api_key_out(k) for k in await list_api_keys(db, account.id)]
                domains = [d.name for d in await list_domains(db, account.id)]
        context = {
            "operator": operator,
            "page": "keys",
            "account": account,
            "keys": keys,
            "domains": domains,
            "scopes": SCOPES,
            "prefix": token_prefix,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("keys.html", context=context)

    @post("/", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """Create a key and show its token, this once (admins only)."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        scopes = [str(s) for s in form.getall("scopes", [])]
        if not scopes:
            raise ConsoleError(422, "Choose at least one scope.")
        if any(s not in SCOPES for s in scopes):
            raise ConsoleError(422, f"Scopes are {', '.join(SCOPES)}.")
        name = str(form.get("name") or "").strip()
        if len(name) > 200:
            raise ConsoleError(422, "The name may have at most 200 characters.")
        domains = [str(d) for d in form.getall("domains", []) if str(d)][:100]
        try:
            async with context_of(request).sessions.begin() as db:
                key, token = await create_api_key(db, account.id, scopes, name, domains=domains)
                created = api_key_out(key)
        except HeraldError as exc:
            raise ConsoleError(422, exc.detail) from None
        context = {
            "operator": operator,
            "page": "keys",
            "account": account,
            "key": created,
            "token": token,
        }
        return Template("keys_created.html", context=context, status_code=201)

    @get("/{key_id:str}/revoke")
    async def confirm_revoke(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        key_id: FromPath[str],
    ) -> Template:
        """Ask before revoking: a revoked key cannot be brought back."""
        account = _account(operator, request.query_params.get("account"))
        key = await _key(request, account, key_id)
        context = {"operator": operator, "page": "keys", "account": account, "key": key}
        return Template("keys_revoke.html", context=context)

    @post("/{key_id:str}/revoke", status_code=303)
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        key_id: FromPath[str],
    ) -> Redirect:
        """Revoke the key (admins only; idempotent)."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        try:
            async with context_of(request).sessions.begin() as db:
                await revoke_api_key(db, account.id, key_id)
        except HeraldError:
            raise ConsoleError(404, "No such API key.") from None
        query = urlencode({"account": account.id, "done": "revoked"})
        return Redirect(path=f"/console/keys?{query}", status_code=303)
