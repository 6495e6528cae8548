"""The database side of delivery, set-based: start many messages, record many outcomes.

Both functions take the items of many concurrent deliveries (gathered by a
:class:`~herald_service.storage.batched_writes.BatchedWriter`) and handle them with a few
statements in the caller's transaction, whatever their number:

* :func:`start_many` (:mod:`herald_queue.delivery_starts`): lease every ready recipient,
  load the messages, drop suppressed recipients.
* :func:`record_many` (:mod:`herald_queue.delivery_outcomes`): store each attempt and,
  while the delivery's lease still holds, the recipient's new status, event, retry time
  and any suppression, as the delivery judgement
  (:mod:`herald_service.core.delivery_judgement`) decides.

The values they exchange with the worker and its journal are in
:mod:`herald_queue.delivery_values`. This module is the one place the rest of the worker
imports them from.
"""

from __future__ import annotations

from herald_queue.delivery_outcomes import record_many
from herald_queue.delivery_starts import start_many
from herald_queue.delivery_values import Claimed, Job, Outcomes, Started, Tried

__all__ = ["Claimed", "Job", "Outcomes", "Started", "Tried", "record_many", "start_many"]
