"""Verify the webhooks Herald sends (Standard Webhooks signatures) and read their events.

```python
import herald

event = herald.webhooks.verify(request.body, request.headers, secret="whsec_...")
if event.type == "message.bounced":
    print(event.data.recipient, event.data.details["code"])
```

Each request carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries, one per secret
that is signing (two while a rotated secret overlaps the old one). The signed content is
``f"{id}.{timestamp}."`` followed by the raw body: verify the bytes as received, before
parsing them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

import msgspec

from herald._exceptions import WebhookVerificationError
from herald.models import WebhookEvent

__all__ = ["DEFAULT_TOLERANCE", "WebhookVerificationError", "sign", "verify"]

DEFAULT_TOLERANCE = 300
"""Seconds a webhook's timestamp may differ from now, either way (replay protection)."""

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


def _key(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the secret is not a whsec_<base64> secret") from exc
    if not key:
        raise WebhookVerificationError("the secret is empty")
    return key


def _as_bytes(payload: bytes | bytearray | memoryview | str) -> bytes:
    return payload.encode() if isinstance(payload, str) else bytes(payload)


def sign(payload: bytes | str, secret: str, *, msg_id: str, timestamp: int) -> str:
    """The ``v1,<base64>`` signature of ``payload`` sent as ``msg_id`` at ``timestamp``
    (to test your own webhook handler with requests that look like Herald's)."""
    signed = f"{msg_id}.{timestamp}.".encode() + _as_bytes(payload)
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> WebhookEvent:
    """Check a webhook's signature and timestamp; return its event.

    Args:
        payload: the request body exactly as received (bytes, or the decoded text).
        headers: the request headers (any mapping; names are matched case-insensitively).
        secret: the endpoint's ``whsec_...`` secret.
        tolerance: how many seconds the ``webhook-timestamp`` may be off, either way.
        now: the current Unix time (default: the clock).

    Raises:
        WebhookVerificationError: a header is missing or malformed, the timestamp is out of
            tolerance, no ``v1`` signature matches, or the signed body is not an event.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    raw_timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and raw_timestamp and signatures):
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not a Unix time") from exc
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("the webhook's timestamp is too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("the webhook's timestamp is in the future")

    body = _as_bytes(payload)
    expected = sign(body, secret, msg_id=msg_id, timestamp=timestamp).encode()
    matched = False
    for entry in signatures.split():
        version, _, _ = entry.partition(",")
        # Compare every v1 entry in constant time; never stop early on a mismatch.
        if version == "v1" and hmac.compare_digest(entry.encode(), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("no matching signature")

    try:
        event = msgspec.json.decode(body, type=WebhookEvent)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WebhookVerificationError(f"the signed body is not a Herald event: {exc}") from exc
    return msgspec.structs.replace(event, id=msg_id)
