"""argon2id hashing of API key secrets, and the fast keyed digest used to cache checks."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    """An argon2id hash (with its own salt and parameters) of ``secret``."""
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    """True when ``secret`` matches ``stored_hash``. Deliberately slow (argon2id)."""
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def keyed_digest(pepper: bytes, token: str) -> bytes:
    """HMAC-SHA256 of a presented token, the cache key for already verified tokens."""
    return hmac.new(pepper, token.encode(), hashlib.sha256).digest()
