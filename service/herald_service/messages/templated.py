"""A send that names a template: its subject, html and text rendered before validation.

``apply_template`` is the one seam every send path calls (``POST /v1/messages``, the
message check, ``/v3/mail/send``), each message on its own.
"""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.errors import Collector
from herald_service.messages.schemas import SendMessageRequest
from herald_service.templates.service import render_for_send


async def apply_template(
    sessions: async_sessionmaker[AsyncSession], account_id: str, request: SendMessageRequest
) -> SendMessageRequest:
    """``request`` itself when it names no template; otherwise a copy whose subject, html
    and text are the account's template rendered with ``template_data`` (and whose
    template fields are cleared). A 422 names the fields at fault: both or neither of
    ``template_id`` and ``template_alias``, content given alongside a template, a missing
    variable (``template_data.first_name``), an unknown template."""
    named = request.template_id is not None or request.template_alias is not None
    errors = Collector()
    if not named:
        if request.template_data is not None:
            errors.add("template_data", "give template_id or template_alias with template_data")
        errors.raise_if_any()
        return request
    if request.template_id is not None and request.template_alias is not None:
        errors.add("template_alias", "give template_id or template_alias, not both")
    for field, value in (
        ("subject", request.subject or None),
        ("html", request.html),
        ("text", request.text),
    ):
        if value is not None:
            errors.add(field, "comes from the template: leave it out when sending by template")
    errors.raise_if_any()
    rendered = await render_for_send(
        sessions,
        account_id,
        template_id=request.template_id,
        template_alias=request.template_alias,
        data=request.template_data or {},
    )
    return msgspec.structs.replace(
        request,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        template_id=None,
        template_alias=None,
        template_data=None,
    )
