"""``/v1/templates``: stored templates, their versions, and rendering without sending."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.keys.service import AuthContext
from herald_service.templates.schemas import (
    CreateTemplateRequest,
    RenderedTemplate,
    RenderRequest,
    TemplateOut,
    TemplatePage,
    TemplateVersionList,
    UpdateTemplateRequest,
    template_out,
    template_summary,
    version_out,
)
from herald_service.templates.service import (
    MAX_PAGE,
    activate_version,
    create_template,
    delete_template,
    get_template,
    list_templates,
    render_template,
    template_with_content,
    update_template,
    versions_of,
)

TemplateId = FromPath[str]


class TemplateController(AuthenticatedController):
    """Create, edit, version and render message templates."""

    path = "/v1/templates"
    tags = ["templates"]

    @get(
        "/",
        opt={"scope": "read"},
        summary="List templates",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def index(
        self,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> TemplatePage:
        """The account's templates, newest first."""
        async with herald.sessions() as session:
            rows, next_cursor = await list_templates(
                session, auth.account_id, limit=limit, cursor=cursor
            )
        return TemplatePage([template_summary(r) for r in rows], next_cursor)

    @post(
        "/",
        status_code=201,
        opt={"scope": "admin"},
        summary="Create a template",
        responses=problem_responses(400, 401, 403, 409, 422),
    )
    async def create(
        self,
        data: JSONBody[CreateTemplateRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> TemplateOut:
        """A template (Jinja2 syntax) and its version 1. Every part is compiled: a syntax
        error is a 422 naming the part, the line and the reason."""
        async with herald.sessions.begin() as session:
            row, version = await create_template(
                session,
                auth.account_id,
                name=data.name,
                alias=data.alias,
                subject=data.subject,
                html=data.html,
                text=data.text,
            )
            return template_out(row, version)

    @get(
        "/{template_id:str}",
        opt={"scope": "read"},
        summary="Get a template",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def show(
        self,
        template_id: TemplateId,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> TemplateOut:
        """A template with the content of its active version."""
        async with herald.sessions() as session:
            row, version = await template_with_content(session, auth.account_id, template_id)
            return template_out(row, version)

    @patch(
        "/{template_id:str}",
        opt={"scope": "admin"},
        summary="Update a template",
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update(
        self,
        template_id: TemplateId,
        data: JSONBody[UpdateTemplateRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> TemplateOut:
        """Change the name or alias; new content becomes a new version, made active."""
        async with herald.sessions.begin() as session:
            row, version = await update_template(
                session,
                auth.account_id,
                template_id,
                name=data.name,
                alias=data.alias,
                subject=data.subject,
                html=data.html,
                text=data.text,
            )
            return template_out(row, version)

    @delete(
        "/{template_id:str}",
        opt={"scope": "admin"},
        summary="Delete a template",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def remove(
        self,
        template_id: TemplateId,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Delete a template and all its versions."""
        async with herald.sessions.begin() as session:
            await delete_template(session, auth.account_id, template_id)

    @get(
        "/{template_id:str}/versions",
        opt={"scope": "read"},
        summary="List a template's versions",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def versions(
        self,
        template_id: TemplateId,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> TemplateVersionList:
        """Every version, newest first; ``active`` marks the one sends use."""
        async with herald.sessions() as session:
            row = await get_template(session, auth.account_id, template_id)
            rows = await versions_of(session, row.id)
            return TemplateVersionList([version_out(v, row.active_version) for v in rows])

    @post(
        "/{template_id:str}/versions/{version:int}/activate",
        status_code=200,
        opt={"scope": "admin"},
        summary="Activate a version",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def activate(
        self,
        template_id: TemplateId,
        version: Annotated[int, PathParameter(ge=1, le=2**31 - 1)],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> TemplateOut:
        """Make an earlier (or later) version the one sends use."""
        async with herald.sessions.begin() as session:
            row, chosen = await activate_version(session, auth.account_id, template_id, version)
            return template_out(row, chosen)

    @post(
        "/{template_id:str}/render",
        status_code=200,
        opt={"scope": "read"},
        summary="Render a template",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def render(
        self,
        template_id: TemplateId,
        data: JSONBody[RenderRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> RenderedTemplate:
        """Render with ``template_data`` without sending: what a send would carry. A
        missing variable is a 422 naming it (``template_data.first_name``)."""
        async with herald.sessions() as session:
            rendered = await render_template(
                session, auth.account_id, template_id, data.template_data, data.version
            )
        return RenderedTemplate(rendered.subject, rendered.html, rendered.text)
