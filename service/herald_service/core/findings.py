"""What a message check reports: one finding per problem, and how they add up.

A finding names the check that made it, how bad it is, the request field it concerns and
(for HTML) where in that field. ``error`` means the message would be refused or would
reach nobody as meant; ``warning`` that mailbox providers or readers are likely to punish
it; ``info`` is advice, or a check that did not run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


class CheckFinding(msgspec.Struct, frozen=True, kw_only=True):
    """One problem found in a message, or one piece of advice."""

    check: str
    severity: Severity
    field: str
    message: str
    location: str = ""


class CheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """How many findings of each severity; ``ok`` when there is no error."""

    ok: bool
    errors: int
    warnings: int
    info: int


def finding(
    check: str, severity: Severity, field: str, message: str, location: str = ""
) -> CheckFinding:
    """A finding (a short positional spelling for the rule tables)."""
    return CheckFinding(
        check=check, severity=severity, field=field, message=message, location=location
    )


def ordered(findings: Iterable[CheckFinding]) -> list[CheckFinding]:
    """Errors first, then warnings, then info; otherwise in the order they were found."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def summarize(findings: Iterable[CheckFinding]) -> CheckSummary:
    """The counts by severity."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for item in findings:
        counts[item.severity] += 1
    return CheckSummary(
        ok=counts["error"] == 0,
        errors=counts["error"],
        warnings=counts["warning"],
        info=counts["info"],
    )
