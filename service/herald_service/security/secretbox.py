"""Encryption of secrets at rest (DKIM private keys, webhook secrets).

A Fernet key (AES-128-CBC + HMAC-SHA256) is derived from ``HERALD_SECRET_KEY`` with HKDF;
other purposes (such as the token cache pepper) derive their own independent keys.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted: wrong or changed ``HERALD_SECRET_KEY``."""


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """A key for one ``purpose``, derived from the operator's secret key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode())
    return hkdf.derive(secret_key.encode())


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "herald/secrets-at-rest/v1")))


def encrypt(secret_key: str, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` for storage."""
    return _fernet(secret_key).encrypt(plaintext)


def decrypt(secret_key: str, ciphertext: bytes) -> bytes:
    """Decrypt a value made by :func:`encrypt` with the same secret key."""
    try:
        return _fernet(secret_key).decrypt(ciphertext)
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "cannot decrypt a stored secret: HERALD_SECRET_KEY differs from the one used "
            "to store it"
        ) from exc
