"""The SQL of the templates slice: every query is scoped to one account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.errors import NotFound
from herald_service.pagination import decode_cursor, encode_cursor
from herald_service.storage.models import Template, TemplateVersion


async def template_by_id(session: AsyncSession, account_id: str, template_id: str) -> Template:
    """The account's template, or :class:`NotFound` (another account's id included)."""
    row = (
        await session.execute(
            select(Template).where(Template.account_id == account_id, Template.id == template_id)
        )
    ).scalar()
    if row is None:
        raise NotFound(f"no template {template_id}")
    return row


async def template_by_alias(session: AsyncSession, account_id: str, alias: str) -> Template | None:
    """The account's template with ``alias``, if there is one."""
    query = select(Template).where(Template.account_id == account_id, Template.alias == alias)
    return (await session.execute(query)).scalar()


async def version_of(session: AsyncSession, template_id: str, version: int) -> TemplateVersion:
    """One version of a template (whose account was checked), or :class:`NotFound`."""
    row = await session.get(TemplateVersion, (template_id, version))
    if row is None:
        raise NotFound(f"template {template_id} has no version {version}")
    return row


async def latest_version(session: AsyncSession, template_id: str) -> int:
    """The highest version number of a template."""
    query = select(func.max(TemplateVersion.version)).where(
        TemplateVersion.template_id == template_id
    )
    return int((await session.execute(query)).scalar() or 0)


async def versions_of(session: AsyncSession, template_id: str) -> Sequence[TemplateVersion]:
    """Every version of a template, newest first."""
    query = (
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template_id)
        .order_by(TemplateVersion.version.desc())
    )
    return list((await session.execute(query)).scalars())


async def delete_with_versions(session: AsyncSession, row: Template) -> None:
    """Remove a template and its versions."""
    await session.execute(delete(TemplateVersion).where(TemplateVersion.template_id == row.id))
    await session.execute(delete(Template).where(Template.id == row.id))


async def page_of_templates(
    session: AsyncSession, account_id: str, *, limit: int, cursor: str | None
) -> tuple[Sequence[Template], str | None]:
    """A page of the account's templates, newest first, and the next page's cursor."""
    query = select(Template).where(Template.account_id == account_id)
    if cursor:
        after, after_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Template.created_at < after,
                and_(Template.created_at == after, Template.id < after_id),
            )
        )
    newest_first = query.order_by(Template.created_at.desc(), Template.id.desc())
    rows = list((await session.execute(newest_first.limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)
