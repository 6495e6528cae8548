"""SMTP replies for what the submission server refuses, and for Herald's errors.

A refusal names its reason with an RFC 3463 enhanced status code, so a client (and the
person reading its log) can tell a wrong key (535 5.7.8) from a From on a domain the key
may not use (553 5.7.1) or a quota to wait for (451 4.7.1, retried by the client).
"""

from __future__ import annotations

from herald_service.errors import HeraldError

_TEXT_LIMIT = 400


class Refusal(Exception):
    """An SMTP reply refusing a command: ``code enhanced text``."""

    def __init__(self, code: int, enhanced: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.enhanced = enhanced
        self.text = " ".join(text.split())[:_TEXT_LIMIT]  # one line, never a CR or LF

    @property
    def reply(self) -> str:
        """The reply line as sent."""
        return f"{self.code} {self.enhanced} {self.text}"

    @property
    def permanent(self) -> bool:
        """Whether the client should give up (5xx) rather than retry later (4xx)."""
        return self.code >= 500


AUTH_REQUIRED = Refusal(530, "5.7.0", "Authentication required")
AUTH_FAILED = Refusal(535, "5.7.8", "Authentication credentials invalid")
LOCKED_OUT = Refusal(421, "4.7.0", "Too many failed authentications; try again later")
TRY_AGAIN = Refusal(451, "4.3.0", "Temporary failure; please try again later")
# RFC 4954's answer when the key cannot be checked now (the database is unavailable).
AUTH_UNAVAILABLE = Refusal(454, "4.7.0", "Temporary authentication failure; try again later")


def refusal_of(error: HeraldError) -> Refusal:
    """The reply for an error the send pipeline raised (the HTTP API answers it with the
    same status as a problem document), naming the fields it names."""
    named = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
    detail = named or error.detail
    sender = any(e.field == "from" for e in error.errors)
    if error.status == 401:
        return AUTH_FAILED
    if error.status == 403 or sender:
        return Refusal(553 if sender else 550, "5.7.1", detail)
    if error.status == 413:
        return Refusal(552, "5.3.4", detail)
    if error.status == 429:
        return Refusal(451, "4.7.1", detail)
    if 400 <= error.status < 500:
        return Refusal(550, "5.6.0", detail)
    return TRY_AGAIN
