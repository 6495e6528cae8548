"""The fast path for MAIL/RCPT addresses agrees with aiosmtpd's own parser wherever it
answers, and declines what it does not understand."""

from __future__ import annotations

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import example, given, settings
from hypothesis import strategies as st

from herald_service.submission.envelope_addresses import plain_address


def library(arg: str, limit: int = 0) -> tuple[str | None, str | None]:
    server = SMTP.__new__(SMTP)
    server.local_part_limit = limit
    return server._getaddr(arg)


@pytest.mark.parametrize(
    "arg",
    [
        "<a@b.example>",
        "<first.last+tag@mail.example.org> SIZE=3000 BODY=8BITMIME",
        "<a@b.example>\tSIZE=1",
        "<a@b>  SIZE=1 ",
        "<o'hara@b.example>",
        "<A@B.Example>",
    ],
)
def test_plain_forms_read_as_aiosmtpd_reads_them(arg: str) -> None:
    assert plain_address(arg) == library(arg)


@pytest.mark.parametrize(
    "arg",
    [
        "<>",
        "a@b.example",
        "< a@b.example>",
        '<"quoted local"@b.example>',
        "<a@[127.0.0.1]>",
        "<a..b@c>",
        "<.a@b>",
        "<a@b.>",
        "<@route:a@b>",
        "<a@b>x",
        "<a@b>(comment)",
        "<a@b>\r",
        "<jörg@b.example>",
    ],
)
def test_anything_else_is_left_to_aiosmtpd(arg: str) -> None:
    assert plain_address(arg) is None


def test_the_local_part_limit_applies() -> None:
    assert plain_address("<abcdef@b.example>", local_part_limit=5) is None
    assert plain_address("<abcde@b.example>", local_part_limit=5) == ("abcde@b.example", "")


_CHARS = st.sampled_from(list("aZ0.+-='_~@<> \t()\"[]:,éS\r"))
_TEXT = st.lists(_CHARS, max_size=10).map("".join)
_ATOM = st.text(alphabet="aZ09!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=5)
_DOT_ATOM = st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
_SUFFIX = st.sampled_from(["", " ", " SIZE=1", "\tSIZE=1 ", "  A B", "x", "\r", "(c)", " (c)"])
_SHAPED = st.one_of(
    st.builds(lambda a, b, c: f"<{a}@{b}>{c}", _DOT_ATOM, _DOT_ATOM, _SUFFIX),
    st.builds(lambda a, b, c: f"<{a}@{b}>{c}", _TEXT, _TEXT, _TEXT),
)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_SHAPED, _TEXT))
@example("<a@a> \r")  # a space then a stray CR: the full parser drops both
@example("<a@a>\r")
def test_never_disagrees_with_aiosmtpd(arg: str) -> None:
    fast = plain_address(arg)
    if fast is not None:
        assert fast == library(arg)
