"""Prometheus metrics: process counters plus gauges read from Redis and the database.

Counters live in each process. With several API processes, set ``PROMETHEUS_MULTIPROC_DIR``
(see prometheus-client's multiprocess mode) so a scrape sums them; the gauges are read at
scrape time from the shared stores and are the same whichever process answers.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)

MESSAGES_ACCEPTED = Counter(
    "herald_messages_accepted_total", "Messages accepted by the API.", ["sandbox"]
)
RECIPIENTS_ACCEPTED = Counter(
    "herald_recipients_accepted_total", "Recipients of accepted messages."
)
REQUESTS_SHED = Counter(
    "herald_requests_shed_total", "Requests answered 503 because the API process was full."
)
SUBMISSION_MESSAGES = Counter(
    "herald_submission_messages_total",
    "Messages submitted over SMTP, by outcome (accepted, refused).",
    ["outcome"],
)
SUBMISSION_SESSIONS = Gauge(
    "herald_submission_sessions",
    "Open SMTP submission sessions.",
    multiprocess_mode="livesum",
)
SUBMISSION_AUTH_FAILURES = Counter(
    "herald_submission_auth_failures_total", "SMTP AUTH attempts refused for bad credentials."
)
SUBMISSION_LOCKOUTS = Counter(
    "herald_submission_lockouts_total",
    "Client addresses locked out of SMTP AUTH after repeated failures.",
)
QUEUE_JOBS = Gauge(
    "herald_queue_jobs", "Jobs waiting in a queue.", ["queue"], multiprocess_mode="liveall"
)
STATS_TODAY = Gauge(
    "herald_stats_today",
    "Today's (UTC) stats counters per account, as GET /v1/stats counts them.",
    ["account", "counter"],
    multiprocess_mode="liveall",
)
DOMAINS_PAUSED = Gauge(
    "herald_domains_paused",
    "Sending domains the reputation guard has paused, per account.",
    ["account"],
    multiprocess_mode="liveall",
)
IP_LISTED = Gauge(
    "herald_ip_listed",
    "1 while a DNSBL zone lists the sending IP, 0 while it does not (unknown: absent).",
    ["ip", "zone"],
    multiprocess_mode="liveall",
)
RECIPIENTS_PENDING = Gauge(
    "herald_recipients_pending",
    "Recipients not yet final, by status.",
    ["status"],
    multiprocess_mode="liveall",
)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
