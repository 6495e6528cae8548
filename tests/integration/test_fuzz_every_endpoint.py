"""Hostile input on every endpoint: never a 5xx, always a problem document naming the field.

Each example sends one request to every operation of the published document, with path
parameters, query strings and bodies drawn from what careless and hostile clients send:
JSON nested thousands of levels deep, arrays of tens of thousands of items, every field
given a value of the wrong JSON type, strings with NUL, CR/LF, DEL, C1 and Unicode line
separators, and numbers and timestamps in the wrong shape. Bounded: a fixed number of
examples, derandomized, against the in-process app on real SQLite/PostgreSQL and Redis.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from support.harness import Herald, Tenant

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text()
)
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
]
EXAMPLES = 60

CONTROL = "\x00\x01\x08\t\n\r\x0b\x1b\x7f\x85\x9f\u2028\u2029\ufeff"
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(CONTROL) | st.characters(codec="utf-8"), max_size=40
) | st.sampled_from(["", " ", "0.5", "-1", "1e309", "true", "null", "[]", "{}", "%00", "../.."])


def _nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "0" + "}" * depth


def _huge_array(size: int, item: str) -> str:
    return "[" + ",".join([item] * size) + "]"


RAW_VALUE = st.one_of(
    st.builds(_nested, st.integers(100, 5000), st.sampled_from(["array", "object"])),
    st.builds(
        _huge_array, st.integers(1000, 30_000), st.sampled_from(['"a@b.example"', "0", "{}"])
    ),
    HOSTILE_TEXT.map(json.dumps),
    st.sampled_from(
        ["true", "false", "null", "0", "-1", "1.5", "1e400", '"true"', '"5"', "{}", "[]"]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.lists(HOSTILE_TEXT, max_size=5).map(json.dumps),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=5).map(json.dumps),
)


def _body_fields(operation: dict[str, Any]) -> list[str]:
    """Property names of an operation's JSON body, as documented."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    refs = [schema.get("$ref", "")] + [s.get("$ref", "") for s in schema.get("oneOf", [])]
    names: list[str] = []
    for ref in filter(None, refs):
        names += list(SCHEMAS[ref.rsplit("/", 1)[-1]].get("properties", {}))
    return names


@st.composite
def raw_body(draw: st.DrawFn, fields: list[str]) -> bytes:
    """An object with documented (and unknown) fields set to hostile values, or worse."""
    if draw(st.integers(0, 9)) == 0:
        return draw(RAW_VALUE).encode()
    names = draw(st.lists(st.sampled_from([*fields, "zz", ""]), max_size=4, unique=True))
    members = [f"{json.dumps(name)}:{draw(RAW_VALUE)}" for name in names]
    return ("{" + ",".join(members) + "}").encode()


def _query(draw: Any, operation: dict[str, Any]) -> dict[str, str]:
    documented = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    names = draw(st.lists(st.sampled_from([*documented, "zz"]), max_size=4, unique=True))
    return {name: draw(HOSTILE_TEXT | st.just("x" * 5000)) for name in names}


def _path(draw: Any, template: str, tenant: Tenant) -> str:
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end]
        known = tenant.domain_id if name == "domain_id" else "x"
        value = draw(st.just(known) | HOSTILE_TEXT.filter(bool))
        path = path[:start] + quote(value, safe="") + path[end + 1 :]
    return path


def check_answer(method: str, path: str, response: Any, sent: bytes | None) -> None:
    """No 5xx; a 4xx is a problem document (SendGrid's shape on /v3), naming fields."""
    where = f"{method} {path} -> {response.status_code} {response.text[:300]!r} for {sent!r:.200}"
    assert response.status_code < 500, where
    if response.status_code < 400 or method == "HEAD":  # a HEAD answer has no body
        return
    page = response.headers["content-type"].startswith("text/html")
    if path.startswith("/u/") and response.status_code == 404 and page:
        return  # an unknown unsubscribe link: a page for people, not a problem document
    document = response.json()
    errors = document.get("errors") or []
    if path.startswith("/v3/"):
        assert response.headers["content-type"].startswith("application/json"), where
        assert errors and all(e.get("message") for e in errors), where
    else:
        assert response.headers["content-type"] == "application/problem+json", where
        assert document["status"] == response.status_code, where
        assert document["title"] and document["type"], where
    if response.status_code in (400, 422) and sent is not None:
        assert errors and all(e.get("field") for e in errors), where


@pytest.fixture
async def fuzz_tenant(herald: Herald) -> Tenant:
    return await herald.create_tenant("sender.example")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported at once
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
async def test_hostile_requests_on_every_endpoint(
    api: AsyncTestClient,  # type: ignore[type-arg]
    fuzz_tenant: Tenant,
    data: st.DataObject,
) -> None:
    for method, template, operation in OPERATIONS:
        path = _path(data.draw, template, fuzz_tenant)
        query = _query(data.draw, operation)
        fields = _body_fields(operation)
        body = data.draw(raw_body(fields)) if fields or method in ("POST", "PATCH") else None
        headers = {**fuzz_tenant.headers, "Content-Type": "application/json"}
        response = await api.request(method, path, params=query, content=body, headers=headers)
        check_answer(method, template, response, body)
