"""Everything a worker process does periodically beside its jobs, and how often.

Every duty runs on the process's :class:`~herald_queue.scheduler.Scheduler`, which
starts with the runtime's event loop (see :mod:`herald_queue.runtime`):

- adopt the journals of dead workers: every worker, every third of HERALD_DELIVERY_LEASE;
- renew this worker's delivery leases: every worker, every third of HERALD_DELIVERY_LEASE;
- sweep due recipients onto the delivery queue: ``herald worker``, every
  HERALD_SWEEP_INTERVAL;
- re-check sending domains: ``herald worker`` outside capture mode, every
  min(30 s, HERALD_DOMAIN_CHECK_INTERVAL);
- re-read the running destination cool-downs: ``herald worker`` outside capture mode,
  every 5 s;
- re-read the destinations whose rate is halved (traffic shaping): ``herald worker``
  outside capture mode, every 5 s;
- check the sending IPs on the DNSBL zones: ``herald worker`` outside capture mode when
  zones and IPs are set, every min(1 min, HERALD_DNSBL_INTERVAL);
- prune data past its retention age: ``herald worker``, every HERALD_RETENTION_INTERVAL
  (not at all when it is 0), the first round one interval (at most a minute) after start;
- dispatch due webhook deliveries: ``herald webhooks-worker``, every HERALD_SWEEP_INTERVAL.

Each is safe to run in many processes at once: the database claims (conditional
UPDATEs, lease tokens) give every due row to one of them.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from herald_queue.blocklist_checker import Rotation, blocklist_poll, check_and_rotate
from herald_queue.domain_checker import check_due_domains, recheck_poll
from herald_queue.journal import adopt_orphans
from herald_queue.scheduler import Duty
from herald_queue.shaping import REFRESH_SECONDS as SHAPING_REFRESH
from herald_queue.sweeper import sweep_due
from herald_queue.webhook_dispatch import WebhookQueue, dispatch_due
from herald_service.delivery_queue import DeliveryQueue
from herald_service.reputation.cooldowns import REFRESH_SECONDS
from herald_service.retention.service import prune_round

if TYPE_CHECKING:
    from herald_queue.runtime import WorkerRuntime


def runtime_duties(runtime: WorkerRuntime) -> list[Duty]:
    """What keeps deliveries crash-safe, in every process with a runtime.

    Journals that dead processes left behind are recorded at once and then every beat;
    this process's leases are renewed from one beat after the start.
    """
    beat = runtime.leases.interval
    adopt = partial(adopt_orphans, runtime.journal.directory, runtime.sessions.begin)
    return [
        Duty("recording a dead worker's journal", beat, partial(adopt, runtime.settings)),
        Duty("renewing delivery leases", beat, runtime.leases.beat, first_after=beat),
    ]


def delivery_worker_duties(runtime: WorkerRuntime, queue: DeliveryQueue) -> list[Duty]:
    """The sweep that hands due work to ``queue``, the domain re-check, the blocklist
    checks and retention.

    Retention runs on the loop (its batches await the database between deliveries), not
    on the duty thread, where a long round would hold up the sweep.
    """
    settings = runtime.settings
    sweep = partial(sweep_due, runtime.sync_sessions, queue)
    duties = [Duty("sweep", settings.sweep_interval, sweep, blocking=True)]
    if settings.delivery_mode != "capture":  # captured mail never meets real DNS or MXs
        recheck = partial(check_due_domains, runtime.sessions, settings)
        duties.append(Duty("domain re-check", recheck_poll(settings), recheck))
        refresh = partial(runtime.cooldowns.refresh, runtime.sessions)
        duties.append(Duty("destination cool-downs", REFRESH_SECONDS, refresh))
        if (poll := blocklist_poll(settings)) is not None:
            rotation = Rotation()
            if runtime.source_ips is not None:  # listed IPs leave this worker's rotation
                runtime.source_ips.excluded = rotation
            blocklists = partial(check_and_rotate, runtime.sessions, settings, rotation)
            duties.append(Duty("blocklist checks", poll, blocklists))
    if runtime.shaper is not None:
        halvings = Duty("halved destinations", SHAPING_REFRESH, runtime.shaper.refresh)
        duties.append(halvings)
    if (every := settings.retention_interval) > 0:
        prune = partial(prune_round, runtime.sessions, settings)
        duties.append(Duty("retention", every, prune, first_after=min(every, 60.0)))
    return duties


def webhook_worker_duties(runtime: WorkerRuntime, queue: WebhookQueue) -> list[Duty]:
    """The dispatch that hands due webhook deliveries to ``queue``."""
    settings = runtime.settings
    lease = timedelta(seconds=settings.webhook_lease)
    dispatch = partial(dispatch_due, runtime.sync_sessions, queue, lease)
    return [Duty("webhook dispatch", settings.sweep_interval, dispatch, blocking=True)]
