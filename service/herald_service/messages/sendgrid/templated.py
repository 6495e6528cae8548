"""``template_id`` on ``/v3/mail/send``: a Herald template (its id or its alias) rendered
per personalization with its ``dynamic_template_data``, through the same
:func:`~herald_service.messages.templated.apply_template` as ``/v1/messages``."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.errors import FieldError, InvalidRequest
from herald_service.messages.schemas import SendMessageRequest
from herald_service.messages.sendgrid.fields import sendgrid_field
from herald_service.messages.templated import apply_template

_TEMPLATE_ID = re.compile(r"^tpl_[0-9a-z]{26}$")


def template_fields(template_id: str | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """The Herald template fields of one personalization's request: ``tpl_...`` is a
    template's id, anything else its alias."""
    if template_id is None:
        return {} if data is None else {"template_data": data}
    by_id = _TEMPLATE_ID.match(template_id) is not None
    return {"template_id" if by_id else "template_alias": template_id, "template_data": data or {}}


async def render_personalizations(
    sessions: async_sessionmaker[AsyncSession],
    account_id: str,
    requests: list[SendMessageRequest],
) -> list[SendMessageRequest]:
    """Each personalization's request rendered from the template (errors of them all in
    one 422, in SendGrid's terms)."""
    filled: list[SendMessageRequest] = []
    errors: list[FieldError] = []
    for index, request in enumerate(requests):
        try:
            filled.append(await apply_template(sessions, account_id, request))
        except InvalidRequest as exc:
            errors += [FieldError(sendgrid_field(index, e.field), e.message) for e in exc.errors]
    if errors:
        unique = list(dict.fromkeys(errors))
        fields = ", ".join(dict.fromkeys(e.field for e in unique))
        raise InvalidRequest(f"the request has invalid fields: {fields}", unique)
    return filled
