"""What a send answers, and the ``Idempotency-Key`` that lets a retry get the same answer."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from herald_service.messages import idempotency
from herald_service.messages.store import StoredMessage


class SendOutcome(msgspec.Struct, frozen=True):
    """The answer to a send: fresh, or replayed from an earlier identical request."""

    status_code: int
    body: bytes
    replayed: bool = False


Answer = Callable[[list[StoredMessage]], SendOutcome]
"""The answer to a request whose messages are these."""


class IdempotencyKey(msgspec.Struct, frozen=True):
    """An ``Idempotency-Key`` and the fingerprint of the request that came with it."""

    key: str
    fingerprint: str

    @staticmethod
    def of(key: str | None, path: str, body: object) -> IdempotencyKey | None:
        """The checked key (422 if malformed) for a POST of ``body`` to ``path``."""
        if key is None:
            return None
        checked = idempotency.check_key(key)
        return IdempotencyKey(checked, idempotency.request_fingerprint("POST", path, body))
