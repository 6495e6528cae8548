"""The console's main navigation, in one table.

Adding a page to the console is a controller (mounted in ``routes.py``), a template whose
context sets ``page`` to the entry's key, one line here, and a browser test. The layout
(``base.html``) draws the nav from this table; an entry with a ``shown`` rule appears only
when the rule holds for the signed-in operator (or when it is the page being shown).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from herald_service.console.web import Operator


def _always(_operator: Operator) -> bool:
    return True


class Section(NamedTuple):
    """One entry of the main navigation."""

    key: str  # the ``page`` value of the section's templates, for aria-current
    label: str
    path: str
    shown: Callable[[Operator], bool] = _always


NAVIGATION: tuple[Section, ...] = (
    Section("overview", "Overview", "/console/overview"),
    Section("activity", "Activity", "/console"),
    Section("stats", "Stats", "/console/stats"),
    Section("queue", "Queue", "/console/queue"),
    Section("scheduled", "Scheduled", "/console/scheduled"),
    Section("suppressions", "Suppressions", "/console/suppressions"),
    Section("templates", "Templates", "/console/templates"),
    Section("domains", "Domains", "/console/domains"),
    Section("keys", "API keys", "/console/keys"),
    Section("webhooks", "Webhooks", "/console/webhooks"),
    Section("smtp", "SMTP", "/console/smtp"),
    Section("ip-pools", "IP pools", "/console/ip-pools"),
    Section("blocklists", "Blocklists", "/console/blocklists"),
    Section("inbox", "Inbox", "/console/inbox", lambda operator: operator.inbox),
)
