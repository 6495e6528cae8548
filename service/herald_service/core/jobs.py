"""The job contract between the API and the workers: each job's name and arguments.

rq stores a job as the dotted name of the function to call plus its positional
arguments, so a name here is a wire format, not a code reference: jobs written by one
release wait in Redis and run under the next. Never rename one; add a new job and keep
the old name working while jobs of its shape may still be queued.

``herald_service`` enqueues by these names and never imports ``herald_queue``;
``herald_queue.jobs`` defines one function per name with exactly these parameters
(``tests/unit/test_job_contract.py`` imports each name and checks). Jobs carry ids only:
what they act on stays in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import Struct


class JobContract(Struct, frozen=True):
    """One kind of job: the function rq imports, what it takes and where it is queued."""

    name: str
    """The dotted path rq imports and calls."""
    parameters: tuple[tuple[str, Any], ...]
    """``(name, type)`` of each positional argument, in order."""
    queue_setting: str
    """The setting naming the rq queue these jobs go to."""


DELIVER_MESSAGES = JobContract(
    "herald_queue.jobs.deliver_messages",
    (("message_ids", list[str]),),
    "HERALD_QUEUE_NAME",
)
"""Deliver every ready recipient of up to ``IDS_PER_JOB`` messages (the API's job)."""

DELIVER_MESSAGE = JobContract(
    "herald_queue.jobs.deliver_message",
    (("message_id", str),),
    "HERALD_QUEUE_NAME",
)
"""One message per job: nothing enqueues it any more, but jobs of this shape may still be
waiting from an earlier version."""

SEND_WEBHOOK = JobContract(
    "herald_queue.jobs.send_webhook",
    (("delivery_id", str), ("lease_token", str)),
    "HERALD_WEBHOOK_QUEUE_NAME",
)
"""One attempt at a webhook delivery, valid only while ``lease_token`` is its lease."""

JOBS = (DELIVER_MESSAGES, DELIVER_MESSAGE, SEND_WEBHOOK)


def job_message_ids(func_name: str, args: Sequence[object]) -> list[str]:
    """The message ids a delivery job carries (either delivery shape), else none."""
    if func_name == DELIVER_MESSAGES.name and args:
        return [str(message_id) for message_id in args[0]]  # type: ignore[attr-defined]
    if func_name == DELIVER_MESSAGE.name and args:
        return [str(args[0])]
    return []
