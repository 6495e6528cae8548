"""Refuse NUL characters anywhere in a request: path, query and JSON body.

No field of Herald's takes a NUL: a message must not carry one (RFC 5322 §2.3, RFC 2045
§2.7), PostgreSQL cannot store one in a text column, and in names, addresses and filters
it only ever hides something. Refusing it once, before a route handler runs, covers every
field of every endpoint, present and future, with a 4xx naming the field instead of a 500
from the database.

The common case costs one ``in`` test per part of the request: a JSON body can carry a
NUL only as the escape ``\\u0000``, a query string only as ``%00``. The field is looked
for only when one of those is present.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request

from herald_service.errors import FieldError, HeraldError, InvalidRequest

MESSAGE = "NUL characters are not allowed"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """Litestar ``before_request`` hook: raise naming the first field that holds a NUL."""
    if "\x00" in request.scope["path"]:
        name = next((k for k, v in request.path_params.items() if "\x00" in str(v)), "path")
        raise HeraldError(f"{name}: {MESSAGE}", [FieldError(name, MESSAGE)])
    query = request.scope["query_string"]
    if b"%00" in query or b"\x00" in query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        name = next((k for k, v in pairs if "\x00" in k + v), "query")
        raise HeraldError(f"{name}: {MESSAGE}", [FieldError(name, MESSAGE)])
    if request.method not in _BODY_METHODS:
        return
    body = await request.body()  # cached: the handler's body parsing reuses it
    if b"\\u0000" in body:
        field = nul_field(body)
        if field is not None:
            raise InvalidRequest(f"{field}: {MESSAGE}", [FieldError(field, MESSAGE)])


def nul_field(body: bytes) -> str | None:
    """The path (``to[0].name``, ``metadata.key``) of the first string in the JSON
    ``body`` that holds a NUL, or None (not JSON: the handler's decoding reports that)."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:  # iterative: a deeply nested body cannot exhaust the stack here
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if "\x00" in key:
                    return path or "body"
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None
