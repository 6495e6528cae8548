"""Templates: create, edit (a new version each time the content changes), activate an
older version, render without sending, and render for a send.

Saving compiles every part, so a template that is stored always compiles; rendering
uses the process's cache of compiled versions (``rendering.COMPILED``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.ids import new_id
from herald_service.errors import Conflict, FieldError, InvalidRequest, NotFound
from herald_service.storage.models import Template, TemplateVersion
from herald_service.storage.types import utcnow
from herald_service.templates import queries
from herald_service.templates.cache import COMPILED
from herald_service.templates.queries import template_by_id as get_template
from herald_service.templates.queries import version_of as version_of
from herald_service.templates.queries import versions_of as versions_of
from herald_service.templates.rendering import Rendered, compile_parts, render

__all__ = ["Rendered", "get_template", "version_of", "versions_of"]

MAX_PAGE = 1000


def _check_parts(subject: str, html: str | None, text: str | None) -> None:
    """At least one body part, and every part compiles (422 naming part, line, reason)."""
    if not html and not text:
        message = "a template needs an html part, a text part or both"
        raise InvalidRequest(message, [FieldError("html", message)])
    compile_parts(subject, html, text)


async def _claim_alias(session: AsyncSession, row: Template, alias: str | None) -> None:
    """Give ``row`` the alias, or 409 naming ``alias`` when another template has it."""
    if alias is not None:
        other = await queries.template_by_alias(session, row.account_id, alias)
        if other is not None and other.id != row.id:
            raise Conflict(
                f"another template has the alias {alias!r}",
                [FieldError("alias", "already used by another template")],
            )
    row.alias = alias
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(
            f"another template has the alias {alias!r}",
            [FieldError("alias", "already used by another template")],
        ) from None


async def create_template(
    session: AsyncSession,
    account_id: str,
    *,
    name: str,
    subject: str,
    html: str | None = None,
    text: str | None = None,
    alias: str | None = None,
) -> tuple[Template, TemplateVersion]:
    """A new template whose version 1 is active."""
    html, text = html or None, text or None
    _check_parts(subject, html, text)
    now = utcnow()
    row = Template(
        id=new_id("tpl"),
        account_id=account_id,
        name=name,
        active_version=1,
        created_at=now,
        updated_at=now,
    )
    await _claim_alias(session, row, alias or None)
    version = TemplateVersion(
        template_id=row.id, version=1, subject=subject, html=html, text=text, created_at=now
    )
    session.add(version)
    await session.flush()
    return row, version


async def template_with_content(
    session: AsyncSession, account_id: str, template_id: str
) -> tuple[Template, TemplateVersion]:
    """The account's template and its active version (404 for another account's)."""
    row = await get_template(session, account_id, template_id)
    return row, await version_of(session, row.id, row.active_version)


async def list_templates(
    session: AsyncSession, account_id: str, *, limit: int = 100, cursor: str | None = None
) -> tuple[Sequence[Template], str | None]:
    """A page of templates, newest first, and the next page's cursor (None at the end)."""
    return await queries.page_of_templates(session, account_id, limit=limit, cursor=cursor)


async def update_template(
    session: AsyncSession,
    account_id: str,
    template_id: str,
    *,
    name: str | None = None,
    alias: str | None = None,
    subject: str | None = None,
    html: str | None = None,
    text: str | None = None,
) -> tuple[Template, TemplateVersion]:
    """Rename, re-alias (``""`` removes the alias) and, when content is given, add a
    version with it (``""`` removes a part) and make that version active."""
    row, active = await template_with_content(session, account_id, template_id)
    if name is not None:
        row.name = name
    if alias is not None:
        await _claim_alias(session, row, alias or None)
    version = active
    if subject is not None or html is not None or text is not None:
        new_subject = subject if subject is not None else active.subject
        new_html = (html or None) if html is not None else active.html
        new_text = (text or None) if text is not None else active.text
        _check_parts(new_subject, new_html, new_text)
        number = await queries.latest_version(session, row.id) + 1
        version = TemplateVersion(
            template_id=row.id,
            version=number,
            subject=new_subject,
            html=new_html,
            text=new_text,
            created_at=utcnow(),
        )
        session.add(version)
        row.active_version = number
    row.updated_at = utcnow()
    await session.flush()
    return row, version


async def activate_version(
    session: AsyncSession, account_id: str, template_id: str, version: int
) -> tuple[Template, TemplateVersion]:
    """Make an existing version the active one again."""
    row = await get_template(session, account_id, template_id)
    chosen = await version_of(session, row.id, version)
    row.active_version = chosen.version
    row.updated_at = utcnow()
    await session.flush()
    return row, chosen


async def delete_template(session: AsyncSession, account_id: str, template_id: str) -> None:
    """Remove a template and all its versions (messages already sent keep their content)."""
    row = await get_template(session, account_id, template_id)
    await queries.delete_with_versions(session, row)


async def render_version(version: TemplateVersion, data: Mapping[str, Any]) -> Rendered:
    """``version`` rendered with ``data`` in a worker thread (a render is bounded in
    time, but even a bounded one should not hold the event loop)."""
    compiled = COMPILED.get(
        (version.template_id, version.version), version.subject, version.html, version.text
    )
    return await asyncio.to_thread(render, compiled, data)


async def preview(
    subject: str, html: str | None, text: str | None, data: Mapping[str, Any]
) -> Rendered:
    """Unsaved content rendered with ``data`` (the console's live preview)."""
    compiled = compile_parts(subject, html or None, text or None)
    return await asyncio.to_thread(render, compiled, data)


async def render_template(
    session: AsyncSession,
    account_id: str,
    template_id: str,
    data: Mapping[str, Any],
    version: int | None = None,
) -> Rendered:
    """The template (its active version, or ``version``) rendered with ``data``."""
    row = await get_template(session, account_id, template_id)
    chosen = await version_of(session, row.id, version or row.active_version)
    return await render_version(chosen, data)


async def render_for_send(
    sessions: async_sessionmaker[AsyncSession],
    account_id: str,
    *,
    template_id: str | None,
    template_alias: str | None,
    data: Mapping[str, Any],
) -> Rendered:
    """The active version of the template a send names (by id or alias) rendered with
    ``data``; an unknown template is a 422 naming the field that named it."""
    async with sessions() as session:
        try:
            if template_id is not None:
                row = await get_template(session, account_id, template_id)
            else:
                assert template_alias is not None
                found = await queries.template_by_alias(session, account_id, template_alias)
                if found is None:
                    raise NotFound(f"no template with alias {template_alias}")
                row = found
        except NotFound as exc:
            field = "template_id" if template_id is not None else "template_alias"
            raise InvalidRequest(str(exc.detail), [FieldError(field, "no such template")]) from None
        compiled = COMPILED.peek((row.id, row.active_version))
        if compiled is None:  # the first send of this version in this process
            version = await version_of(session, row.id, row.active_version)
            return await render_version(version, data)
    return await asyncio.to_thread(render, compiled, data)
