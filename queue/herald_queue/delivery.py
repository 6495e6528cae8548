"""Deliver messages: lease their ready recipients, route per domain, send, record.

start (lease → load → drop suppressed) → route (MX + MTA-STS / relay / capture; in ``mx``
mode ``HERALD_RELAY_ROUTES`` may send some recipient or sending domains to the relay) → SMTP
transaction(s) of at most 50 recipients (from the IPs of the message's pool with
``HERALD_SENDING_IPS``: :mod:`herald_queue.source_ips`) → record outcomes. Starts and outcomes of
concurrent deliveries are written together, set-based (:mod:`herald_queue.delivery_store`).
Delivery is at-least-once: a recipient is leased before it is tried, a duplicate job finds
nothing to lease, the worker's heartbeat renews the lease while the delivery lasts, and a
crashed worker's lease simply runs out. A recipient's outcome is recorded only while its
lease token still matches, so a recipient that reached a final state is never sent again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Coroutine, Iterable, Sequence
from datetime import datetime
from typing import Any

from herald_queue.delivery_store import Claimed, Job, Outcomes, Started, Tried
from herald_queue.mx import MailHost, Route
from herald_queue.outages import until_written
from herald_queue.relay import Plan
from herald_queue.runtime import WorkerRuntime
from herald_queue.shaping import announce_throttle
from herald_queue.smtp import RECIPIENTS_PER_TRANSACTION, Destination, Reply
from herald_queue.source_ips import Source
from herald_service.core.smtp_replies import enhanced_code
from herald_service.mail.return_path import verp_address

__all__ = ["Plan", "deliver_group", "deliver_message", "deliver_messages", "plan_for"]


async def plan_for(runtime: WorkerRuntime, domain: str, sender_domain: str = "") -> Plan:
    """Where mail for ``domain`` (lower case) from ``sender_domain`` goes in the configured
    delivery mode, and how."""
    settings = runtime.settings
    if settings.delivery_mode == "capture":
        host = MailHost("capture-inbox", (settings.capture_host,))
        return Plan(Route(hosts=(host,)), settings.capture_port)
    if settings.delivery_mode == "relay":
        return runtime.relay_plan
    routes = runtime.relay_routes
    if routes is not None and routes.takes(domain, sender_domain.lower()):
        return runtime.relay_plan
    route = await runtime.routes.route(domain)
    if not route.hosts:
        return Plan(route, settings.smtp_port)
    policy = await runtime.mta_sts.policy(domain)
    if policy is None or not policy.enforced:
        return Plan(route, settings.smtp_port)
    allowed = tuple(h for h in route.hosts if policy.allows(h.name))
    if not allowed:
        error = f"no MX host of {domain} is listed in its MTA-STS policy"
        return Plan(Route(temporary_error=error, enhanced_code="4.7.5"), settings.smtp_port)
    return Plan(Route(hosts=allowed), settings.smtp_port, require_verified_tls=True)


def cooling_plan(rcpt_domain: str, sender_domain: str, until: datetime) -> Plan:
    """The plan while ``rcpt_domain`` cools down for ``sender_domain``: nothing is sent,
    the recipients wait (deferred) with the reason."""
    error = (
        f"held: {rcpt_domain} refused mail from {sender_domain} as a policy block several "
        f"times; its mail to {rcpt_domain} waits until {until:%Y-%m-%d %H:%M:%S} UTC"
    )
    return Plan(Route(temporary_error=error, enhanced_code="4.7.1"), 25)


async def deliver_group(
    runtime: WorkerRuntime,
    plan: Plan,
    mail_from: str,
    emails: list[str],
    raw: bytes,
    reuse_limit: int | None = None,
    source: Source | None = None,
) -> dict[str, Tried]:
    """Try the route's hosts (and each host's addresses) in order until every recipient
    has a real answer; a host that cannot be reached or says 421 passes them on.
    ``reuse_limit``: messages per connection (traffic shaping); ``source``: the local
    address (and EHLO name) to connect from (sending IPs)."""
    route = plan.route
    if route.permanent_error or route.temporary_error:
        code = 550 if route.permanent_error else None
        text = route.permanent_error or route.temporary_error
        return {e: Tried(Reply(code, text), enhanced_code=route.enhanced_code) for e in emails}
    results: dict[str, Tried] = {}
    pending = list(emails)
    for host in route.hosts:
        for address in host.addresses:
            destination = Destination(
                address,
                plan.port,
                host.name,
                plan.require_verified_tls,
                plan.implicit_tls,
                plan.credentials,
                *((source.address, source.ehlo) if source else ()),
            )
            # A stop past its timeout interrupts the transaction, unless an earlier host
            # has already answered for some recipients (their replies must be recorded).
            with runtime.interrupts.transaction(interruptible=len(pending) == len(emails)):
                outcome = await runtime.smtp.send(destination, mail_from, pending, raw, reuse_limit)
            for email, reply in outcome.replies.items():
                results[email] = Tried(
                    reply,
                    host.name,
                    address,
                    outcome.tls,
                    outcome.tls_verified,
                    enhanced_code(reply.text),
                    source.address if source else "",
                )
            pending = [e for e in pending if results[e].reply.code in (None, 421)]
            if not pending:
                return results
    return results


async def deliver_message(runtime: WorkerRuntime, message_id: str) -> None:
    """Deliver every ready recipient of one message, grouped by recipient domain.

    The start (lease the recipients, load the message, drop suppressed recipients) and
    each SMTP transaction's outcome are written together with those of other concurrent
    deliveries (``runtime.starts`` / ``runtime.outcomes``); SMTP runs outside any
    transaction. Both wait out a database outage (:mod:`herald_queue.outages`).
    """
    started = await until_written(
        lambda: runtime.starts.submit(message_id),
        "starting deliveries",
        runtime.stopping.is_set,
        otherwise=None,
    )
    if started is None:
        return
    held = [r.id for r in started.recipients]
    runtime.leases.hold(started.token, held)
    try:
        await _deliver_started(runtime, started)
    finally:
        runtime.leases.release(started.token, held)
        runtime.journal.delivery_ended(started.token)


async def _deliver_started(runtime: WorkerRuntime, started: Started) -> None:
    """Route, send and record the recipients ``started`` leased."""
    message, token = started.message, started.token
    secret_key = runtime.settings.require_secret_key()
    by_domain: dict[str, list[Claimed]] = defaultdict(list)
    for recipient in started.recipients:
        by_domain[recipient.domain.lower()].append(recipient)

    async def one_batch(plan: Plan, batch: list[Claimed], rcpt_domain: str) -> None:
        recipient_id = batch[0].id if len(batch) == 1 else 0
        mail_from = verp_address(secret_key, message.id, recipient_id, message.return_path_host)
        emails = [r.email for r in batch]
        pooled = runtime.source_ips is not None and _binds_source(runtime, plan)

        def send(reuse: int | None = None) -> Awaitable[dict[str, Tried]]:
            if pooled:  # HERALD_SENDING_IPS: from the IPs of the message's pool
                return _deliver_from_pool(runtime, plan, message, mail_from, emails, reuse)
            return deliver_group(runtime, plan, mail_from, emails, message.raw, reuse)

        shaper, hosts = runtime.shaper, [h.name for h in plan.route.hosts]
        budget = shaper.budget(rcpt_domain, hosts) if shaper is not None and hosts else None
        if shaper is None or budget is None:  # nothing limits the destination: no Redis call
            results = await send()
        else:
            results = await shaper.send(budget, emails, send)
        if shaper is not None and (throttle := await shaper.heard(rcpt_domain, hosts, results)):
            await announce_throttle(runtime.sessions, message, throttle)
        unit = Outcomes(message, batch, results, token)
        segment = runtime.journal.append(unit)  # on disk before the commit: see journal.py
        try:
            await until_written(
                lambda: runtime.outcomes.submit(unit), "recording outcomes", otherwise=0
            )
        finally:
            runtime.journal.committed(segment)

    async def one_domain(rcpt_domain: str, group: list[Claimed]) -> None:
        until = runtime.cooldowns.until(message.domain_id, rcpt_domain)
        if until is None:
            plan = await plan_for(runtime, rcpt_domain, message.domain)
        else:
            plan = cooling_plan(rcpt_domain, message.domain, until)
        size = RECIPIENTS_PER_TRANSACTION
        batches = [group[i : i + size] for i in range(0, len(group), size)]
        await _all(one_batch(plan, b, rcpt_domain) for b in batches)

    await _all(one_domain(d, g) for d, g in by_domain.items())


def _binds_source(runtime: WorkerRuntime, plan: Plan) -> bool:
    """Sending IPs apply to mail that goes to MX hosts (a relay picks its own)."""
    route = plan.route
    return plan is not runtime.relay_plan and bool(route.hosts) and not route.temporary_error


async def _deliver_from_pool(
    runtime: WorkerRuntime,
    plan: Plan,
    message: Job,
    mail_from: str,
    emails: list[str],
    reuse_limit: int | None,
) -> dict[str, Tried]:
    """Send ``emails`` from the IPs of the message's pool; what none may take today
    waits (deferred, with the reason) for the next day's allowance."""
    assert runtime.source_ips is not None
    share = await runtime.source_ips.assign(message.ip_pool, len(emails), hash(emails[0]))
    results: dict[str, Tried] = {}
    start = 0
    for source, count in share.parts:
        part = emails[start : start + count]
        start += count
        results.update(
            await deliver_group(runtime, plan, mail_from, part, message.raw, reuse_limit, source)
        )
    waiting = Tried(Reply(None, share.waiting), retry_after=share.retry_after)
    results.update(dict.fromkeys(emails[start:], waiting))
    return results


async def _all(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run ``coroutines`` concurrently; a lone one (the common case) without a task."""
    pending = list(coroutines)
    if len(pending) == 1:
        await pending[0]
    else:
        await asyncio.gather(*pending)


async def deliver_messages(runtime: WorkerRuntime, message_ids: Sequence[str]) -> None:
    """Deliver several messages at once (their starts and outcomes share statements)."""
    await _all(deliver_message(runtime, message_id) for message_id in dict.fromkeys(message_ids))
