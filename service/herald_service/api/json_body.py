"""Request bodies decoded once, strictly, straight into the handler's declared type.

Litestar's default decodes a body into untyped Python objects and then converts them
leniently: the first step recurses once per nesting level (a thousand ``[`` raise
``RecursionError``, a 500), the second turns ``"true"`` into ``True``. Herald's request class
decodes the bytes directly into the declared Struct with ``strict=True``: no untyped
containers are built (every request type is closed, so nesting is bounded by the schema),
types are exact, and a failure names the field the decoder stopped at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import msgspec
from litestar import Request

from herald_service.api.body_errors import BodyErrors, collect_body_errors, is_constraint
from herald_service.errors import FieldError, HeraldError, InvalidRequest
from herald_service.messages.intake import validate_send_request
from herald_service.messages.schemas import SendMessageRequest

# Checks that need the whole body typed. When a body's only problems are values out of
# their limits, they still run on the fields that did decode, so that one 422 names every
# bad field rather than the first half of them.
LATER_CHECKS: dict[type[msgspec.Struct], Callable[[Any], object]] = {
    SendMessageRequest: validate_send_request,
}


class MalformedRequest(HeraldError):
    """The body is not JSON, not of the declared types, or has unknown fields."""

    status = 400
    title = "Malformed request"


@cache
def _decoder(body_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(body_type, strict=True)


def decode_body(body: bytes, body_type: Any) -> Any:
    """``body`` as ``body_type``, or a 400/422 problem naming every bad field."""
    try:
        return _decoder(body_type).decode(body)
    except msgspec.ValidationError as exc:
        found = collect_body_errors(body, body_type, exc)
    except msgspec.DecodeError as exc:
        found = BodyErrors(None, [FieldError("body", f"malformed JSON: {exc}")], {})
    except RecursionError:
        found = BodyErrors(None, [FieldError("body", "nested too deeply")], {})
    errors = found.errors
    if all(is_constraint(e) for e in errors):
        errors = errors + _later_errors(found)
    detail = "the request has invalid fields: " + ", ".join(dict.fromkeys(e.field for e in errors))
    if all(is_constraint(e) for e in found.errors):
        raise InvalidRequest(detail, errors)
    raise MalformedRequest(detail, errors)


def _top(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def _later_errors(found: BodyErrors) -> list[FieldError]:
    """Errors of :data:`LATER_CHECKS` on the fields that decoded (the others left out)."""
    check = LATER_CHECKS.get(found.struct_type) if found.struct_type else None
    if check is None or found.struct_type is None:
        return []
    bad = {_top(e.field) for e in found.errors}
    try:
        check(found.struct_type(**found.decoded))
    except InvalidRequest as exc:
        return [e for e in exc.errors if _top(e.field) not in bad]
    except TypeError:  # a required field is among the bad ones
        return []
    return []


class HeraldRequest(Request[Any, Any, Any]):
    """A request whose JSON body is decoded by :func:`decode_body`."""

    async def json(self) -> Any:
        """The body as the handler's ``data`` type (untyped, but bounded, without one)."""
        field = self.route_handler.parsed_data_field
        return decode_body(await self.body(), field.annotation if field else Any)
