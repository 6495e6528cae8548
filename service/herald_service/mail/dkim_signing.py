"""DKIM-sign messages with dkimpy: one RSA-SHA256 and one Ed25519-SHA256 signature."""

from __future__ import annotations

from collections.abc import Sequence

import dkim
from msgspec import Struct

# Signed when present (relaxed/relaxed, no l= tag). Names repeated in OVERSIGNED are
# also signed once more than they occur, so nobody can add a second one after signing.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
OVERSIGNED_HEADERS = (b"from", b"subject", b"list-unsubscribe", b"list-unsubscribe-post")


class SigningKey(Struct, frozen=True):
    """A decrypted private key and where its public half is published."""

    domain: str
    selector: str
    algorithm: str  # "rsa" | "ed25519"
    private_key: bytes


_ALGORITHMS = {"rsa": b"rsa-sha256", "ed25519": b"ed25519-sha256"}


def _header_list(message: bytes) -> list[bytes]:
    """The header names to put in ``h=``: those present, plus one more of the oversigned."""
    head = message.split(b"\r\n\r\n", 1)[0].lower()
    present = {line.split(b":", 1)[0].strip() for line in head.split(b"\r\n") if b":" in line}
    names: list[bytes] = []
    for name in SIGNED_HEADERS:
        if name in present:
            count = sum(1 for line in head.split(b"\r\n") if line.split(b":", 1)[0].strip() == name)
            names.extend([name] * count)
            if name in OVERSIGNED_HEADERS:
                names.append(name)
    return names


def sign(message: bytes, keys: Sequence[SigningKey]) -> bytes:
    """``message`` with one DKIM-Signature header per key prepended."""
    include = _header_list(message)
    signatures = [
        dkim.sign(
            message,
            key.selector.encode(),
            key.domain.encode(),
            key.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
            signature_algorithm=_ALGORITHMS[key.algorithm],
        )
        for key in keys
    ]
    return b"".join(signatures) + message
