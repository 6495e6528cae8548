"""A submitted message naming ``X-Herald-Template``: sent as the API sends a template.

The client's From, To, Cc and Reply-To are kept; the template's rendering replaces the
Subject and body. Recipients stay the envelope's: header addresses not in the envelope are
left out, envelope addresses not in the header become Bcc (as for any submission).
"""

from __future__ import annotations

from typing import Any

import msgspec

from herald_service.core.message import Address
from herald_service.messages.schemas import SendMessageRequest
from herald_service.submission.intake import SubmittedMessage
from herald_service.submission.replies import Refusal


def _mailbox(address: Address) -> dict[str, str]:
    return (
        {"email": address.email, "name": address.name} if address.name else {"email": address.email}
    )


def templated_request(submitted: SubmittedMessage) -> SendMessageRequest:
    """The ``POST /v1/messages`` request equivalent to ``submitted`` (which names a
    template); :class:`Refusal` when it has no To recipient or the request is invalid."""
    options = submitted.options
    by_kind: dict[str, list[dict[str, str]]] = {"to": [], "cc": [], "bcc": []}
    for kind, address in submitted.envelope:
        by_kind[kind].append(_mailbox(address))
    if not by_kind["to"]:
        raise Refusal(550, "5.6.0", "a templated message needs a To recipient")
    template = options.template or ""
    request: dict[str, Any] = {
        "from": _mailbox(submitted.sender),
        **{kind: mailboxes for kind, mailboxes in by_kind.items() if mailboxes},
        "tags": list(options.tags),
        "metadata": options.metadata,
        "sandbox": options.sandbox,
        "template_data": options.template_data or {},
    }
    request["template_id" if template.startswith("tpl_") else "template_alias"] = template
    if submitted.reply_to:
        request["reply_to"] = [_mailbox(a) for a in submitted.reply_to]
    if options.send_at is not None:
        request["send_at"] = options.send_at.isoformat()
    try:
        return msgspec.json.decode(msgspec.json.encode(request), type=SendMessageRequest)
    except msgspec.ValidationError as exc:
        raise Refusal(550, "5.6.0", f"X-Herald-Template: {exc}") from None
