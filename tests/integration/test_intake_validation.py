"""The send contract's refusals: every bad request gets the right 4xx naming the field."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from support.harness import Herald, Tenant

SENDER = "app@sender.example"
OK: dict[str, Any] = {"from": SENDER, "to": "user@receiver.example", "subject": "Hi", "text": "x"}
PDF = base64.b64encode(b"%PDF-1.4 test").decode()


def with_(**changes: Any) -> dict[str, Any]:
    """The valid body with some fields replaced (None removes a field)."""
    body = {**OK, **{k.rstrip("_"): v for k, v in changes.items()}}
    return {k: v for k, v in body.items() if v is not None}


def attachment(**changes: Any) -> dict[str, Any]:
    return {"filename": "report.pdf", "content": PDF, "content_type": "application/pdf", **changes}


# (case name, body (dict or raw bytes), expected status, field that must be named or None)
CORPUS: list[tuple[str, Any, int, str | None]] = [
    ("malformed json", b'{"from": ', 400, "body"),
    ("json array", b"[]", 400, "body"),
    ("json string", b'"hello"', 400, "body"),
    ("empty body", b"", 400, None),
    ("unknown field", with_(priority="high"), 400, "priority"),
    ("two unknown fields", with_(a=1, b=2), 400, "b"),
    ("from missing", with_(from_=None), 400, "from"),
    ("from wrong type", with_(from_=42), 400, "from"),
    ("to wrong type", with_(to=42), 400, "to"),
    ("to list of numbers", with_(to=[1, 2]), 400, "to"),
    ("subject wrong type", with_(subject=["x"]), 400, "subject"),
    ("text wrong type", with_(text=5), 400, "text"),
    ("sandbox wrong type", with_(sandbox="yes"), 400, "sandbox"),
    ("tags wrong type", with_(tags="a"), 400, "tags"),
    ("metadata non-string value", with_(metadata={"a": 1}), 400, "metadata"),
    ("headers non-string value", with_(headers={"X-A": 1}), 400, "headers"),
    ("address object unknown key", with_(to={"email": "a@b.example", "x": 1}), 400, "to"),
    ("address object without email", with_(to={"name": "A"}), 400, "to"),
    (
        "attachment without content",
        with_(attachments=[{"filename": "a.pdf"}]),
        400,
        "attachments[0]",
    ),
    ("bad from address", with_(from_="not-an-address"), 422, "from"),
    ("bad to address", with_(to="nobody"), 422, "to[0]"),
    ("bad cc address", with_(cc=["a@b.example", "bad@"]), 422, "cc[1]"),
    ("bad bcc address", with_(bcc="@example.com"), 422, "bcc[0]"),
    ("bad reply_to", with_(reply_to="x"), 422, "reply_to[0]"),
    ("to with spaces", with_(to="a b@example.com"), 422, "to[0]"),
    ("to double dot", with_(to="a..b@example.com"), 422, "to[0]"),
    ("to without domain dot", with_(to="user@localhost"), 422, "to[0]"),
    ("to reserved tld", with_(to="user@host.invalid"), 422, "to[0]"),
    ("to non-ascii local part", with_(to="jösé@example.com"), 422, "to[0]"),
    ("to CRLF injection", with_(to="a@example.com\r\nBcc: x@evil.example"), 422, "to[0]"),
    ("no recipients", with_(to=None), 422, "to"),
    ("empty recipient lists", with_(to=[], cc=[], bcc=[]), 422, "to"),
    ("too many recipients", with_(to=[f"u{i}@r.example" for i in range(1001)]), 422, "to"),
    ("duplicate to", with_(to=["a@r.example", "A@r.example"]), 422, "to[1]"),
    ("duplicate across to and bcc", with_(to="a@r.example", bcc="a@r.example"), 422, "bcc[0]"),
    (
        "from name with CRLF",
        with_(from_={"email": SENDER, "name": "A\r\nBcc: x@e.example"}),
        422,
        "from.name",
    ),
    (
        "from name spoofing address",
        with_(from_={"email": SENDER, "name": "ceo@bank.example"}),
        422,
        "from.name",
    ),
    ("to name with LF", with_(to={"email": "a@r.example", "name": "x\ny"}), 422, "to.name"),
    ("to name too long", with_(to={"email": "a@r.example", "name": "n" * 300}), 422, "to.name"),
    ("subject with CR", with_(subject="Hi\rBcc: x@e.example"), 422, "subject"),
    ("subject with LF", with_(subject="Hi\nthere"), 422, "subject"),
    ("subject with NUL", with_(subject="Hi\x00"), 422, "subject"),
    ("subject over 998", with_(subject="s" * 999), 422, "subject"),
    ("no content", with_(text=None), 422, "text"),
    ("empty content", with_(text="", html=""), 422, "text"),
    ("header value CRLF", with_(headers={"X-Tag": "a\r\nBcc: x@e.example"}), 422, "headers.X-Tag"),
    ("header name with colon", with_(headers={"X:Y": "a"}), 422, "headers.X:Y"),
    ("header name with space", with_(headers={"X Y": "a"}), 422, "headers.X Y"),
    ("header name non-ascii", with_(headers={"X-Ü": "a"}), 422, "headers.X-Ü"),
    ("header line over 998", with_(headers={"X-Long": "v" * 1000}), 422, "headers.X-Long"),
    ("reserved header From", with_(headers={"From": "x@e.example"}), 422, "headers.From"),
    ("reserved header to lower", with_(headers={"to": "x@e.example"}), 422, "headers.to"),
    ("reserved header Bcc", with_(headers={"Bcc": "x@e.example"}), 422, "headers.Bcc"),
    ("reserved header Subject", with_(headers={"Subject": "x"}), 422, "headers.Subject"),
    ("reserved header Date", with_(headers={"Date": "x"}), 422, "headers.Date"),
    (
        "reserved header Message-ID",
        with_(headers={"Message-ID": "<x@y>"}),
        422,
        "headers.Message-ID",
    ),
    (
        "reserved header MIME-Version",
        with_(headers={"MIME-Version": "1.0"}),
        422,
        "headers.MIME-Version",
    ),
    (
        "reserved header Content-Type",
        with_(headers={"Content-Type": "text/plain"}),
        422,
        "headers.Content-Type",
    ),
    (
        "reserved header Content-Transfer-Encoding",
        with_(headers={"Content-Transfer-Encoding": "8bit"}),
        422,
        "headers.Content-Transfer-Encoding",
    ),
    (
        "reserved header DKIM-Signature",
        with_(headers={"DKIM-Signature": "v=1"}),
        422,
        "headers.DKIM-Signature",
    ),
    ("reserved header Received", with_(headers={"Received": "from x"}), 422, "headers.Received"),
    (
        "reserved header Return-Path",
        with_(headers={"Return-Path": "<x@e.example>"}),
        422,
        "headers.Return-Path",
    ),
    ("reserved header Sender", with_(headers={"Sender": "x@e.example"}), 422, "headers.Sender"),
    (
        "reserved header List-Unsubscribe",
        with_(headers={"List-Unsubscribe": "<https://u.example>"}),
        422,
        "headers.List-Unsubscribe",
    ),
    ("too many headers", with_(headers={f"X-H{i}": "v" for i in range(51)}), 422, "headers"),
    (
        "attachment exe",
        with_(attachments=[attachment(filename="setup.exe")]),
        422,
        "attachments[0].filename",
    ),
    (
        "attachment bat upper case",
        with_(attachments=[attachment(filename="RUN.BAT")]),
        422,
        "attachments[0].filename",
    ),
    (
        "attachment js",
        with_(attachments=[attachment(filename="x.js")]),
        422,
        "attachments[0].filename",
    ),
    (
        "attachment bad base64",
        with_(attachments=[attachment(content="!!not base64!!")]),
        422,
        "attachments[0].content",
    ),
    (
        "attachment path in name",
        with_(attachments=[attachment(filename="../etc/passwd")]),
        422,
        "attachments[0].filename",
    ),
    (
        "attachment CRLF in name",
        with_(attachments=[attachment(filename="a\r\n.pdf")]),
        422,
        "attachments[0].filename",
    ),
    (
        "attachment empty name",
        with_(attachments=[attachment(filename="")]),
        422,
        "attachments[0].filename",
    ),
    (
        "attachment bad content type",
        with_(attachments=[attachment(content_type="pdf")]),
        422,
        "attachments[0].content_type",
    ),
    (
        "attachment bad disposition",
        with_(attachments=[attachment(disposition="hidden")]),
        422,
        "attachments[0].disposition",
    ),
    (
        "inline without content_id",
        with_(html="<img>", attachments=[attachment(disposition="inline")]),
        422,
        "attachments[0].content_id",
    ),
    (
        "inline with bad content_id",
        with_(html="<img>", attachments=[attachment(disposition="inline", content_id="<a b>")]),
        422,
        "attachments[0].content_id",
    ),
    (
        "inline without html",
        with_(attachments=[attachment(disposition="inline", content_id="logo")]),
        422,
        "attachments",
    ),
    (
        "duplicate content ids",
        with_(html="x", attachments=[attachment(content_id="a"), attachment(content_id="a")]),
        422,
        "attachments[1].content_id",
    ),
    ("too many tags", with_(tags=[f"t{i}" for i in range(11)]), 422, "tags"),
    ("tag with newline", with_(tags=["a\nb"]), 422, "tags[0]"),
    ("empty tag", with_(tags=[""]), 422, "tags[0]"),
    ("duplicate tags", with_(tags=["a", "a"]), 422, "tags"),
    ("metadata bad key", with_(metadata={"a b": "x"}), 422, "metadata.a b"),
    ("metadata value too long", with_(metadata={"k": "v" * 1025}), 422, "metadata.k"),
    ("too many metadata keys", with_(metadata={f"k{i}": "v" for i in range(51)}), 422, "metadata"),
    (
        "unsubscribe http url",
        with_(unsubscribe={"url": "http://u.example/x"}),
        422,
        "unsubscribe.url",
    ),
    (
        "unsubscribe unclosed IPv6 host",
        with_(unsubscribe={"url": "https://[unclosed/x"}),
        422,
        "unsubscribe.url",
    ),
    ("unsubscribe bad mailto", with_(unsubscribe={"mailto": "nope"}), 422, "unsubscribe.mailto"),
    ("unsubscribe empty", with_(unsubscribe={}), 422, "unsubscribe"),
    (
        "unsubscribe unknown key",
        with_(unsubscribe={"link": "https://u.example"}),
        400,
        "unsubscribe",
    ),
    ("from unverified domain", with_(from_="app@other.example"), 422, "from"),
    ("many problems at once", with_(to="bad", subject="a\nb", tags=[""]), 422, "subject"),
]


async def test_every_bad_request_is_refused_naming_its_field(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    assert len(CORPUS) >= 60
    tenant = await herald.create_tenant("sender.example")
    failures = []
    for name, body, status, field in CORPUS:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = await api.post(
            "/v1/messages",
            content=content,
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        problem = response.json() if response.content else {}
        fields = [e.get("field", "") for e in problem.get("errors", [])]
        named = field is None or any(
            f == field or f.startswith(field + ".") or f.startswith(field + "[") for f in fields
        )
        if (
            response.status_code != status
            or response.headers.get("content-type") != "application/problem+json"
            or not named
            or problem.get("status") != status
        ):
            failures.append(f"{name}: {response.status_code} {fields} {problem.get('detail')}")
    assert not failures, "\n".join(failures)
    assert herald.queued_message_ids() == []


async def test_one_response_names_every_bad_field(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    body = with_(to=["ok@r.example", "bad"], subject="x\ny", tags=[""], headers={"Bcc": "x"})
    response = await api.post("/v1/messages", json=body, headers=tenant.headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"to[1]", "subject", "tags[0]", "headers.Bcc"} <= fields
    typed = await api.post(
        "/v1/messages", json=with_(to=5, sandbox="x", zz=1), headers=tenant.headers
    )
    assert typed.status_code == 400
    assert {"to", "sandbox", "zz"} <= {e["field"] for e in typed.json()["errors"]}


async def test_oversized_body_is_413(herald: Herald) -> None:
    import msgspec

    from herald_service.api.app import create_app

    small = msgspec.structs.replace(herald.settings, max_request_bytes=10_000)
    tenant = await herald.create_tenant("sender.example")
    async with AsyncTestClient(create_app(small)) as client:
        response = await client.post(
            "/v1/messages", json=with_(text="x" * 20_000), headers=tenant.headers
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "from",
        "to",
        "cc",
        "bcc",
        "reply_to",
        "subject",
        "text",
        "html",
        "attachments",
        "headers",
        "tags",
        "metadata",
        "unsubscribe",
        "sandbox",
    ]
)


@pytest.fixture
async def fuzz_tenant(herald: Herald) -> Tenant:
    return await herald.create_tenant("sender.example")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    overrides=st.dictionaries(FIELDS, JSON, max_size=4),
    header_values=st.dictionaries(
        st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=3
    ),
)
async def test_arbitrary_json_and_headers_never_cause_a_5xx(
    api: AsyncTestClient,  # type: ignore[type-arg]
    fuzz_tenant: Tenant,
    overrides: dict[str, Any],
    header_values: dict[str, str],
) -> None:
    body = (
        {**OK, **overrides, "sandbox": True} if "sandbox" not in overrides else {**OK, **overrides}
    )
    for variant in (body, {**OK, "sandbox": True, "headers": header_values}):
        response = await api.post("/v1/messages", json=variant, headers=fuzz_tenant.headers)
        assert response.status_code < 500, response.text
        assert response.status_code in (200, 202, 400, 413, 422), response.text
