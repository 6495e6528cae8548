"""argon2id hashing of operator passwords.

Unlike API key secrets, passwords are chosen by people and may be guessable, so they get
argon2-cffi's default profile (RFC 9106 "low memory": 64 MiB, 3 passes, 4 lanes) rather
than the light one used for 256-bit keys.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so that an unknown email costs the same
    time as a wrong password and sign-in timing does not reveal who has an account. Made on
    first use: hashing costs a fifth of a second that no process should pay at start-up."""
    return _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An argon2id hash (with its own salt and parameters) of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; ``None`` verifies against a dummy
    hash and is always False. Deliberately slow (argon2id) either way."""
    try:
        matched = _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None
