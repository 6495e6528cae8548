"""Generate DKIM key pairs and render their DNS TXT records."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from msgspec import Struct

RSA_BITS = 2048


class KeyPair(Struct, frozen=True):
    """A private key in the form dkimpy signs with, and the base64 public key for DNS."""

    algorithm: str  # "rsa" | "ed25519"
    private_key: bytes
    public_key: str


def generate_rsa() -> KeyPair:
    """An RSA-2048 pair: PKCS#8 PEM private key, SubjectPublicKeyInfo public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair("rsa", private, base64.b64encode(public).decode())


def generate_ed25519() -> KeyPair:
    """An Ed25519 pair (RFC 8463): base64 seed as private key, raw 32-byte public key."""
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return KeyPair("ed25519", base64.b64encode(seed), base64.b64encode(public).decode())


SELECTOR_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?$")
ALGORITHM_SUFFIX = {"rsa": "r", "ed25519": "e"}


def dated_selector_base(now: datetime | None = None) -> str:
    """The default selector base, dated: ``hrld20261126``."""
    return "hrld" + (now or datetime.now(UTC)).strftime("%Y%m%d")


def selector_for(base: str, algorithm: str) -> str:
    """The selector of one key: the base plus ``r`` (RSA) or ``e`` (Ed25519)."""
    return base + ALGORITHM_SUFFIX[algorithm]


def txt_record_value(algorithm: str, public_key: str) -> str:
    """The DKIM TXT record value to publish for a key."""
    return f"v=DKIM1; k={algorithm}; p={public_key}"


def split_txt(value: str, size: int = 255) -> list[str]:
    """``value`` as DNS character-strings of at most ``size`` bytes (RFC 1035 §3.3.14)."""
    data = value.encode("ascii")
    return [data[i : i + size].decode("ascii") for i in range(0, len(data), size)] or [""]
