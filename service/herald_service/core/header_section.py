"""The header section of a message as its client wrote it, field by field.

SMTP submission keeps the client's MIME byte for byte; Herald only removes fields (Bcc,
its own ``X-Herald-*`` options) and adds missing ones (Message-ID, Date) before signing.
So the header section is handled as a list of raw fields rather than re-serialised by the
``email`` package, which would re-fold and re-encode what the client wrote.

Line endings are normalised as Postfix does: a bare LF ends a line (it becomes CRLF). A
lone CR, a NUL or a line that is neither a field nor a continuation is refused: those are
how header injection and smuggling are attempted, and no mail client writes them.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from typing import NamedTuple

_BARE_LF = re.compile(rb"(?<!\r)\n")
_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:")  # RFC 5322 ftext, then ':' (obs-FWS allowed)
MAX_HEADER_BYTES = 256 * 1024


class MalformedMessage(ValueError):
    """The message cannot be accepted as written; the text says why (for a 5xx reply)."""


class HeaderField(NamedTuple):
    """One field: its name as written and its raw bytes (continuation lines and CRLF)."""

    name: str
    raw: bytes

    @property
    def value(self) -> str:
        """The unfolded value, undecoded (8-bit bytes kept as UTF-8 where they are)."""
        _, _, value = self.raw.partition(b":")
        unfolded = value.replace(b"\r\n", b"")
        return unfolded.decode("utf-8", "replace").strip(" \t")


class MessageParts(NamedTuple):
    """A message split into its header fields and its body (from the blank line on)."""

    fields: list[HeaderField]
    body: bytes

    def named(self, name: str) -> list[HeaderField]:
        """The fields called ``name`` (case-insensitive), in order."""
        lowered = name.lower()
        return [f for f in self.fields if f.name.lower() == lowered]

    def without(self, *names: str, prefix: str = "") -> MessageParts:
        """These parts with the fields ``names`` (and any starting with ``prefix``) removed."""
        drop = {n.lower() for n in names}
        kept = [
            f
            for f in self.fields
            if f.name.lower() not in drop and not (prefix and f.name.lower().startswith(prefix))
        ]
        return MessageParts(kept, self.body)

    def with_fields(self, *added: tuple[str, str]) -> MessageParts:
        """These parts with ``(name, value)`` fields added on top (ASCII values only)."""
        new = [HeaderField(n, f"{n}: {v}\r\n".encode("ascii")) for n, v in added]
        return MessageParts(new + self.fields, self.body)

    def to_bytes(self) -> bytes:
        """The message on the wire: fields, then the blank line and body as received."""
        return b"".join(f.raw for f in self.fields) + self.body


def normalise_line_endings(data: bytes) -> bytes:
    """``data`` with every bare LF turned into CRLF (what Postfix's smtpd does)."""
    return _BARE_LF.sub(b"\r\n", data) if b"\n" in data else data


def split_message(data: bytes) -> MessageParts:
    """The fields and body of ``data`` (CRLF line endings); :class:`MalformedMessage` for
    a NUL, a lone CR in the header section, or a line that is not a field."""
    if b"\x00" in data:
        raise MalformedMessage("NUL characters are not allowed in a message")
    if data.startswith(b"\r\n"):
        raise MalformedMessage("the message has no header fields")
    end = data.find(b"\r\n\r\n")
    if end < 0:
        header, body = data if data.endswith(b"\r\n") else data + b"\r\n", b""
    else:
        header, body = data[: end + 2], data[end + 2 :]
    if len(header) > MAX_HEADER_BYTES:
        raise MalformedMessage(f"the header section exceeds {MAX_HEADER_BYTES // 1024} KiB")
    fields: list[HeaderField] = []
    lines = header.split(b"\r\n")[:-1]
    for number, line in enumerate(lines, start=1):
        if b"\r" in line:
            raise MalformedMessage(f"header line {number} holds a bare CR")
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise MalformedMessage("the message starts with a continuation line")
            last = fields[-1]
            fields[-1] = HeaderField(last.name, last.raw + line + b"\r\n")
            continue
        match = _FIELD.match(line)
        if match is None:
            raise MalformedMessage(f"header line {number} is not a header field (RFC 5322)")
        fields.append(HeaderField(match.group(1).decode("ascii"), line + b"\r\n"))
    if not fields:
        raise MalformedMessage("the message has no header fields")
    return MessageParts(fields, body)


def decoded_text(value: str) -> str:
    """A header value with its RFC 2047 encoded words decoded (for display: Subject)."""
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value
