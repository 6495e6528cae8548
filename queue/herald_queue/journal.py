"""A local journal of SMTP outcomes, so a killed worker's deliveries are not sent twice.

An outcome reaches the database a few tens of milliseconds after the SMTP reply (it waits
for the outcome window and a shared transaction). A worker killed in between used to leave
recipients the server had accepted under lease, to be sent again once the lease ran out.
Now each outcome is also appended to a file on local disk the moment it arrives (one
``write`` of a few hundred bytes, no fsync: the page cache survives the death of the
process, which is the failure this is for, not of the machine), and so are the
recipients each start leased, before its transaction commits.

Each worker process writes its own segments (``<pid>-<random>.journal``), holding an exclusive
``flock`` on them, and deletes a segment once every outcome in it is committed. Any worker
on the same host (a restarted one at start-up, the others every heartbeat) adopts the
segments of a dead process, records their outcomes with the lease check as usual
(outcomes already committed, or whose lease moved on, change nothing), and makes the
recipients the dead process held but had no outcome for due at once, so the sweeper hands
them out again within a second instead of when their lease runs out.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import struct
import tempfile
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.delivery_store import Claimed, Job, Outcomes, Tried, record_many
from herald_queue.leases import renew_leases
from herald_service.settings import Settings

SEGMENT_BYTES = 1 << 20  # start a new segment beyond this size
REPLAY_BATCH = 200
_LENGTH = struct.Struct(">I")

log = logging.getLogger(__name__)


class Entry(msgspec.Struct, tag="outcome", array_like=True, frozen=True):
    """One outcome unit, as much of it as recording it needs."""

    message_id: str
    account_id: str
    created_at: datetime
    token: str
    recipients: list[Claimed]
    results: dict[str, Tried]
    domain: str = ""
    """The message's sending domain and tags, for its stats (absent from older journals)."""
    tags: tuple[str, ...] = ()


class Held(msgspec.Struct, tag="held", array_like=True, frozen=True):
    """Recipients a delivery leased (under ``token``) and started on."""

    token: str
    recipient_ids: list[int]


Record = Entry | Held


def journal_directory(settings: Settings) -> Path:
    """``HERALD_OUTCOME_JOURNAL_DIR``, or one under the temp directory per database."""
    if settings.outcome_journal_dir:
        return Path(settings.outcome_journal_dir)
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"herald-outcomes-{digest}"


class Segment:
    """One journal file this process writes, and how many of its outcomes are pending."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.size = 0
        self.pending = 0

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self.fd)


class OutcomeJournal:
    """Appends this process's outcomes; removes each segment once all of it is committed."""

    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory = directory
        self._segment_bytes = segment_bytes
        self._encode = msgspec.msgpack.Encoder().encode
        self._current: Segment | None = None
        self._holds: dict[str, tuple[Segment, int]] = {}

    def append(self, unit: Outcomes) -> Segment:
        """Write ``unit`` down; pass the result to :meth:`committed` once it is recorded."""
        job = unit.message
        return self._write(
            Entry(
                job.id,
                job.account_id,
                job.created_at,
                unit.token,
                unit.recipients,
                unit.results,
                job.domain,
                job.tags,
            )
        )

    def hold(self, token: str, recipient_ids: list[int], deliveries: int) -> Segment:
        """Write down the recipients a start leased under ``token`` for ``deliveries``
        deliveries (before its transaction commits, so no kill finds them unwritten);
        call :meth:`delivery_ended` as each of them ends."""
        segment = self._write(Held(token, recipient_ids))
        self._holds[token] = (segment, deliveries)
        return segment

    def delivery_ended(self, token: str) -> None:
        """One delivery of the start ``token`` has ended."""
        held = self._holds.pop(token, None)
        if held is None:
            return
        segment, deliveries = held
        if deliveries > 1:
            self._holds[token] = (segment, deliveries - 1)
        else:
            self.committed(segment)

    def void(self, token: str) -> None:
        """The start ``token`` did not commit: its hold is settled, no delivery follows."""
        held = self._holds.pop(token, None)
        if held is not None:
            self.committed(held[0])

    def _write(self, record: Record) -> Segment:
        segment = self._current
        if segment is None or segment.size >= self._segment_bytes:
            segment = self._rotate()
        data = self._encode(record)
        os.write(segment.fd, _LENGTH.pack(len(data)) + data)
        segment.size += _LENGTH.size + len(data)
        segment.pending += 1
        return segment

    def committed(self, segment: Segment) -> None:
        """What was written to ``segment`` is settled (recorded, failed for good, or the
        delivery ended)."""
        segment.pending -= 1
        if segment.pending == 0 and segment is not self._current:
            segment.remove()

    def _rotate(self) -> Segment:
        previous = self._current
        name = f"{os.getpid()}-{secrets.token_hex(6)}.journal"
        self._current = Segment(self.directory / name)
        if previous is not None and previous.pending == 0:
            previous.remove()
        return self._current

    def close(self) -> None:
        """Remove the current segment (call once every delivery has finished)."""
        if self._current is not None:
            self._current.remove()
            self._current = None


