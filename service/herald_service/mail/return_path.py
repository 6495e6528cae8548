"""VERP return paths: a bounce address per recipient that only Herald can mint.

``MAIL FROM:<b+{message_id}.{recipient_id}.{tag}@{return_path_host}>``: a bounce sent to
it names the message and recipient it is about, and the HMAC ``tag`` (keyed from
``HERALD_SECRET_KEY``) proves Herald issued it, so the inbound server can refuse every
other address and nobody can forge bounces that suppress someone else's recipients.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from msgspec import Struct

from herald_service.security.secretbox import derive_key

PREFIX = "b+"
_LOCAL = re.compile(r"^b\+(msg_[0-9a-z]{26})\.(\d{1,18})\.([a-z2-7]{16})$")


class ReturnPath(Struct, frozen=True):
    """What a VERP address identifies."""

    message_id: str
    recipient_id: int


@lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    return derive_key(secret_key, "herald/verp/v1")


def _tag(secret_key: str, message_id: str, recipient_id: int) -> str:
    digest = hmac.new(
        _key(secret_key), f"{message_id}.{recipient_id}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def verp_address(secret_key: str, message_id: str, recipient_id: int, host: str) -> str:
    """The envelope sender for one recipient of one message."""
    tag = _tag(secret_key, message_id, recipient_id)
    return f"{PREFIX}{message_id}.{recipient_id}.{tag}@{host}"


def parse_verp(secret_key: str, address: str) -> ReturnPath | None:
    """What ``address`` identifies, or None unless Herald issued it (tag checked)."""
    local, _, _ = address.strip().strip("<>").lower().rpartition("@")
    match = _LOCAL.match(local)
    if match is None:
        return None
    message_id, raw_recipient, tag = match.groups()
    recipient_id = int(raw_recipient)
    if not hmac.compare_digest(tag, _tag(secret_key, message_id, recipient_id)):
        return None
    return ReturnPath(message_id, recipient_id)
