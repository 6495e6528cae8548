"""Reading the inbox: what the capture SMTP server stored and the accounts' sandbox
messages (accepted, never delivered), newest first.

The JSON of ``/dev/inbox`` lists every captured message (it exists only in capture mode,
for local development). The console's inbox is per account: a captured copy belongs to
the account of the Herald message its VERP return path named, a sandbox message to its
own. "Delete all" deletes the account's captured copies and moves its inbox's start past
its sandbox messages, which stay what every accepted message is: the account's record in
Activity and the API.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, and_, delete, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.errors import InvalidRequest, NotFound
from herald_service.inbox.schemas import InboxItem, inbox_item, with_from_header
from herald_service.storage.models import Account, CapturedMessage, Domain, Message, Recipient

HEAD_BYTES = 16 * 1024  # enough of the source for its From header
CAPTURED, SANDBOX = "captured", "sandbox"
_RANK = {CAPTURED: 1, SANDBOX: 0}  # at the same instant, captured copies come first


async def list_captured(session: AsyncSession, limit: int) -> list[CapturedMessage]:
    """The newest ``limit`` captured messages first (every account's, for ``/dev/inbox``)."""
    rows = await session.execute(
        select(CapturedMessage).order_by(CapturedMessage.id.desc()).limit(limit)
    )
    return list(rows.scalars())


async def get_captured(session: AsyncSession, captured_id: int) -> CapturedMessage:
    """One captured message, or :class:`NotFound`."""
    message = await session.get(CapturedMessage, captured_id)
    if message is None:
        raise NotFound(f"no captured message {captured_id}")
    return message


def number(text: str) -> int | None:
    """``text`` as a captured copy's number (ASCII digits, fewer than 19), or None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


class _Cursor:
    """Where a page ends: the instant, the kind and the id of its last item."""

    def __init__(self, at: datetime, kind: str, ref: str) -> None:
        self.at, self.kind, self.ref = at, kind, ref

    @classmethod
    def decode(cls, text: str) -> _Cursor:
        try:
            at, kind, ref = base64.urlsafe_b64decode(text.encode()).decode().split("|")
            cursor = cls(datetime.fromisoformat(at), kind, ref)
        except ValueError:
            raise InvalidRequest("cursor is not one this inbox gave") from None
        wrong_ref = number(ref) is None if kind == CAPTURED else len(ref) > 40
        if kind not in _RANK or wrong_ref or cursor.at.tzinfo is None:
            raise InvalidRequest("cursor is not one this inbox gave")
        return cursor

    @staticmethod
    def encode(item: InboxItem) -> str:
        text = f"{item.at.isoformat()}|{item.kind}|{item.ref}"
        return base64.urlsafe_b64encode(text.encode()).decode()


def _before(cursor: _Cursor | None, kind: str, at: Any, ref: Any) -> ColumnElement[bool]:
    """Items of ``kind`` after ``cursor`` in the inbox's order (newest first)."""
    if cursor is None:
        return true()
    if _RANK[kind] < _RANK[cursor.kind]:
        same_instant: ColumnElement[bool] = true()
    elif kind == cursor.kind:
        same_instant = ref < (int(cursor.ref) if kind == CAPTURED else cursor.ref)
    else:
        same_instant = false()
    return or_(at < cursor.at, and_(at == cursor.at, same_instant))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _address_of(message_id: Any, address: str, may_send: bool) -> ColumnElement[bool]:
    """The Herald message was to ``address`` (found by the recipients' ``lower(email)``
    index) or, if ``may_send``, from it (a check of each message row, so skipped when
    ``address`` cannot be the account's sender: see :func:`_may_send_from`)."""
    to_it = select(Recipient.message_id).where(func.lower(Recipient.email) == address)
    to_address: ColumnElement[bool] = message_id.in_(to_it)
    if not may_send:
        return to_address
    return or_(to_address, func.lower(Message.from_email) == address)


async def _may_send_from(db: AsyncSession, account_id: str, query: str) -> bool:
    """Whether ``query`` is an address the account may have sent from: its domain, or a
    parent of it, is one of the account's domains (deleted ones too, as their messages
    stay), as every message's From is (``domains.sending``)."""
    q = query.strip().lower()
    if "@" not in q:
        return False
    labels = q.rpartition("@")[2].split(".")
    names = [".".join(labels[i:]) for i in range(len(labels))]
    found = select(Domain.id).where(Domain.account_id == account_id, Domain.name.in_(names))
    return (await db.execute(found.limit(1))).first() is not None


def _search(query: str, kind: str, may_send: bool) -> ColumnElement[bool]:
    """What ``query`` (an id, an address or words of the subject) selects of ``kind``."""
    q = query.strip().lower()
    if not q:
        return true()
    if kind == CAPTURED:
        if (n := number(q)) is not None:
            return CapturedMessage.id == n
        if q.startswith("msg_"):
            return CapturedMessage.message_id == q
        if "@" in q:
            return _address_of(CapturedMessage.message_id, q, may_send)
        return func.lower(CapturedMessage.subject).like(f"%{_escaped(q)}%", escape="\\")
    if number(q) is not None:
        return false()
    if q.startswith("msg_"):
        return Message.id == q
    if "@" in q:
        return _address_of(Message.id, q, may_send)
    return func.lower(Message.subject).like(f"%{_escaped(q)}%", escape="\\")


Found = tuple[InboxItem, bytes]  # a row and its source's first bytes


async def _captured(
    db: AsyncSession,
    account_id: str,
    query: str,
    cursor: _Cursor | None,
    limit: int,
    may_send: bool,
) -> list[Found]:
    c = CapturedMessage
    rows = await db.execute(
        select(
            c.id,
            c.received_at,
            c.rcpt_tos,
            c.subject,
            c.message_id,
            func.length(c.raw),
            func.substr(c.raw, 1, HEAD_BYTES, type_=LargeBinary),
            Message.tags,
            Message.from_email,
        )
        .join(Message, Message.id == c.message_id)
        .where(c.account_id == account_id, _search(query, CAPTURED, may_send))
        .where(_before(cursor, CAPTURED, c.received_at, c.id))
        .order_by(c.received_at.desc(), c.id.desc())
        .limit(limit)
    )
    return [
        (inbox_item(CAPTURED, str(i), at, mid, size, from_email, list(to), subject, tags), head)
        for i, at, to, subject, mid, size, head, tags, from_email in rows.all()
    ]


async def _sandbox(
    db: AsyncSession,
    account_id: str,
    query: str,
    cursor: _Cursor | None,
    limit: int,
    may_send: bool,
) -> list[Found]:
    m = Message
    cleared = select(Account.inbox_cleared_at).where(Account.id == account_id).scalar_subquery()
    rows = (
        await db.execute(
            select(
                m.id,
                m.created_at,
                m.subject,
                m.tags,
                m.from_email,
                func.length(m.raw),
                func.substr(m.raw, 1, HEAD_BYTES, type_=LargeBinary),
            )
            .where(
                m.account_id == account_id, m.sandbox == true(), _search(query, SANDBOX, may_send)
            )
            .where(or_(cleared.is_(None), m.created_at > cleared))
            .where(m.body_pruned_at.is_(None))  # retention deleted the content shown here
            .where(_before(cursor, SANDBOX, m.created_at, m.id))
            .order_by(m.created_at.desc(), m.id.desc())
            .limit(limit)
        )
    ).all()
    to: dict[str, list[str]] = {}
    if rows:
        found = await db.execute(
            select(Recipient.message_id, Recipient.email)
            .where(Recipient.message_id.in_([r[0] for r in rows]), Recipient.kind == "to")
            .order_by(Recipient.id)
        )
        for message_id, email in found.all():
            to.setdefault(message_id, []).append(email)
    return [
        (inbox_item(SANDBOX, i, at, i, size, from_email, to.get(i, []), subject, tags), head)
        for i, at, subject, tags, from_email, size, head in rows
    ]


async def list_inbox(
    db: AsyncSession, account_id: str, query: str = "", cursor: str | None = None, limit: int = 50
) -> tuple[list[InboxItem], str | None]:
    """One page of the account's inbox, newest first, and the cursor of the next."""
    after = _Cursor.decode(cursor) if cursor else None
    may_send = await _may_send_from(db, account_id, query)
    found = await _captured(db, account_id, query, after, limit + 1, may_send)
    found += await _sandbox(db, account_id, query, after, limit + 1, may_send)
    found.sort(key=lambda f: _order(f[0]), reverse=True)
    page = [with_from_header(item, head) for item, head in found[:limit]]
    return page, (_Cursor.encode(page[-1]) if len(found) > limit else None)


def _order(item: InboxItem) -> tuple[datetime, int, int | str]:
    return (item.at, _RANK[item.kind], int(item.ref) if item.kind == CAPTURED else item.ref)


async def inbox_captured(
    db: AsyncSession, account_ids: Sequence[str], captured_id: int
) -> CapturedMessage:
    """A captured copy of a message of one of ``account_ids``; else :class:`NotFound`."""
    found = await db.get(CapturedMessage, captured_id)
    if found is None or found.account_id is None or found.account_id not in account_ids:
        raise NotFound("no such message in the inbox")
    return found


async def inbox_sandbox(db: AsyncSession, account_ids: Sequence[str], message_id: str) -> Message:
    """A sandbox message of one of ``account_ids`` whose source is kept; else
    :class:`NotFound`."""
    found = await db.get(Message, message_id) if len(message_id) <= 40 else None
    if found is None or not found.sandbox or found.account_id not in account_ids:
        raise NotFound("no such message in the inbox")
    if found.body_pruned_at is not None:
        raise NotFound("no such message in the inbox: its source was pruned")
    return found


async def has_sandbox_messages(db: AsyncSession, account_ids: Sequence[str]) -> bool:
    """Whether any of ``account_ids`` ever sent a sandbox message."""
    if not account_ids:
        return False
    query = select(Message.id).where(Message.account_id.in_(account_ids), Message.sandbox == true())
    return (await db.execute(query.limit(1))).first() is not None


async def clear_inbox(db: AsyncSession, account_id: str, now: datetime) -> int:
    """Empty the account's inbox (see the module docstring); the captured copies deleted."""
    deleted = await db.execute(
        delete(CapturedMessage).where(CapturedMessage.account_id == account_id)
    )
    account = await db.get(Account, account_id)
    if account is not None:
        account.inbox_cleared_at = now
    count: int = getattr(deleted, "rowcount", 0) or 0
    return count
