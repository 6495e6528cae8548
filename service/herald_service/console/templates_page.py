"""The Templates page: list, create and edit message templates, their versions, and a
live preview rendered as a send would render it.

Saving, activating and deleting are changes, so only admins may post them
(``check_request``). The preview changes nothing, so viewers may post it too (it still
needs the session's CSRF token); it renders the unsaved form with the sample data in the
same sandbox and limits as ``POST /v1/templates/{id}/render``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
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
from herald_service.errors import FieldError, HeraldError, NotFound
from herald_service.templates.schemas import template_out, template_summary, version_out
from herald_service.templates.service import (
    activate_version,
    create_template,
    delete_template,
    get_template,
    list_templates,
    preview,
    template_with_content,
    update_template,
    versions_of,
)

PAGE_SIZE = 100
DONE = {
    "created": "Template created.",
    "saved": "Saved as a new version.",
    "activated": "Version activated.",
    "deleted": "Template deleted.",
}
SAMPLE = '{\n  "first_name": "Ann"\n}'


def _account(operator: Operator, requested: str | None) -> AccountRef:
    account = pick_account(operator, requested)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account


def _field(form: FormMultiDict, name: str, limit: int) -> str:
    return str(form.get(name) or "")[:limit].replace("\r\n", "\n")


def _refused(exc: HeraldError) -> ConsoleError:
    """A refused save as a page naming each bad field."""
    details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
    return ConsoleError(exc.status, f"Not saved. {details}")


def _to(account: AccountRef, where: str, done: str) -> Redirect:
    separator = "&" if "?" in where else "?"
    return Redirect(path=f"{where}{separator}account={account.id}&done={done}", status_code=303)


class TemplatesController(Controller):
    """``/console/templates``."""

    path = "/templates"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The account's templates, newest first."""
        account = pick_account(operator, request.query_params.get("account"))
        rows: list[Any] = []
        next_cursor = None
        if account is not None:
            cursor = request.query_params.get("cursor") or None
            try:
                async with context_of(request).sessions() as db:
                    page, next_cursor = await list_templates(
                        db, account.id, limit=PAGE_SIZE, cursor=cursor
                    )
            except HeraldError as exc:
                raise ConsoleError(exc.status, exc.detail) from None
            rows = [template_summary(r) for r in page]
        context = {
            "operator": operator,
            "page": "templates",
            "account": account,
            "rows": rows,
            "next": next_cursor,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("templates.html", context=context)

    @get("/new")
    async def new(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """An empty form (saving needs an admin)."""
        account = _account(operator, request.query_params.get("account"))
        context = {
            "operator": operator,
            "page": "templates",
            "account": account,
            "template": None,
            "versions": [],
            "sample": SAMPLE,
            "done": "",
        }
        return Template("template.html", context=context)

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Save a new template (admins only)."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        try:
            async with context_of(request).sessions.begin() as db:
                row, _ = await create_template(
                    db,
                    account.id,
                    name=_field(form, "name", 200),
                    alias=_field(form, "alias", 100) or None,
                    subject=_field(form, "subject", 2000),
                    html=_field(form, "html", 1_000_000) or None,
                    text=_field(form, "text", 1_000_000) or None,
                )
        except HeraldError as exc:
            raise _refused(exc) from None
        return _to(account, f"/console/templates/{row.id}", "created")

    @get("/{template_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        template_id: FromPath[str],
    ) -> Template:
        """The edit form with the active version, the versions and the preview."""
        account = _account(operator, request.query_params.get("account"))
        try:
            async with context_of(request).sessions() as db:
                row, version = await template_with_content(db, account.id, template_id)
                versions = await versions_of(db, row.id)
        except NotFound:
            raise ConsoleError(404, "No such template.") from None
        context = {
            "operator": operator,
            "page": "templates",
            "account": account,
            "template": template_out(row, version),
            "versions": [version_out(v, row.active_version) for v in versions],
            "sample": SAMPLE,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("template.html", context=context)

    @post("/{template_id:str}", status_code=303)
    async def save(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        template_id: FromPath[str],
    ) -> Redirect:
        """Save the form: the name and alias, and the content as a new version when it
        changed (admins only)."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        try:
            async with context_of(request).sessions.begin() as db:
                _, active = await template_with_content(db, account.id, template_id)
                content = {
                    "subject": _field(form, "subject", 2000),
                    "html": _field(form, "html", 1_000_000),
                    "text": _field(form, "text", 1_000_000),
                }
                changed = content != {
                    "subject": active.subject,
                    "html": active.html or "",
                    "text": active.text or "",
                }
                await update_template(
                    db,
                    account.id,
                    template_id,
                    name=_field(form, "name", 200),
                    alias=_field(form, "alias", 100),
                    **(content if changed else {}),
                )
        except HeraldError as exc:
            raise _refused(exc) from None
        return _to(account, f"/console/templates/{template_id}", "saved")

    @post("/{template_id:str}/versions/{version:int}/activate", status_code=303)
    async def activate(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        template_id: FromPath[str],
        version: FromPath[int],
    ) -> Redirect:
        """Make an older version the one sends use (admins only)."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        try:
            async with context_of(request).sessions.begin() as db:
                await activate_version(db, account.id, template_id, version)
        except NotFound:
            raise ConsoleError(404, "No such template version.") from None
        return _to(account, f"/console/templates/{template_id}", "activated")

    @post("/{template_id:str}/delete", status_code=303)
    async def delete(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        template_id: FromPath[str],
    ) -> Redirect:
        """Delete a template and its versions (admins only)."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        try:
            async with context_of(request).sessions.begin() as db:
                await get_template(db, account.id, template_id)
                await delete_template(db, account.id, template_id)
        except NotFound:
            raise ConsoleError(404, "No such template.") from None
        return _to(account, "/console/templates", "deleted")

    @post("/preview", status_code=200, opt={"any_role": True})
    async def preview(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The unsaved form rendered with the sample data, or why it does not render."""
        form = await request.form()
        _account(operator, str(form.get("account") or "") or None)
        errors: list[FieldError] = []
        rendered = None
        try:
            data = msgspec.json.decode(_field(form, "template_data", 100_000) or "{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (msgspec.DecodeError, ValueError):
            errors = [FieldError("template_data", "the sample data is not a JSON object")]
        else:
            try:
                rendered = await preview(
                    _field(form, "subject", 2000),
                    _field(form, "html", 1_000_000),
                    _field(form, "text", 1_000_000),
                    data,
                )
            except HeraldError as exc:
                errors = exc.errors or [FieldError("template", exc.detail)]
        return Template("template_preview.html", context={"rendered": rendered, "errors": errors})
