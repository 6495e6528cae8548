"""The findings of ``messages.check``: what would go wrong with a message, unsent."""

from __future__ import annotations

import msgspec

__all__ = ["CheckFinding", "CheckSummary", "MessageCheck"]


class CheckFinding(msgspec.Struct, frozen=True, kw_only=True):
    """One problem or piece of advice. ``severity`` is ``error`` (refused, or reaches
    nobody as meant), ``warning`` (likely punished by providers or readers) or ``info``;
    ``field`` is the send argument concerned (``html``, ``subject``, ``from``...) and
    ``location`` where in it (``line 3, column 5`` for HTML)."""

    check: str
    severity: str
    field: str
    message: str
    location: str = ""


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The counts by severity; ``ok`` when there is no error."""

    ok: bool
    errors: int
    warnings: int
    info: int


class MessageCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of ``messages.check``: nothing was stored or sent.

    ``size`` is the built message in bytes (before DKIM signatures), ``size_limit`` what
    mailbox providers commonly accept; ``spam_score`` is set when the server has a spamd.
    """

    summary: CheckSummary
    size: int
    size_limit: int
    findings: list[CheckFinding] = msgspec.field(default_factory=list)
    spam_score: float | None = None

    @property
    def ok(self) -> bool:
        """No finding is an error."""
        return self.summary.ok

    def errors(self) -> list[CheckFinding]:
        """The findings of severity ``error``."""
        return [f for f in self.findings if f.severity == "error"]
