"""The outcome journal: what a killed worker got from SMTP but had not committed is
recorded from its journal, once, instead of being sent again."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_queue.delivery import deliver_messages
from herald_queue.delivery_store import Outcomes, Started, Tried
from herald_queue.journal import Entry, OutcomeJournal, adopt_orphans, read_entries
from herald_queue.smtp import Reply
from herald_service.storage.models import DeliveryAttempt, Event, Recipient
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald


async def _send(api: AsyncTestClient[Any], headers: dict[str, str], to: list[str]) -> str:
    response = await api.post(
        "/v1/messages",
        headers=headers,
        json={"from": "app@sender.example", "to": to, "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _killed_after_journalling(
    directory: Path, unit: Outcomes | None = None, held: Started | None = None
) -> None:
    """Leave the journal of a worker killed after it started ``held`` or got ``unit``'s
    SMTP reply."""
    journal = OutcomeJournal(directory)
    if held is not None:
        segment = journal.hold(held.token, [r.id for r in held.recipients], 1)
    if unit is not None:
        segment = journal.append(unit)
    child = subprocess.Popen(["true"])  # a process id that is gone
    child.wait()
    os.rename(segment.path, directory / f"{child.pid}-{secrets.token_hex(3)}.journal")
    os.close(segment.fd)  # the kill closes it, which releases its lock


async def _counts(herald: Herald, message_id: str) -> tuple[int, int]:
    """(delivery attempts, message.delivered events) of ``message_id``."""
    async with herald.runtime.sessions() as session:
        attempts = (
            await session.execute(
                select(func.count())
                .select_from(DeliveryAttempt)
                .join(Recipient, Recipient.id == DeliveryAttempt.recipient_id)
                .where(Recipient.message_id == message_id)
            )
        ).scalar_one()
        delivered = (
            await session.execute(
                select(func.count()).where(
                    Event.message_id == message_id, Event.type == "message.delivered"
                )
            )
        ).scalar_one()
    return int(attempts), int(delivered)


async def test_a_dead_workers_journal_is_recorded_once_and_removed(
    herald: Herald, api: AsyncTestClient[Any], tmp_path: Path
) -> None:
    tenant = await herald.create_tenant()
    message_id = await _send(api, tenant.headers, ["a@receiver.example", "b@receiver.example"])
    herald.empty_queue()
    (started,) = await herald.runtime.starts.submit_many([message_id])
    assert started is not None
    # The SMTP server accepted both; the worker journalled that and was killed.
    results = {
        r.email: Tried(Reply(250, "2.0.0 queued"), "mx", "127.0.0.2") for r in started.recipients
    }
    directory = tmp_path / "journal"
    unit = Outcomes(started.message, started.recipients, results, started.token)
    _killed_after_journalling(directory, unit)

    begin, settings = herald.runtime.sessions.begin, herald.settings
    assert await adopt_orphans(directory, begin, settings) == 2  # both recipients
    assert await herald.recipients(message_id) == {
        "a@receiver.example": "delivered",
        "b@receiver.example": "delivered",
    }
    assert await _counts(herald, message_id) == (2, 2)
    assert list(directory.iterdir()) == []
    assert herald.sweep() == 0  # nothing left under lease to hand out again

    # Replaying outcomes that are already recorded changes nothing.
    _killed_after_journalling(directory, unit)
    assert await adopt_orphans(directory, begin, settings) == 0
    assert await _counts(herald, message_id) == (2, 2)
    assert list(directory.iterdir()) == []


async def test_a_live_workers_journal_is_left_alone_and_emptied_as_outcomes_commit(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message_id = await _send(api, tenant.headers, ["c@receiver.example"])
    herald.empty_queue()
    journal = herald.runtime.journal
    (started,) = await herald.runtime.starts.submit_many([message_id])
    assert started is not None
    results = {started.recipients[0].email: Tried(Reply(250, "ok"))}
    pending = journal.append(Outcomes(started.message, started.recipients, results, "t"))
    # This process is alive: its segment is not an orphan, whatever its age.
    begin, settings = herald.runtime.sessions.begin, herald.settings
    assert await adopt_orphans(journal.directory, begin, settings) == 0
    assert pending.path.exists()
    journal.committed(pending)

    other = await _send(api, tenant.headers, ["d@receiver.example"])
    herald.empty_queue()
    await deliver_messages(herald.runtime, [other])
    assert await herald.recipients(other) == {"d@receiver.example": "delivered"}
    assert len(mx.messages) == 1
    # The first start, ours, then the delivery's start and outcome.
    assert [len(read_entries(p.read_bytes())) for p in journal.directory.iterdir()] == [4]
    journal.close()
    assert list(journal.directory.iterdir()) == []


async def test_a_dead_workers_unfinished_recipients_are_handed_back_at_once(
    herald: Herald, api: AsyncTestClient[Any], tmp_path: Path
) -> None:
    tenant = await herald.create_tenant()
    done = await _send(api, tenant.headers, ["e@receiver.example"])
    waiting = await _send(api, tenant.headers, ["f@receiver.example"])
    herald.empty_queue()
    first, second = await herald.runtime.starts.submit_many([done, waiting])
    assert first is not None and second is not None
    assert herald.sweep() == 0  # both under lease (30 s)
    results = {first.recipients[0].email: Tried(Reply(250, "ok"))}
    directory = tmp_path / "journal"
    # Killed once the first was accepted, while the second waited for a connection.
    _killed_after_journalling(directory, held=first)
    _killed_after_journalling(directory, held=second)
    _killed_after_journalling(
        directory, Outcomes(first.message, first.recipients, results, first.token)
    )

    begin, settings = herald.runtime.sessions.begin, herald.settings
    assert await adopt_orphans(directory, begin, settings) == 1
    assert await herald.recipients(done) == {"e@receiver.example": "delivered"}
    assert await herald.recipients(waiting) == {"f@receiver.example": "queued"}
    assert herald.queued_message_ids() == []
    assert herald.sweep() == 1  # due now, not when the lease would have run out
    assert herald.queued_message_ids() == [waiting]


def test_a_record_cut_short_by_the_kill_is_left_out(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from herald_queue.delivery_store import Claimed, Job

    journal = OutcomeJournal(tmp_path)
    job = Job("msg_1", "acc_1", datetime.now(UTC), b"", "")
    claimed = [Claimed(1, "e@receiver.example", "receiver.example", 0)]
    unit = Outcomes(job, claimed, {"e@receiver.example": Tried(Reply(250, "ok"))}, "tok")
    segment = journal.append(unit)
    journal.append(unit)
    data = segment.path.read_bytes()
    assert [e.message_id for e in read_entries(data) if isinstance(e, Entry)] == ["msg_1"] * 2
    assert len(read_entries(data[:-3])) == 1
    assert read_entries(data[:2]) == []
    journal.close()