def _orphans(directory: Path) -> list[Path]:
    """The segments in ``directory`` whose writer process is gone."""
    orphans = []
    for path in sorted(directory.glob("*.journal")):
        pid_text = path.name.split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            orphans.append(path)
        except PermissionError:
            pass  # alive, another user's
    return orphans


def _take(path: Path) -> tuple[int, list[Record]] | None:
    """Lock an orphaned segment and read it; None if another worker has it (or had it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with os.fdopen(os.dup(fd), "rb") as file:
            return fd, read_entries(file.read())
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise


def read_entries(data: bytes) -> list[Record]:
    """The records of a segment; one cut short by the kill is left out."""
    decode = msgspec.msgpack.Decoder(Record).decode
    entries: list[Record] = []
    offset = 0
    while offset + _LENGTH.size <= len(data):
        (length,) = _LENGTH.unpack_from(data, offset)
        end = offset + _LENGTH.size + length
        if end > len(data):
            break
        entries.append(decode(data[offset + _LENGTH.size : end]))
        offset = end
    return entries


async def adopt_orphans(
    directory: Path,
    begin: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    settings: Settings,
) -> int:
    """Take over the journals of dead worker processes: record the outcomes they had not
    committed, and hand their other recipients back at once (a dead process sends
    nothing, so its leases need not run out). How many outcomes were recorded."""
    recorded = 0
    for path in _orphans(directory):
        taken = _take(path)
        if taken is None:
            continue
        fd, records = taken
        try:
            found, released = await _settle(records, begin, settings)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        finally:
            os.close(fd)
        recorded += found
        log.warning(
            "took over the journal of a worker that died (%s): %d outcomes not yet recorded, "
            "%d recipients handed back",
            path.name,
            found,
            released,
        )
    return recorded


async def _settle(
    records: list[Record],
    begin: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    settings: Settings,
) -> tuple[int, int]:
    outcomes = [_unit(r) for r in records if isinstance(r, Entry)]
    held: dict[str, set[int]] = {}
    for record in records:
        if isinstance(record, Held):
            held.setdefault(record.token, set()).update(record.recipient_ids)
    found = 0
    for start in range(0, len(outcomes), REPLAY_BATCH):
        async with begin() as session:
            units = outcomes[start : start + REPLAY_BATCH]
            found += sum(await record_many(session, settings, units, replay=True))
    released = 0
    if held:
        async with begin() as session:
            released = await renew_leases(session, held, timedelta(0))  # due now
    return found, released


def _unit(entry: Entry) -> Outcomes:
    job = Job(
        entry.message_id,
        entry.account_id,
        entry.created_at,
        b"",
        "",
        domain=entry.domain,
        tags=entry.tags,
    )
    return Outcomes(job, entry.recipients, entry.results, entry.token)
