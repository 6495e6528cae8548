"""Tokens of tracked links, open pixels and one-click unsubscribe URLs.

A token names what was followed: its kind (``c`` click, ``o`` open, ``u`` unsubscribe), the
message and, for a click, the link's index in the message's stored list. It carries no URL:
a redirect goes only to a URL Herald stored with the message, so a token cannot be made to
point anywhere else (no open redirect). It is signed with HMAC-SHA256 under a key derived
from ``HERALD_SECRET_KEY`` (truncated to 96 bits: forging one takes 2**95 guesses on
average, each a request), so a token with one character changed is not found.

    c3.msg_01J...  →  base64url  +  12-byte MAC  (about 60 characters in all)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Literal, NamedTuple

Kind = Literal["c", "o", "u"]
_KINDS = frozenset("cou")
_MAC_BYTES = 12
_MAC_CHARS = 16  # base64url of 12 bytes, no padding
MAX_TOKEN_CHARS = 200


class TokenRef(NamedTuple):
    """What a valid token refers to."""

    kind: Kind
    message_id: str
    link: int
    """The link's index among the message's tracked links (0 for other kinds)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def make_token(key: bytes, kind: Kind, message_id: str, index: int = 0) -> str:
    """The URL-safe token for ``kind`` of ``message_id`` (``index``: the link's)."""
    payload = f"{kind}{index}.{message_id}".encode("ascii")
    return _b64(payload) + _b64(_mac(key, payload))


def read_token(key: bytes, token: str) -> TokenRef | None:
    """What ``token`` refers to, or None when it is malformed or its MAC is wrong."""
    if not 20 < len(token) <= MAX_TOKEN_CHARS or not token.isascii():
        return None
    body, mac_text = token[:-_MAC_CHARS], token[-_MAC_CHARS:]
    try:
        payload, mac = _unb64(body), _unb64(mac_text)
    except (binascii.Error, ValueError):
        return None
    if _b64(payload) != body or _b64(mac) != mac_text:
        return None  # another spelling of the same bytes: only the canonical one is valid
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    head, _, message_id = payload.decode("ascii", "replace").partition(".")
    kind, index = head[:1], head[1:]
    if kind not in _KINDS or not index.isdigit() or not message_id:
        return None
    return TokenRef(kind, message_id, int(index))  # type: ignore[arg-type]
