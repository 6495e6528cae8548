"""The shapes of ``/v1/templates`` and the presenters of a template and its versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from herald_service.core import template_limits as limits
from herald_service.storage.models import Template, TemplateVersion

TemplateName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+(?![\s\S])")
]
Alias = Annotated[
    str,
    msgspec.Meta(
        max_length=100,
        pattern=r"^([a-z0-9][a-z0-9_.-]{0,99})?(?![\s\S])",
        description="Lower-case letters, digits, `_ . -`; unique in the account. "
        'On update, `""` removes it.',
    ),
]
TemplateRef = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, description="A template's id (`tpl_...`).")
]
AliasRef = Annotated[
    str,
    msgspec.Meta(max_length=100, pattern=limits.ALIAS_PATTERN, description="A template's alias."),
]
SubjectSource = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=limits.MAX_SUBJECT_SOURCE,
        description="Jinja2 source of the subject; it must render to one line.",
    ),
]
PartSource = Annotated[
    str,
    msgspec.Meta(
        max_length=limits.MAX_PART_SOURCE,
        description='Jinja2 source; on update, `""` removes the part.',
    ),
]
# template_data is JSON whose values nest at most four arrays or objects deep (enough for
# ``order.items[0].options[0].name``): a closed type (no ``Any``), so the schema bounds
# the nesting as it does for every other request body.
_Scalar = str | int | float | bool | None
_Level5 = _Scalar
_Level4 = _Scalar | list[_Level5] | dict[str, _Level5]
_Level3 = _Scalar | list[_Level4] | dict[str, _Level4]
_Level2 = _Scalar | list[_Level3] | dict[str, _Level3]
_Level1 = _Scalar | list[_Level2] | dict[str, _Level2]
TemplateData = Annotated[
    dict[str, _Level1],
    msgspec.Meta(
        description="The variables the template is rendered with (Jinja2 syntax): JSON "
        "values with at most four levels of arrays or objects in them."
    ),
]


class CreateTemplateRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/templates``: a template and its first version (HTML, text or both)."""

    name: TemplateName
    alias: Alias | None = None
    subject: SubjectSource
    html: PartSource | None = None
    text: PartSource | None = None


class UpdateTemplateRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PATCH /v1/templates/{id}``: what is given changes. New content (subject, html or
    text) becomes a new version, made active; the older versions are kept."""

    name: TemplateName | None = None
    alias: Alias | None = None
    subject: SubjectSource | None = None
    html: PartSource | None = None
    text: PartSource | None = None


class RenderRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/templates/{id}/render``: render without sending (the active version
    unless ``version`` is given)."""

    template_data: TemplateData = msgspec.field(default_factory=dict)
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class TemplateOut(msgspec.Struct, kw_only=True):
    """A template with the content of its active version."""

    id: str
    name: str
    alias: str | None
    active_version: int
    subject: str
    html: str | None
    text: str | None
    created_at: datetime
    updated_at: datetime


class TemplateSummary(msgspec.Struct, kw_only=True):
    """A template in a list (``GET /v1/templates/{id}`` has its content)."""

    id: str
    name: str
    alias: str | None
    active_version: int
    created_at: datetime
    updated_at: datetime


class TemplatePage(msgspec.Struct):
    """A page of templates, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    data: list[TemplateSummary]
    next_cursor: str | None


class TemplateVersionOut(msgspec.Struct, kw_only=True):
    """One version of a template's content."""

    version: int
    active: bool
    subject: str
    html: str | None
    text: str | None
    created_at: datetime


class TemplateVersionList(msgspec.Struct):
    """Every version of a template, newest first."""

    data: list[TemplateVersionOut]


class RenderedTemplate(msgspec.Struct):
    """A template rendered with ``template_data``: what a send would carry."""

    subject: str
    html: str | None
    text: str | None


def template_out(row: Template, version: TemplateVersion) -> TemplateOut:
    """The public view of a template and its active version."""
    return TemplateOut(
        id=row.id,
        name=row.name,
        alias=row.alias,
        active_version=row.active_version,
        subject=version.subject,
        html=version.html,
        text=version.text,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def template_summary(row: Template) -> TemplateSummary:
    """The list view of a template."""
    return TemplateSummary(
        id=row.id,
        name=row.name,
        alias=row.alias,
        active_version=row.active_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def version_out(row: TemplateVersion, active_version: int) -> TemplateVersionOut:
    """The public view of one version."""
    return TemplateVersionOut(
        version=row.version,
        active=row.version == active_version,
        subject=row.subject,
        html=row.html,
        text=row.text,
        created_at=row.created_at,
    )
