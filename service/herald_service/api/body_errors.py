"""Every type error in a JSON body, not only the first one msgspec stops at.

Used on the error path only: when decoding a body into its Struct fails, the body is
checked again field by field so the problem document can name every bad field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request

from herald_service.errors import FieldError

_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _field_error(prefix: str, exc: msgspec.ValidationError) -> FieldError:
    match = _PATH.match(str(exc))
    assert match is not None
    suffix = match.group("path") or ""
    return FieldError(prefix + suffix, match.group("message"))


def collect_body_errors(body: bytes, struct_type: type[msgspec.Struct]) -> list[FieldError]:
    """Field errors of ``body`` against ``struct_type``: unknown, missing or mistyped."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        return [FieldError("body", f"malformed JSON: {exc}")]
    if not isinstance(raw, dict):
        return [FieldError("body", "expected a JSON object")]
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct_type)}
    errors = [FieldError(str(key), "unknown field") for key in raw if key not in fields]
    for name, info in fields.items():
        if name not in raw:
            if info.required:
                errors.append(FieldError(name, "this field is required"))
            continue
        try:
            msgspec.convert(raw[name], info.type, strict=True)
        except msgspec.ValidationError as exc:
            errors.append(_field_error(name, exc))
    return errors


def received_body(request: Request[Any, Any, Any]) -> bytes:
    """The body Litestar already read for this request (exception handlers are sync)."""
    body = request._connection_state.body  # cached by Request.body()
    return body if isinstance(body, bytes) else b""


def body_type_of(opt: dict[str, Any]) -> type[msgspec.Struct] | None:
    """The Struct a route declared as its body (``opt={"body_type": ...}``)."""
    candidate = opt.get("body_type")
    return (
        candidate if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct) else None
    )
