"""DKIM-sign messages: one RSA-SHA256 and one Ed25519-SHA256 signature (RFC 6376, 8463).

dkimpy's own ``DKIM.sign`` would, for each signature, parse the message again,
canonicalise and hash the body and the header fields again, parse the private key again
and (for RSA) compute the signature in pure Python (about 6 ms). Here the message is
parsed, its body hashed and its signed header fields canonicalised and hashed once for all
signatures (each signature adds its own field to a copy of that hash); keys are parsed
once per process and the private-key step runs in OpenSSL through ``cryptography``. The
parsing and canonicalisation are dkimpy's rules, checked byte for byte against dkimpy by
property tests. Both algorithms are deterministic, so the headers are byte-identical to
dkimpy's (``sign(..., reference=True)`` runs dkimpy's signer; a test compares the two).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from functools import lru_cache

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dkim import canonicalization
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
_HEADER_NAME = b"DKIM-Signature"

_WSP_TO_COMPRESS = re.compile(rb"[\t ]{2,}|\t")
_FIELD_NAME = re.compile(rb"[\x21-\x7e]+")
_B_PLACEHOLDER = b"0" * 60


def relaxed_body(body: bytes) -> bytes:
    """The relaxed canonical form of ``body`` (RFC 6376 §3.4.4), byte for byte what
    dkimpy's ``Relaxed.canonicalize_body`` gives, about ten times faster.

    dkimpy substitutes every run of whitespace, single spaces included, so prose costs it
    one regex match per word (about 75 µs for 3 KB); here lines lose their trailing
    whitespace with ``bytes.rstrip`` and only runs longer than one space, or tabs, are
    substituted.
    """
    lines = body.split(b"\r\n")
    # Whitespace is trailing only before a CRLF: the last piece has none after it.
    stripped = [line.rstrip(b" \t") for line in lines[:-1]]
    stripped.append(lines[-1])
    text = b"\r\n".join(stripped)
    if b"\t" in text or b"  " in text:
        text = _WSP_TO_COMPRESS.sub(b" ", text)
    canonical: bytes = canonicalization.correct_empty_body(
        canonicalization.strip_trailing_lines(text)
    )
    return canonical


def relaxed_header(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """One header field in relaxed canonical form (RFC 6376 §3.4.2): byte for byte what
    dkimpy's ``Relaxed.canonicalize_headers`` gives, with a substitution only where a
    tab or a run of spaces needs one."""
    value = value.replace(b"\r\n", b"").replace(b"\n", b"")
    if b"\t" in value or b"  " in value:
        value = _WSP_TO_COMPRESS.sub(b" ", value)
    return name.lower().rstrip(), value.strip() + b"\r\n"


def header_list(message: bytes) -> list[bytes]:
    """The header names to put in ``h=``: those present, plus one more of the oversigned."""
    fields, _ = header_fields(message)
    return _names_to_sign(fields)


def _names_to_sign(fields: list[tuple[bytes, bytes]]) -> list[bytes]:
    names_present = [name.lower() for name, _ in fields]
    names: list[bytes] = []
    for name in SIGNED_HEADERS:
        count = names_present.count(name)
        if count:
            names.extend([name] * count)
            if name in OVERSIGNED_HEADERS:
                names.append(name)
    return names


@lru_cache(maxsize=256)
def _digest_signer(algorithm: str, private_key: bytes) -> Callable[[bytes], bytes]:
    """Sign a SHA-256 digest with a stored key (PEM for RSA, base64 seed for Ed25519)."""
    if algorithm == "rsa":
        key = serialization.load_pem_private_key(private_key, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA private key")
        scheme, prehashed = padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        return lambda digest: key.sign(digest, scheme, prehashed)
    if algorithm == "ed25519":
        # RFC 8463: PureEdDSA over the SHA-256 hash of the canonicalised headers.
        seed = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
        return seed.sign
    raise ValueError(f"unknown DKIM algorithm {algorithm!r}")


def header_fields(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields (name, raw value with its CRLF) and the body of ``message``:
    what ``dkim.rfc822_parse`` gives, without splitting the body into lines.

    Messages with bare LFs, or without a blank line after the header, go to dkimpy's
    parser, which turns LFs into CRLFs.
    """
    end = message.find(b"\r\n\r\n")
    if end <= 0 or message.startswith(b"\r\n") or message.count(b"\n") != message.count(b"\r\n"):
        parsed, body = dkim.rfc822_parse(message)
        return [(name, value) for name, value in parsed], body
    fields: list[tuple[bytes, bytes]] = []
    for line in message[:end].split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + line + b"\r\n")
            continue
        name, colon, value = line.partition(b":")
        if colon and _FIELD_NAME.fullmatch(name):
            fields.append((name, value + b"\r\n"))
        elif not line.startswith(b"From "):
            raise dkim.MessageFormatError(f"Unexpected characters in RFC822 header: {line!r}")
    return fields, message[end + 4 :]


