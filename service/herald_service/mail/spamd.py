"""Ask a SpamAssassin ``spamd`` for a message's score over the SPAMC protocol.

One ``CHECK`` request per connection; spamd answers with a ``Spam:`` header such as
``Spam: False ; 2.3 / 5.0`` and closes. Used only by the message check, so a slow or
absent spamd costs at most :data:`SPAMD_TIMEOUT` and never fails the check.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from msgspec import Struct

SPAMD_PORT = 783
SPAMD_TIMEOUT = 5.0
_SPAM_HEADER = re.compile(
    rb"^Spam:\s*(True|False|Yes|No)\s*;\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)", re.IGNORECASE | re.M
)
_MAX_ANSWER = 64 * 1024


class SpamScore(Struct, frozen=True):
    """spamd's verdict: the score, the threshold it compares with, and whether it is spam."""

    score: float
    threshold: float
    spam: bool


class SpamdError(Exception):
    """spamd could not be reached, or answered something that is not a verdict."""


def spamd_address(url: str) -> tuple[str, int]:
    """``(host, port)`` from ``host:port``, ``tcp://host:port`` or ``spamd://host``."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    if not parts.hostname:
        raise SpamdError(f"HERALD_SPAMD_URL {url!r} names no host")
    return parts.hostname, parts.port or SPAMD_PORT


async def spam_score(url: str, message: bytes) -> SpamScore:
    """spamd's score for ``message`` (:class:`SpamdError` when there is none)."""
    host, port = spamd_address(url)
    try:
        async with asyncio.timeout(SPAMD_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                head = f"CHECK SPAMC/1.5\r\nContent-length: {len(message)}\r\n\r\n"
                writer.write(head.encode("ascii") + message)
                await writer.drain()
                answer = await reader.read(_MAX_ANSWER)
            finally:
                writer.close()
    except (OSError, TimeoutError) as exc:
        raise SpamdError(f"spamd at {host}:{port} did not answer: {str(exc) or 'timeout'}") from exc
    match = _SPAM_HEADER.search(answer)
    if match is None:
        first = answer.split(b"\r\n", 1)[0].decode("ascii", "replace")
        raise SpamdError(f"spamd at {host}:{port} gave no verdict: {first!r}")
    verdict, score, threshold = match.groups()
    return SpamScore(float(score), float(threshold), verdict.lower() in (b"true", b"yes"))
