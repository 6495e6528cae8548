"""Message templates (``/v1/templates``): their content, versions and renders."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = [
    "RenderedTemplate",
    "Template",
    "TemplatePage",
    "TemplateSummary",
    "TemplateVersion",
    "TemplateVersionList",
]


class Template(msgspec.Struct, frozen=True, kw_only=True):
    """A template with the content (Jinja2 source) of its active version."""

    id: str
    name: str
    alias: str | None = None
    active_version: int
    subject: str
    html: str | None = None
    text: str | None = None
    created_at: datetime
    updated_at: datetime


class TemplateSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A template in a list (``templates.get`` has its content)."""

    id: str
    name: str
    alias: str | None = None
    active_version: int
    created_at: datetime
    updated_at: datetime


class TemplatePage(msgspec.Struct, frozen=True):
    """A page of templates, newest first; ``next_cursor`` fetches the next (``None``: last)."""

    data: list[TemplateSummary]
    next_cursor: str | None = None


class TemplateVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One version of a template's content; ``active`` marks the one sends use."""

    version: int
    active: bool
    subject: str
    html: str | None = None
    text: str | None = None
    created_at: datetime


class TemplateVersionList(msgspec.Struct, frozen=True):
    """Every version of a template, newest first."""

    data: list[TemplateVersion]


class RenderedTemplate(msgspec.Struct, frozen=True):
    """A template rendered with ``template_data``: what a send would carry."""

    subject: str
    html: str | None = None
    text: str | None = None
