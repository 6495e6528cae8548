"""DKIM-sign messages: one RSA-SHA256 and one Ed25519-SHA256 signature (RFC 6376, 8463).

dkimpy canonicalises the message and builds the DKIM-Signature header. Its RSA operation
is pure Python (about 6 ms per signature), so :class:`_OpenSSLRsaDKIM` does that one step
with OpenSSL through ``cryptography`` instead (about 0.1 ms). RSASSA-PKCS1-v1_5 is
deterministic, so the header is byte-identical to dkimpy's own (a test proves it).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from msgspec import Struct

# Signed when present (relaxed/relaxed, no l= tag). Names in OVERSIGNED_HEADERS are listed
# once more than they occur, so a second one added after signing breaks the signature.
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

    def __repr__(self) -> str:
        # Never let the private key reach a log line or a traceback.
        return f"SigningKey({self.algorithm} {self.selector}._domainkey.{self.domain})"


_ALGORITHMS = {"rsa": b"rsa-sha256", "ed25519": b"ed25519-sha256"}

# dkimpy parses the PEM private key (pure-Python ASN.1, several hundred microseconds)
# on every RSA signature, even when OpenSSL does the RSA step. Keys are few and
# immutable, so remember the parsed form; the result is a dict dkimpy only reads.
if not hasattr(dkim.parse_pem_private_key, "cache_info"):
    dkim.parse_pem_private_key = lru_cache(maxsize=256)(dkim.parse_pem_private_key)


def header_list(message: bytes) -> list[bytes]:
    """The header names to put in ``h=``: those present, plus one more of the oversigned."""
    head = message.split(b"\r\n\r\n", 1)[0].lower()
    names_present = [
        line.split(b":", 1)[0].strip()
        for line in head.split(b"\r\n")
        if b":" in line and line[:1] not in (b" ", b"\t")
    ]
    names: list[bytes] = []
    for name in SIGNED_HEADERS:
        count = names_present.count(name)
        if count:
            names.extend([name] * count)
            if name in OVERSIGNED_HEADERS:
                names.append(name)
    return names


@lru_cache(maxsize=256)
def _openssl_rsa_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


class _OpenSSLRsaDKIM(dkim.DKIM):  # type: ignore[misc]
    """dkimpy's signer with the RSA-SHA256 step done by OpenSSL.

    ``gen_header`` follows dkimpy 1.1's own (pinned in pyproject); only the line computing
    ``sig2`` differs.
    """

    openssl_key: rsa.RSAPrivateKey

    def gen_header(
        self,
        fields: list[tuple[bytes, bytes]],
        include_headers: Sequence[bytes],
        canon_policy: Any,
        header_name: bytes,
        pk: Any,
        standardize: bool = False,
    ) -> bytes:
        header_value = b"; ".join(b"=".join(x) for x in fields)
        header_value = dkim.fold(header_value, namelen=len(header_name), linesep=b"\r\n")
        header_value = dkim.RE_BTAG.sub(b"\\1", header_value)
        header = (header_name, b" " + header_value)
        h = dkim.HashThrough(self.hasher(), self.debug_content)
        sig = dict(fields)
        headers = canon_policy.canonicalize_headers(self.headers)
        self.signed_headers = dkim.hash_headers(
            h, canon_policy, headers, include_headers, header, sig
        )
        sig2 = self.openssl_key.sign(
            h.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )
        idx = next(i for i in range(len(fields)) if fields[i][0] == b"b")
        fields[idx] = (b"b", base64.b64encode(sig2))
        header_value = b"; ".join(b"=".join(x) for x in fields) + self.linesep
        folded: bytes = dkim.fold(header_value, namelen=len(header_name), linesep=self.linesep)
        return folded


def sign_one(message: bytes, key: SigningKey, include: list[bytes], *, openssl: bool) -> bytes:
    """One DKIM-Signature header for ``message`` (``openssl``: RSA done by OpenSSL)."""
    if key.algorithm == "rsa" and openssl:
        signer = _OpenSSLRsaDKIM(message)
        signer.openssl_key = _openssl_rsa_key(key.private_key)
    else:
        signer = dkim.DKIM(message)
    header: bytes = signer.sign(
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        signature_algorithm=_ALGORITHMS[key.algorithm],
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return header


def sign(message: bytes, keys: Sequence[SigningKey], *, openssl: bool = True) -> bytes:
    """``message`` with one DKIM-Signature header per key prepended."""
    include = header_list(message)
    return b"".join(sign_one(message, key, include, openssl=openssl) for key in keys) + message
