"""How the inbox shows a message's From header from the first bytes of its source."""

from __future__ import annotations

import pytest

from herald_service.inbox.schemas import from_header
from herald_service.inbox.service import number

FROM_CASES = [
    ("name and address", b"From: Shop <app@x.example>\r\n\r\n", "Shop <app@x.example>"),
    ("quoted name", b'From: "Shop Robot" <app@x.example>\r\n\r\n', "Shop Robot <app@x.example>"),
    ("comma kept", b'From: "Doe, Jo" <j@x.example>\r\n\r\n', "Doe, Jo <j@x.example>"),
    ("address only", b"from: app@x.example\n\n", "app@x.example"),
    ("encoded word", b"From: =?utf-8?q?Caf=C3=A9?= <c@x.example>\r\n\r\n", "Café <c@x.example>"),
    (
        "folded",
        b"DKIM-Signature: a=1;\r\n b=2\r\nFrom: Shop\r\n <app@x.example>\r\n\r\n",
        "Shop <app@x.example>",
    ),
    ("none", b"To: u@r.example\r\n\r\nFrom: in the body\r\n", "fallback@x.example"),
    ("empty source", b"", "fallback@x.example"),
    ("bad charset", b"From: =?nope?q?x?= <a@x.example>\r\n\r\n", "=?nope?q?x?= <a@x.example>"),
]


@pytest.mark.parametrize(
    ("head", "shown"), [c[1:] for c in FROM_CASES], ids=[c[0] for c in FROM_CASES]
)
def test_from_header(head: bytes, shown: str) -> None:
    assert from_header(head, "fallback@x.example") == shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17", 17),
        ("0", 0),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),
        ("\u00b2", None),
        ("-1", None),
        ("", None),
    ],
)
def test_number(text: str, expected: int | None) -> None:
    assert number(text) == expected
