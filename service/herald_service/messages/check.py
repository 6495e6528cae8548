"""Check a message as ``POST /v1/messages`` would take it, without sending it.

The request goes through the same validation (a 422 names every bad field, as a send's
would); then the rules of :mod:`herald_service.core.message_findings` and
:mod:`herald_service.core.html_findings` judge the message, its built MIME size and its
sending domain as the domain's last verification left it. Nothing is stored, no quota of
recipients is charged and no DNS lookup is made; spamd is asked only when configured.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from msgspec import Struct
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.findings import CheckFinding, Severity, finding, ordered, summarize
from herald_service.core.html_findings import html_findings
from herald_service.core.message import OutgoingMessage
from herald_service.core.message_findings import (
    MAX_MESSAGE_BYTES,
    RecordState,
    domain_findings,
    header_findings,
    size_findings,
)
from herald_service.core.mime import build_mime, new_message_id
from herald_service.domains.service import SenderReadiness, sender_readiness
from herald_service.mail.spamd import SpamdError, SpamScore, spam_score
from herald_service.messages.intake import validate_send_request
from herald_service.messages.offload import off_loop
from herald_service.messages.schemas import MessageCheck, SendMessageRequest, request_size
from herald_service.settings import Settings


async def check_message(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    account_id: str,
    request: SendMessageRequest,
    allowed_domains: Collection[str] = (),
) -> MessageCheck:
    """The findings for ``request`` sent by ``account_id`` with a key limited to
    ``allowed_domains`` (422 when the request is invalid, as for a send)."""
    built = (await off_loop(_build, [request], request_size(request)))[0]
    outgoing, raw = built.message, built.raw
    async with sessions() as session:
        readiness = await sender_readiness(
            session, settings, account_id, outgoing.sender.domain, allowed_domains
        )
    found = _domain(outgoing.sender.domain, readiness) + built.findings
    score, spam = await _spam(settings.spamd_url, raw)
    found += spam
    return MessageCheck(
        summary=summarize(found),
        size=len(raw),
        size_limit=MAX_MESSAGE_BYTES,
        findings=ordered(found),
        spam_score=score.score if score is not None else None,
    )


class _Built(Struct, frozen=True):
    """A validated message, its MIME bytes (unsigned) and what its content shows."""

    message: OutgoingMessage
    raw: bytes
    findings: list[CheckFinding]


def _build(requests: Sequence[SendMessageRequest]) -> list[_Built]:
    """Validate, build and judge each message's content: CPU work, done off the event
    loop when the content is large (parsing megabytes of HTML takes a while)."""
    built = []
    for request in requests:
        outgoing = validate_send_request(request)
        raw = build_mime(outgoing, message_id=new_message_id("check.invalid"))
        found = header_findings(outgoing, text_generated=not request.text)
        found += size_findings(len(raw), len((outgoing.html or "").encode()))
        if outgoing.html is not None:
            inline = [a.content_id for a in outgoing.attachments if a.disposition == "inline"]
            found += html_findings(outgoing.html, inline)
        built.append(_Built(outgoing, raw, found))
    return built


def _domain(sender_domain: str, readiness: SenderReadiness) -> list[CheckFinding]:
    records = [
        RecordState(
            purpose=r.purpose, host=r.host, status=r.status, required=r.required, detail=r.detail
        )
        for r in readiness.records
    ]
    return domain_findings(sender_domain, readiness.domain, readiness.problem, records)


async def _spam(url: str, raw: bytes) -> tuple[SpamScore | None, list[CheckFinding]]:
    """spamd's score and what it means, or why there is none."""
    if not url:
        why = "not run: set HERALD_SPAMD_URL to a SpamAssassin spamd to get a spam score"
        return None, [finding("spam", "info", "", why)]
    try:
        score = await spam_score(url, raw)
    except SpamdError as exc:
        return None, [finding("spam", "warning", "", f"not run: {exc}")]
    verdict = f"spam score {score.score:g} (spamd's threshold {score.threshold:g})"
    if score.spam:
        return score, [finding("spam", "error", "", f"{verdict}: spamd would call it spam")]
    severity: Severity = "warning" if score.score >= score.threshold / 2 else "info"
    return score, [finding("spam", severity, "", verdict)]
