"""API key tokens: ``hrld_<key id>_<secret><checksum>``.

* ``hrld_`` is a fixed prefix secret scanners can match on.
* the key id (16 base32 characters) is public and is how the key is looked up;
* the secret is 32 base62 characters (about 190 bits);
* the checksum is 6 base62 characters of CRC32 over everything before it, so a scanner
  can tell a real token from random text without asking the server.
"""

from __future__ import annotations

import re
import secrets
import zlib

from msgspec import Struct

PREFIX = "hrld_"
KEY_ID_PREFIX = "key_"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"
_TOKEN = re.compile(r"^hrld_([0-9a-z]{16})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$")


class ParsedToken(Struct, frozen=True):
    """The parts of a well-formed token."""

    key_id: str
    secret: str


def _base62(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(_BASE62[digit])
    return "".join(reversed(out))


def checksum(body: str) -> str:
    """6 base62 characters of CRC32 over ``body`` (everything before the checksum)."""
    return _base62(zlib.crc32(body.encode()), 6)


def new_token() -> tuple[str, str]:
    """A fresh ``(key_id, token)``; the token is shown to its owner once."""
    short = "".join(secrets.choice(_BASE32) for _ in range(16))
    secret = "".join(secrets.choice(_BASE62) for _ in range(32))
    body = f"{PREFIX}{short}_{secret}"
    return KEY_ID_PREFIX + short, body + checksum(body)


def parse_token(token: str) -> ParsedToken | None:
    """The key id and secret of ``token``, or None when it is not a valid Herald token."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    short, secret, given = match.groups()
    if not secrets.compare_digest(checksum(token[: -len(given)]), given):
        return None
    return ParsedToken(key_id=KEY_ID_PREFIX + short, secret=secret)
