"""argon2id hashing of API key secrets, and the fast keyed digest used to cache checks."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# API key secrets are 256-bit random tokens, so no hashing cost is needed against
# guessing; argon2id with the lightest of OWASP's recommended profiles (7 MiB, 5 passes,
# one lane) keeps a stolen hash useless while the first use of a key in an API process
# costs 7 MiB of memory instead of argon2-cffi's default 64 MiB. Hashes made with other
# parameters (they are stored in the hash) still verify.
MEMORY_COST_KIB = 7 * 1024
TIME_COST = 5
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=1)


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
