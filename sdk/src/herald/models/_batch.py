"""The answer to a batch send: one result per message, accepted or refused."""

from __future__ import annotations

from dataclasses import dataclass

from herald.models._common import Problem
from herald.models._messages import SendResult

__all__ = ["BatchResult"]


@dataclass(frozen=True, kw_only=True)  # not a Struct: its results are of two untagged kinds
class BatchResult:
    """What ``messages.send_batch`` returns: ``results[i]`` is the :class:`SendResult` of
    the ``i``-th message when it was accepted, or the :class:`Problem` that refused it
    (its ``errors`` name fields as ``messages[i].field``). One refused message does not
    stop the others."""

    accepted: int
    """How many messages were accepted (stored and queued)."""
    refused: int
    """How many were refused."""
    results: list[SendResult | Problem]
    """One per message sent, in the same order."""

    @property
    def sent(self) -> list[SendResult]:
        """The accepted messages' results, in order."""
        return [r for r in self.results if isinstance(r, SendResult)]

    @property
    def problems(self) -> dict[int, Problem]:
        """The refused messages' problems, by their position in the batch."""
        return {i: r for i, r in enumerate(self.results) if isinstance(r, Problem)}
