"""Request bodies are closed types whose documented limits are the ones intake applies."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from herald_service import request_fields
from herald_service.api.app import create_app
from herald_service.mail import addresses as mail_addresses
from herald_service.messages.intake import addresses, content
from herald_service.settings import load_settings


def _request_body_types() -> list[Any]:
    settings = load_settings({"HERALD_SECRET_KEY": "request-types-only"})
    app = create_app(settings)
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            field = handler.parsed_data_field
            if field is not None:
                found.append(field.annotation)
    return found


def _walk(info: msgspec.inspect.Type, seen: set[type]) -> list[msgspec.inspect.Type]:
    """Every type reachable from ``info``."""
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return []
        seen.add(info.cls)
        return [info] + [t for f in info.fields for t in _walk(f.type, seen)]
    inner: list[msgspec.inspect.Type] = [info]
    for attribute in ("type", "item_type", "key_type", "value_type"):
        value = getattr(info, attribute, None)
        if isinstance(value, msgspec.inspect.Type):
            inner += _walk(value, seen)
    for value in getattr(info, "types", ()):
        inner += _walk(value, seen)
    return inner


BODY_TYPES = _request_body_types()


def test_every_json_endpoint_declares_its_body() -> None:
    assert len(BODY_TYPES) >= 10


@pytest.mark.parametrize("body_type", BODY_TYPES, ids=str)
def test_request_bodies_are_closed(body_type: Any) -> None:
    """No ``Any`` (so nesting is bounded by the schema) and no unknown fields accepted."""
    for info in _walk(msgspec.inspect.type_info(body_type), set()):
        assert not isinstance(info, msgspec.inspect.AnyType), body_type
        if isinstance(info, msgspec.inspect.StructType):
            assert info.forbid_unknown_fields, info.cls


def test_documented_limits_are_intakes() -> None:
    assert request_fields.MAX_RECIPIENTS == addresses.MAX_RECIPIENTS
    assert request_fields.MAX_NAME_LENGTH == mail_addresses.MAX_NAME_LENGTH
    for name in (
        "MAX_HEADER_LINE",
        "MAX_CUSTOM_HEADERS",
        "MAX_ATTACHMENTS",
        "MAX_TAGS",
        "MAX_TAG_LENGTH",
        "MAX_METADATA_KEYS",
        "MAX_METADATA_KEY",
        "MAX_METADATA_VALUE",
    ):
        assert getattr(request_fields, name) == getattr(content, name), name
