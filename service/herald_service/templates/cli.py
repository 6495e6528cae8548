"""``herald templates``: manage message templates and render them from the command line.

The JSON output is the API's view (:mod:`herald_service.templates.schemas`) plus the
template's ``account_id``.
"""

from __future__ import annotations

from typing import IO, Any

import click
import msgspec

from herald_service.cli.output import emit, with_session
from herald_service.errors import FieldError, InvalidRequest
from herald_service.settings import get_settings
from herald_service.storage.models import Template, TemplateVersion
from herald_service.templates.schemas import (
    template_out,
    template_summary,
    version_out,
)
from herald_service.templates.service import (
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


def _payload(row: Template, version: TemplateVersion) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(template_out(row, version))
    return payload | {"account_id": row.account_id}


def _source(inline: str | None, file: IO[str] | None) -> str | None:
    return file.read() if file is not None else inline


def _content_options(command: Any) -> Any:
    for option in reversed(
        [
            click.option("--subject", default=None, help="Jinja2 source of the subject."),
            click.option("--html", default=None, help="Jinja2 source of the HTML part."),
            click.option("--html-file", type=click.File(), default=None),
            click.option("--text", default=None, help="Jinja2 source of the text part."),
            click.option("--text-file", type=click.File(), default=None),
        ]
    ):
        command = option(command)
    return command


@click.group()
def templates() -> None:
    """Manage message templates (Jinja2 syntax)."""


@templates.command("create")
@click.option("--account", "account_id", required=True)
@click.option("--name", required=True)
@click.option("--alias", default=None)
@_content_options
@click.option("--json", "as_json", is_flag=True)
def templates_create(
    account_id: str,
    name: str,
    alias: str | None,
    subject: str | None,
    html: str | None,
    html_file: IO[str] | None,
    text: str | None,
    text_file: IO[str] | None,
    as_json: bool,
) -> None:
    """Create a template; every part is compiled first."""
    if not subject:
        raise InvalidRequest("--subject is required", [FieldError("subject", "required")])
    row, version = with_session(
        get_settings(),
        lambda s: create_template(
            s,
            account_id,
            name=name,
            alias=alias,
            subject=subject,
            html=_source(html, html_file),
            text=_source(text, text_file),
        ),
    )
    emit(as_json, _payload(row, version), f"created template {row.id} (version 1)")


@templates.command("list")
@click.option("--account", "account_id", required=True)
@click.option("--json", "as_json", is_flag=True)
def templates_list(account_id: str, as_json: bool) -> None:
    """List an account's templates, newest first."""
    rows, _ = with_session(get_settings(), lambda s: list_templates(s, account_id, limit=1000))
    lines = [f"{t.id}  v{t.active_version:<4} {t.alias or '-':24} {t.name}" for t in rows]
    data = [msgspec.to_builtins(template_summary(t)) for t in rows]
    emit(as_json, {"data": data}, "\n".join(lines) or "no templates")


@templates.command("show")
@click.option("--account", "account_id", required=True)
@click.argument("template_id")
@click.option("--json", "as_json", is_flag=True)
def templates_show(account_id: str, template_id: str, as_json: bool) -> None:
    """Show a template and its active version."""
    row, version = with_session(
        get_settings(), lambda s: template_with_content(s, account_id, template_id)
    )
    human = f"{row.id} {row.name} (v{row.active_version})\nsubject: {version.subject}"
    emit(as_json, _payload(row, version), human)


@templates.command("update")
@click.option("--account", "account_id", required=True)
@click.argument("template_id")
@click.option("--name", default=None)
@click.option("--alias", default=None, help='"" removes the alias.')
@_content_options
@click.option("--json", "as_json", is_flag=True)
def templates_update(
    account_id: str,
    template_id: str,
    name: str | None,
    alias: str | None,
    subject: str | None,
    html: str | None,
    html_file: IO[str] | None,
    text: str | None,
    text_file: IO[str] | None,
    as_json: bool,
) -> None:
    """Update a template; new content becomes a new, active version."""
    row, version = with_session(
        get_settings(),
        lambda s: update_template(
            s,
            account_id,
            template_id,
            name=name,
            alias=alias,
            subject=subject,
            html=_source(html, html_file),
            text=_source(text, text_file),
        ),
    )
    emit(as_json, _payload(row, version), f"updated {row.id}: version {row.active_version}")


@templates.command("delete")
@click.option("--account", "account_id", required=True)
@click.argument("template_id")
@click.option("--json", "as_json", is_flag=True)
def templates_delete(account_id: str, template_id: str, as_json: bool) -> None:
    """Delete a template and its versions."""
    with_session(get_settings(), lambda s: delete_template(s, account_id, template_id))
    emit(as_json, {"id": template_id, "deleted": True}, f"deleted {template_id}")


@templates.command("versions")
@click.option("--account", "account_id", required=True)
@click.argument("template_id")
@click.option("--json", "as_json", is_flag=True)
def templates_versions(account_id: str, template_id: str, as_json: bool) -> None:
    """List a template's versions, newest first."""

    async def load(session: Any) -> tuple[Template, list[TemplateVersion]]:
        row = await get_template(session, account_id, template_id)
        return row, list(await versions_of(session, row.id))

    row, rows = with_session(get_settings(), load)
    data = [msgspec.to_builtins(version_out(v, row.active_version)) for v in rows]
    lines = [
        f"v{v.version:<4} {'active' if v.version == row.active_version else '':6} {v.subject}"
        for v in rows
    ]
    emit(as_json, {"data": data}, "\n".join(lines))


@templates.command("activate")
@click.option("--account", "account_id", required=True)
@click.argument("template_id")
@click.argument("version", type=click.IntRange(1, 2**31 - 1))
@click.option("--json", "as_json", is_flag=True)
def templates_activate(account_id: str, template_id: str, version: int, as_json: bool) -> None:
    """Make a version the one sends use."""
    row, chosen = with_session(
        get_settings(), lambda s: activate_version(s, account_id, template_id, version)
    )
    emit(as_json, _payload(row, chosen), f"{row.id}: version {row.active_version} is active")


@templates.command("render")
@click.option("--account", "account_id", required=True)
@click.argument("template_id")
@click.option("--data", "data_json", default="{}", help="template_data as a JSON object.")
@click.option("--version", type=click.IntRange(1, 2**31 - 1), default=None)
@click.option("--json", "as_json", is_flag=True)
def templates_render(
    account_id: str, template_id: str, data_json: str, version: int | None, as_json: bool
) -> None:
    """Render a template with --data without sending anything."""
    try:
        data = msgspec.json.decode(data_json, type=dict[str, Any])
    except msgspec.DecodeError as exc:
        raise InvalidRequest(
            "--data is not a JSON object", [FieldError("template_data", str(exc))]
        ) from None
    rendered = with_session(
        get_settings(), lambda s: render_template(s, account_id, template_id, data, version)
    )
    payload: dict[str, Any] = msgspec.to_builtins(rendered)
    human = f"Subject: {rendered.subject}\n\n{rendered.text or ''}\n\n{rendered.html or ''}"
    emit(as_json, payload, human.strip())