def _signature_header(
    fields: list[tuple[bytes, bytes]],
    signed_headers: hashlib._Hash,
    sign_digest: Callable[[bytes], bytes],
) -> bytes:
    """The DKIM-Signature field for ``fields`` (``b=`` last), as dkimpy folds it.

    ``signed_headers`` has hashed the canonical signed header fields; the signature's own
    field, with an empty ``b=`` and no final CRLF, completes the hash (RFC 6376 §3.7).
    """
    value = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(_HEADER_NAME))
    # Hashed with b= empty. dkimpy empties it with a regex (RE_BTAG, ~7 µs); here b= is
    # the last tag and still holds the placeholder, which folding never splits.
    if value.endswith(b"b=" + _B_PLACEHOLDER):
        value = value[: -len(_B_PLACEHOLDER)]
    else:
        value = dkim.RE_BTAG.sub(b"\\1", value)
    name, canonical = relaxed_header(_HEADER_NAME, b" " + value)
    hasher = signed_headers.copy()
    hasher.update(name + b":" + canonical.rstrip())
    fields[-1] = (b"b", base64.b64encode(sign_digest(hasher.digest())))
    value = b"; ".join(b"=".join(f) for f in fields) + b"\r\n"
    folded: bytes = dkim.fold(value, namelen=len(_HEADER_NAME), linesep=b"\r\n")
    return _HEADER_NAME + b": " + folded


def sign(message: bytes, keys: Sequence[SigningKey], *, reference: bool = False) -> bytes:
    """``message`` with one DKIM-Signature header per key prepended (relaxed/relaxed).

    ``reference`` signs with dkimpy's own ``DKIM.sign`` instead (slow; for comparison).
    """
    fields, body = header_fields(message)  # the header block is parsed once, here
    include = tuple(_names_to_sign(fields))
    if reference:
        return b"".join(_dkimpy_sign(message, key, include) for key in keys) + message
    body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
    # The fields to sign, bottom-up per name as RFC 6376 §5.4.2 says, hashed once for
    # all signatures (each signature then adds its own field to a copy).
    signed_headers = hashlib.sha256()
    selected = dkim.select_headers(fields, include)
    for name, value in selected:
        signed_headers.update(b":".join(relaxed_header(name, value)))
    timestamp = str(int(time.time())).encode()
    signatures = []
    for key in keys:
        domain = key.domain.encode()
        fields_of_signature = [
            (b"v", b"1"),
            (b"a", _ALGORITHMS[key.algorithm]),
            (b"c", b"relaxed/relaxed"),
            (b"d", domain),
            (b"i", b"@" + domain),
            (b"q", b"dns/txt"),
            (b"s", key.selector.encode()),
            (b"t", timestamp),
            (b"h", b" : ".join(include)),
            (b"bh", body_hash),
            (b"b", _B_PLACEHOLDER),  # as dkimpy's: makes b= fold onto its own line
        ]
        signer = _digest_signer(key.algorithm, key.private_key)
        signatures.append(_signature_header(fields_of_signature, signed_headers, signer))
    return b"".join(signatures) + message


def _dkimpy_sign(message: bytes, key: SigningKey, include: tuple[bytes, ...]) -> bytes:
    header: bytes = dkim.DKIM(message).sign(
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        signature_algorithm=_ALGORITHMS[key.algorithm],
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(include),
    )
    return header
