"""Check a message as ``POST /v1/messages`` would take it, without sending it.

The request goes through the same validation (a 422 names every bad field, as a send's
would); then the rules of :mod:`herald_service.core.message_findings` and
:mod:`herald_service.core.html_findings` judge the message, its built MIME size and its
sending domain as the domain's last verification left it. Nothing is stored, no quota of
recipients is charged and no DNS lookup is made; spamd is asked only when configured.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

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
    part_findings,
    size_findings,
    source_header_findings,
)
from herald_service.core.mime import build_mime, new_message_id
from herald_service.domains.service import SenderReadiness, sender_readiness
from herald_service.mail.spamd import SpamdError, SpamScore, spam_score
from herald_service.messages.intake import validate_send_request
from herald_service.messages.offload import off_loop
from herald_service.messages.schemas import MessageCheck, SendMessageRequest, request_size
from herald_service.messages.templated import apply_template
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
    request = await apply_template(sessions, account_id, request)
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


async def check_source(raw: bytes, spamd_url: str) -> MessageCheck:
    """The findings for a message's source as it was (or would have been) delivered: its
    header fields, parts, size and HTML by the same rules as a check of a request, and
    spamd's score when ``spamd_url`` is set. The sending domain is not judged here."""
    found = (await off_loop(_judge_source, [raw], len(raw)))[0]
    score, spam = await _spam(spamd_url, raw)
    found += spam
    return MessageCheck(
        summary=summarize(found),
        size=len(raw),
        size_limit=MAX_MESSAGE_BYTES,
        findings=ordered(found),
        spam_score=score.score if score is not None else None,
    )


def _judge_source(sources: Sequence[bytes]) -> list[list[CheckFinding]]:
    judged = []
    for raw in sources:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        fields, invalid = [], []
        for name, value in message.raw_items():
            fields.append((name, str(value)))
        for name in dict.fromkeys(name for name, _ in fields):
            try:
                values = message.get_all(name, [])
            except (ValueError, IndexError, TypeError):
                invalid.append((name, "it cannot be parsed"))
                continue
            for value in values:
                for defect in getattr(value, "defects", ()):
                    invalid.append((name, str(defect) or type(defect).__name__))
        html_part = message.get_body(preferencelist=("html",))
        text_part = message.get_body(preferencelist=("plain",))
        html = _text(html_part)
        found = source_header_findings(fields, invalid)
        found += part_findings(html is not None, text_part is not None, False)
        found += size_findings(len(raw), len((html or "").encode()))
        if html is not None:
            inline = [
                str(part["Content-ID"]).strip().strip("<>")
                for part in message.walk()
                if part.get("Content-ID")
            ]
            found += html_findings(html, inline)
        judged.append(found)
    return judged


def _text(part: object) -> str | None:
    """A text part's content, decoded as best it can be."""
    if not isinstance(part, EmailMessage):
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None
