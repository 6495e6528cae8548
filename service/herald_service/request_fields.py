"""Constrained field types of request bodies, stated once for the decoder and the document.

Each alias carries a :class:`msgspec.Meta`: the JSON decoder enforces it (a violation is a
422 naming the field) and the OpenAPI document publishes it, so the server, the document and
clients generated from it agree. The limits are those intake enforces; the rules a JSON
Schema cannot state (address syntax, reserved header names, cross-field rules) stay in
:mod:`herald_service.messages.intake`.

Patterns end in ``(?![\\s\\S])`` rather than ``$``: Python's ``$`` also matches before a
final newline, which would let ``"Hi\\n"`` through; the lookahead means "end of text" in
Python and in the ECMAScript dialect of JSON Schema alike.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

END = r"(?![\s\S])"
# C0 (without TAB), DEL, C1 and the Unicode line and paragraph separators.
CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029"

# PostgreSQL cannot store NUL in text or JSON: free text refuses it (at decode time, 422).
NO_NUL = rf"^[^\x00]*{END}"

MAX_ADDRESS_TEXT = 998
MAX_RECIPIENTS = 1000
MAX_NAME_LENGTH = 256
MAX_HEADER_LINE = 998
MAX_CUSTOM_HEADERS = 50
MAX_ATTACHMENTS = 100
MAX_FILENAME = 255
MAX_TAGS = 10
MAX_TAG_LENGTH = 128
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 128
MAX_METADATA_VALUE = 1024
MAX_WEBHOOK_DESCRIPTION = 500
MAX_URL = 2048
MAX_DOMAIN_NAME = 253

AddressText = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_ADDRESS_TEXT,
        description="An email address (`a@example.com`).",
    ),
]
DisplayName = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_NAME_LENGTH,
        pattern=rf"^[^{CONTROL}\t@]*{END}",
        description="A display name: no control characters and no `@`.",
    ),
]
HeaderText = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_HEADER_LINE,
        pattern=rf"^[^{CONTROL}]*{END}",
        description="One header line of text: no CR, LF or other control characters.",
    ),
]
HeaderName = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^[!-9;-~]{{1,76}}{END}",
        description="Printable ASCII without `:` (RFC 5322); Herald's own headers are refused.",
    ),
]
HeaderValue = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_HEADER_LINE - 3,
        pattern=rf"^[^{CONTROL}]*{END}",
        description="Name, `: ` and value fit one 998-character line.",
    ),
]
Tag = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_TAG_LENGTH,
        pattern=rf"^[A-Za-z0-9_.:/@ -]+{END}",
    ),
]
MetadataKey = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=MAX_METADATA_KEY, pattern=rf"^[A-Za-z0-9_.-]+{END}"),
]
MetadataValue = Annotated[str, msgspec.Meta(max_length=MAX_METADATA_VALUE, pattern=NO_NUL)]
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    msgspec.Meta(max_length=MAX_METADATA_KEYS, description="Up to 50 string pairs, kept as sent."),
]
Tags = Annotated[
    list[Tag],
    msgspec.Meta(max_length=MAX_TAGS, extra_json_schema={"uniqueItems": True}),
]
Headers = Annotated[dict[HeaderName, HeaderValue], msgspec.Meta(max_length=MAX_CUSTOM_HEADERS)]

Filename = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_FILENAME,
        pattern=rf"^[^{CONTROL}/\\]*[^{CONTROL}/\\\s][^{CONTROL}/\\]*{END}",
        description="A file name without control characters or slashes; not an executable type.",
    ),
]
Base64 = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^(?:[A-Za-z0-9+/]{{4}})*(?:[A-Za-z0-9+/]{{2}}==|[A-Za-z0-9+/]{{3}}=)?{END}",
        description="The file's bytes, base64 encoded (standard alphabet, padded).",
    ),
]
_MIME_PART = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MediaType = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^(?:{_MIME_PART}/{_MIME_PART})?{END}",
        description="A MIME type such as `application/pdf` (empty: guessed from the file name).",
    ),
]
ContentId = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.@-]{{0,250}}{END}",
        description="For inline parts, referred to as `cid:...` in the html (without `< >`).",
    ),
]
Disposition = Literal["attachment", "inline"]

DomainName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_DOMAIN_NAME + 1,
        description="A domain name such as `example.com` (IDNs are converted to A-labels).",
    ),
]
DkimSelector = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^[A-Za-z0-9](?:[A-Za-z0-9-]{{0,40}}[A-Za-z0-9])?{END}",
        description="1-42 letters, digits or inner hyphens.",
    ),
]
UnsubscribeUrl = Annotated[
    str,
    msgspec.Meta(
        max_length=900,
        pattern=rf"^(?:https://[^{CONTROL}<>, /?#][^{CONTROL}<>, ]*)?{END}",
        description="An https URL (RFC 8058 one-click needs HTTPS), without `<>`, `,` or spaces.",
    ),
]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL, pattern=NO_NUL)]
Description = Annotated[str, msgspec.Meta(max_length=MAX_WEBHOOK_DESCRIPTION, pattern=NO_NUL)]
FreeText = Annotated[str, msgspec.Meta(pattern=NO_NUL)]
