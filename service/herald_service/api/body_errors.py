"""Every bad field of a JSON body, not only the first one the decoder stops at.

Used on the error path only: when decoding a body into its Struct fails, each top-level
field is decoded again on its own (strictly, into its declared type) so that the problem
document names every bad field. Nothing here decodes into untyped Python objects, so a
deeply nested value cannot exhaust the stack.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, NamedTuple, get_args, get_origin

import msgspec

from herald_service.errors import FieldError

_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]*)`$")
_MESSAGES = {"contains unknown": "unknown field", "missing required": "this field is required"}
# Violations of a Meta constraint (length, range, pattern, enum): the value has the right
# type but is not acceptable, which the API answers with 422 rather than 400.
_CONSTRAINT = re.compile(r"^(?:Expected `[^`]+` (?!.*, got `)|Invalid enum value)")

_RawObject = dict[str, msgspec.Raw]


def _key(name: str) -> str:
    """An object key as a field name: the empty key is shown as ``""``."""
    return name or '""'


def field_error(exc: msgspec.ValidationError, prefix: str = "") -> FieldError:
    """``exc`` as a field error: msgspec's ``$.a[0].b`` path becomes ``a[0].b``."""
    match = _PATH.match(str(exc))
    assert match is not None
    message, path = match.group("message"), match.group("path") or ""
    path = path.split("[...]", 1)[0]  # msgspec's "some key of this object": name the object
    named = _NAMED.match(message)
    if named:
        path = f"{path}.{_key(named.group('name'))}"
        message = next(v for k, v in _MESSAGES.items() if k in message)
    field = (prefix + path).lstrip(".")
    return FieldError(field or "body", message)


def is_constraint(error: FieldError) -> bool:
    """True when ``error`` is a constraint violation (422), not a type error (400)."""
    return bool(_CONSTRAINT.match(error.message))


@cache
def _decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(type_, strict=True)


_RAW_OBJECT = msgspec.json.Decoder(_RawObject)


def _raw_object(body: bytes) -> _RawObject | None:
    try:
        return _RAW_OBJECT.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None


def _struct_of(body_type: Any) -> type[msgspec.Struct] | None:
    """The Struct in ``body_type`` (``X`` or ``X | None``)."""
    candidates = getattr(body_type, "__args__", (body_type,))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def _dict_types(type_: Any) -> tuple[Any, Any] | None:
    """``(key type, value type)`` of ``dict[K, V]`` (possibly ``Annotated``), else None."""
    while get_origin(type_) is Annotated:
        type_ = get_args(type_)[0]
    return get_args(type_) if get_origin(type_) is dict else None


def _entry_errors(name: str, types: tuple[Any, Any], raw: msgspec.Raw) -> list[FieldError]:
    """Errors of each entry of an object, named ``name.key`` (msgspec cannot name keys)."""
    entries = _raw_object(raw)
    if entries is None:
        return []
    key_type, value_type = types
    errors: list[FieldError] = []
    for key, value in entries.items():
        try:
            msgspec.convert(key, key_type, strict=True)
            _decoder(value_type).decode(value)
        except msgspec.ValidationError as exc:
            errors.append(FieldError(f"{name}.{_key(key)}", field_error(exc).message))
    return errors


def _decoded(name: str, type_: Any, raw: msgspec.Raw) -> Any:
    """The value of one field, or a list of :class:`FieldError` (then a ``_Bad``)."""
    try:
        return _decoder(type_).decode(raw)
    except msgspec.ValidationError as exc:
        types = _dict_types(type_)
        return _Bad((_entry_errors(name, types, raw) if types else []) or [field_error(exc, name)])
    except RecursionError:
        return _Bad([FieldError(name, "nested too deeply")])


class _Bad(list[FieldError]):
    """The errors of a field that did not decode."""


class BodyErrors(NamedTuple):
    """What is wrong with a body, and the fields of it that did decode (by attribute)."""

    struct_type: type[msgspec.Struct] | None
    errors: list[FieldError]
    decoded: dict[str, Any]


def collect_body_errors(body: bytes, body_type: Any, first: msgspec.ValidationError) -> BodyErrors:
    """Field errors of ``body`` against ``body_type``: unknown, missing or mistyped.

    ``first`` is the error the whole-body decode stopped at; it is the answer when the body
    cannot be split into fields (not an object, or nested too deeply to skip over).
    """
    struct_type = _struct_of(body_type)
    raw = _raw_object(body) if struct_type is not None else None
    if struct_type is None or raw is None:
        return BodyErrors(None, [field_error(first)], {})
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct_type)}
    errors = [FieldError(_key(key), "unknown field") for key in raw if key not in fields]
    decoded: dict[str, Any] = {}
    for name, info in fields.items():
        if name not in raw:
            if info.required:
                errors.append(FieldError(name, "this field is required"))
            continue
        value = _decoded(name, info.type, raw[name])
        if isinstance(value, _Bad):
            errors.extend(value)
        else:
            decoded[info.name] = value
    return BodyErrors(struct_type, errors or [field_error(first)], decoded)
