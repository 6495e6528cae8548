"""Tokens for refusal tests: well-formed (valid checksum) but wrong."""

from __future__ import annotations

from herald_service.security.tokens import checksum


def with_wrong_secret(token: str) -> str:
    """``token`` with one secret character changed and a valid checksum recomputed."""
    body = token[:-6]
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    return flipped + checksum(flipped)


def with_unknown_key_id(token: str) -> str:
    """A well-formed token naming a key id that does not exist."""
    body = "hrld_" + "z" * 16 + token[len("hrld_") + 16 : -6]
    return body + checksum(body)
