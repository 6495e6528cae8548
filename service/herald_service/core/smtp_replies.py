"""Classify SMTP replies into delivered, deferred or bounced (RFC 5321, RFC 3463)."""

from __future__ import annotations

import re
from enum import StrEnum

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")

# Permanent codes that mean "try later" in practice: mailbox full (RFC 3463 X.2.2), and
# system-wide storage exhaustion (X.3.1). Providers send them with 5xx but they clear up.
SOFT_ENHANCED = frozenset({"5.2.2", "5.3.1"})

# "530 Authentication required" (RFC 4954): a relay wants credentials Herald did not offer.
# The operator's configuration is at fault, not the recipient, so the mail waits for a fix.
AUTHENTICATION_REQUIRED = 530


class Outcome(StrEnum):
    """What one attempt means for one recipient."""

    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"


def enhanced_code(text: str) -> str:
    """The RFC 3463 status code at the start of a reply text, or ``""``."""
    match = _ENHANCED.match(text)
    return ".".join(match.groups()) if match else ""


def classify(code: int | None, text: str = "") -> Outcome:
    """Outcome of a reply; ``None`` (no reply: timeout, dropped connection) is deferred."""
    if code is None:
        return Outcome.DEFERRED
    if 200 <= code < 300:
        return Outcome.DELIVERED
    if code == AUTHENTICATION_REQUIRED:
        return Outcome.DEFERRED
    if 500 <= code < 600 and enhanced_code(text) not in SOFT_ENHANCED:
        return Outcome.BOUNCED
    return Outcome.DEFERRED
