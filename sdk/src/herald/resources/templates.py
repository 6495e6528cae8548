"""``client.templates``: stored message templates (``/v1/templates``), Jinja2 syntax."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Unpack

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import (
    RenderedTemplate,
    Template,
    TemplatePage,
    TemplateSummary,
    TemplateVersionList,
)
from herald.resources._base import AsyncResource, SyncResource, make_options, path, query

__all__ = ["AsyncTemplates", "TemplateFilters", "Templates"]

ROOT = "/v1/templates"
ONE = "/v1/templates/{template_id}"


class TemplateFilters(CallOptions, total=False):
    """The keyword arguments of ``templates.list`` and ``templates.iter``."""

    limit: int
    cursor: str


class _Body(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    alias: str | None = None
    subject: str | None = None
    html: str | None = None
    text: str | None = None


class _RenderBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    template_data: dict[str, Any]
    version: int | None = None


def list_options(filters: TemplateFilters) -> RequestOptions:
    """``GET /v1/templates``."""
    params = query(limit=filters.get("limit"), cursor=filters.get("cursor"))
    return make_options("GET", ROOT, filters, params=params, accepts=TemplateFilters)


def create_options(body: _Body, options: CallOptions) -> RequestOptions:
    """``POST /v1/templates``."""
    return make_options("POST", ROOT, options, body=body)


def one(method: str, template_id: str, options: CallOptions, suffix: str = "") -> RequestOptions:
    """A call on one template (``suffix``: a sub-path such as ``/versions``)."""
    return make_options(method, path(ONE, template_id=template_id) + suffix, options)


def update_options(template_id: str, body: _Body, options: CallOptions) -> RequestOptions:
    """``PATCH /v1/templates/{id}``."""
    return make_options("PATCH", path(ONE, template_id=template_id), options, body=body)


def activate_options(template_id: str, version: int, options: CallOptions) -> RequestOptions:
    """``POST /v1/templates/{id}/versions/{n}/activate``."""
    return one("POST", template_id, options, f"/versions/{int(version)}/activate")


def render_options(
    template_id: str, data: Mapping[str, Any], version: int | None, options: CallOptions
) -> RequestOptions:
    """``POST /v1/templates/{id}/render``."""
    body = _RenderBody(template_data=dict(data), version=version)
    url = path(ONE, template_id=template_id) + "/render"
    return make_options("POST", url, options, body=body)


class Templates(SyncResource):
    """Message templates (blocking)."""

    def create(
        self,
        *,
        name: str,
        subject: str,
        html: str | None = None,
        text: str | None = None,
        alias: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Template:
        """A template and its version 1; every part must compile (Jinja2)."""
        body = _Body(name=name, alias=alias, subject=subject, html=html, text=text)
        return self._client.request(create_options(body, options), Template)

    def list(self, **filters: Unpack[TemplateFilters]) -> TemplatePage:
        """One page, newest first; pass ``next_cursor`` as ``cursor``."""
        return self._client.request(list_options(filters), TemplatePage)

    def iter(self, **filters: Unpack[TemplateFilters]) -> Iterator[TemplateSummary]:
        """Every template, fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), TemplatePage)

    def get(self, template_id: str, **options: Unpack[CallOptions]) -> Template:
        """A template and its active version."""
        return self._client.request(one("GET", template_id, options), Template)

    def update(
        self,
        template_id: str,
        *,
        name: str | None = None,
        alias: str | None = None,
        subject: str | None = None,
        html: str | None = None,
        text: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Template:
        """Rename or re-alias (``""`` removes it); new content becomes a new, active version."""
        body = _Body(name=name, alias=alias, subject=subject, html=html, text=text)
        return self._client.request(update_options(template_id, body, options), Template)

    def delete(self, template_id: str, **options: Unpack[CallOptions]) -> None:
        """Delete a template and its versions."""
        self._client.request(one("DELETE", template_id, options), type(None))

    def versions(self, template_id: str, **options: Unpack[CallOptions]) -> TemplateVersionList:
        """Every version, newest first."""
        request = one("GET", template_id, options, "/versions")
        return self._client.request(request, TemplateVersionList)

    def activate(self, template_id: str, version: int, **options: Unpack[CallOptions]) -> Template:
        """Make ``version`` the one sends use."""
        return self._client.request(activate_options(template_id, version, options), Template)

    def render(
        self,
        template_id: str,
        template_data: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        **options: Unpack[CallOptions],
    ) -> RenderedTemplate:
        """Render without sending (the active version unless ``version`` is given)."""
        request = render_options(template_id, template_data or {}, version, options)
        return self._client.request(request, RenderedTemplate)


class AsyncTemplates(AsyncResource):
    """Message templates (asyncio); mirrors :class:`Templates`."""

    async def create(
        self,
        *,
        name: str,
        subject: str,
        html: str | None = None,
        text: str | None = None,
        alias: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Template:
        """A template and its version 1; every part must compile (Jinja2)."""
        body = _Body(name=name, alias=alias, subject=subject, html=html, text=text)
        return await self._client.request(create_options(body, options), Template)

    async def list(self, **filters: Unpack[TemplateFilters]) -> TemplatePage:
        """One page, newest first; pass ``next_cursor`` as ``cursor``."""
        return await self._client.request(list_options(filters), TemplatePage)

    def iter(self, **filters: Unpack[TemplateFilters]) -> AsyncIterator[TemplateSummary]:
        """Every template (``async for``), fetching pages as the loop needs them."""
        return self._client.paginate(list_options(filters), TemplatePage)

    async def get(self, template_id: str, **options: Unpack[CallOptions]) -> Template:
        """A template and its active version."""
        return await self._client.request(one("GET", template_id, options), Template)

    async def update(
        self,
        template_id: str,
        *,
        name: str | None = None,
        alias: str | None = None,
        subject: str | None = None,
        html: str | None = None,
        text: str | None = None,
        **options: Unpack[CallOptions],
    ) -> Template:
        """Rename or re-alias (``""`` removes it); new content becomes a new, active version."""
        body = _Body(name=name, alias=alias, subject=subject, html=html, text=text)
        return await self._client.request(update_options(template_id, body, options), Template)

    async def delete(self, template_id: str, **options: Unpack[CallOptions]) -> None:
        """Delete a template and its versions."""
        await self._client.request(one("DELETE", template_id, options), type(None))

    async def versions(
        self, template_id: str, **options: Unpack[CallOptions]
    ) -> TemplateVersionList:
        """Every version, newest first."""
        request = one("GET", template_id, options, "/versions")
        return await self._client.request(request, TemplateVersionList)

    async def activate(
        self, template_id: str, version: int, **options: Unpack[CallOptions]
    ) -> Template:
        """Make ``version`` the one sends use."""
        request = activate_options(template_id, version, options)
        return await self._client.request(request, Template)

    async def render(
        self,
        template_id: str,
        template_data: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        **options: Unpack[CallOptions],
    ) -> RenderedTemplate:
        """Render without sending (the active version unless ``version`` is given)."""
        request = render_options(template_id, template_data or {}, version, options)
        return await self._client.request(request, RenderedTemplate)
