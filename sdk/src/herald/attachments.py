"""Files to attach to a message, read from bytes or from a path and sent base64-encoded."""

from __future__ import annotations

import base64
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

import msgspec

__all__ = ["Attachment", "AttachmentSource"]


class AttachmentBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An attachment as ``POST /v1/messages`` takes it (``content`` in base64)."""

    filename: str
    content: str
    content_type: str = ""
    disposition: str = "attachment"
    content_id: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to attach: ``content`` is the file's bytes, or a path (``str`` or ``Path``)
    read when the message is sent.

    ``filename`` defaults to the path's name (it is required with bytes); ``content_type``
    is guessed from the filename when not given. A ``content_id`` makes the part inline, to
    be shown where the HTML says ``<img src="cid:CONTENT_ID">``: see :meth:`inline`.
    """

    content: bytes | str | os.PathLike[str]
    filename: str | None = None
    content_type: str | None = None
    content_id: str | None = None

    @classmethod
    def inline(
        cls,
        content: bytes | str | os.PathLike[str],
        content_id: str,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> Attachment:
        """An inline part (an image the HTML shows as ``cid:CONTENT_ID``)."""
        if not content_id:
            raise ValueError("an inline attachment needs a content_id")
        return cls(content, filename, content_type, content_id)

    def to_body(self) -> AttachmentBody:
        """Read the file (if a path) and encode it as the API takes it."""
        if isinstance(self.content, bytes | bytearray | memoryview):
            data = bytes(self.content)
            filename = self.filename
            if not filename:
                raise ValueError("an attachment given as bytes needs a filename")
        else:
            file = Path(self.content)
            data = file.read_bytes()
            filename = self.filename or file.name
        content_type = self.content_type or mimetypes.guess_type(filename)[0] or ""
        return AttachmentBody(
            filename=filename,
            content=base64.b64encode(data).decode("ascii"),
            content_type=content_type or "application/octet-stream",
            disposition="inline" if self.content_id else "attachment",
            content_id=self.content_id or "",
        )


AttachmentSource = Attachment | str | os.PathLike[str]
"""An :class:`Attachment`, or just the path of a file to attach."""


def attachment_body(source: AttachmentSource) -> AttachmentBody:
    """The API form of an attachment or of a bare path."""
    attachment = source if isinstance(source, Attachment) else Attachment(source)
    return attachment.to_body()
