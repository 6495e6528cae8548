"""The ``email`` policies messages are written with: CRLF line endings, as SMTP carries them.

:data:`SMTP_POLICY` is the modern policy (header objects, RFC 5322 folding);
:data:`PLAIN_POLICY` is the legacy one for the common case built by
:mod:`herald_service.core.mime_plain`.

Plain ASCII text header fields are folded only at spaces, never turned into RFC 2047
encoded words: the modern policy encodes a token longer than a line (a long
``List-Unsubscribe`` URL, say), which receivers that look for ``<https://…>`` do not
decode. A token that does not fit stays on a line of its own, up to the 998-character
limit of RFC 5322.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.policy import Compat32, EmailPolicy

# The longest header line (name, ": ", value) written without folding (RFC 5322 §2.1.1).
FOLD_AT = 78
# The longest line RFC 5322 allows at all.
LINE_LIMIT = 998


def fold_ascii(name: str, value: str, linesep: str = "\r\n") -> str | None:
    """``name: value`` folded at spaces into lines of at most :data:`FOLD_AT` where it
    can be; None when ``value`` is not ASCII or a line would exceed :data:`LINE_LIMIT`.

    Unfolding (removing each line break) gives back ``name: value`` exactly.
    """
    if not value.isascii():
        return None
    lines: list[str] = []
    line = f"{name}:"
    for index, word in enumerate(value.split(" ")):
        # Fold before a space only when the new line starts with a visible character.
        if index and word and len(line) + 1 + len(word) > FOLD_AT and line.strip():
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    if any(len(each) > LINE_LIMIT for each in lines):
        return None
    return linesep.join(lines) + linesep


class _CachedHeaderRegistry(HeaderRegistry):
    """The standard registry, but each header class is built once, not per header set.

    ``HeaderRegistry.__getitem__`` creates a new class with ``type()`` on every call (a
    large share of building a message); the classes it makes never change.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


class _SmtpPolicy(EmailPolicy):
    """The modern policy; ASCII unstructured fields folded by :func:`fold_ascii`."""

    def fold_binary(self, name: str, value: object) -> bytes:
        """The header line, folded (see the module docstring)."""
        if isinstance(value, UnstructuredHeader):
            folded = fold_ascii(name, str(value), self.linesep)
            if folded is not None:
                return folded.encode("ascii")
        return super().fold_binary(name, value)  # type: ignore[arg-type]


SMTP_POLICY = _SmtpPolicy(
    linesep="\r\n", header_factory=_CachedHeaderRegistry()
)  # email.policy.SMTP, with the folding above


class _PlainPolicy(Compat32):
    """compat32 with CRLF line endings, header lines folded as :data:`SMTP_POLICY` does."""

    def fold_binary(self, name: str, value: object) -> bytes:
        """The header line: ASCII text by :func:`fold_ascii`, the rest by SMTP_POLICY."""
        if isinstance(value, str):
            if value.isascii() and len(name) + len(value) + 2 <= FOLD_AT:
                return f"{name}: {value}{self.linesep}".encode("ascii")  # the common case
            folded = fold_ascii(name, value, self.linesep)
            if folded is not None:
                return folded.encode("ascii")
        return SMTP_POLICY.fold_binary(name, str(value))


PLAIN_POLICY = _PlainPolicy(linesep="\r\n")
