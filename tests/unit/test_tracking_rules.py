"""Tracking's pure rules: signed tokens, link rewriting with a real HTML tokenizer, the
pixel, and which opens and clicks count as a machine's."""

from __future__ import annotations

import pytest

from herald_service.core.link_tracking import add_pixel, rewrite_links
from herald_service.core.machine_activity import is_machine, kept_ip
from herald_service.core.tracking_tokens import make_token, read_token

KEY = b"k" * 32
MESSAGE = "msg_01JABCDEFGHJKMNPQRSTVWXYZ0"


def test_a_token_reads_back_and_every_altered_character_is_refused() -> None:
    token = make_token(KEY, "c", MESSAGE, 7)
    ref = read_token(KEY, token)
    assert ref is not None and (ref.kind, ref.message_id, ref.link) == ("c", MESSAGE, 7)
    assert len(token) < 70
    for position in range(len(token)):
        changed = "B" if token[position] != "B" else "C"
        assert read_token(KEY, token[:position] + changed + token[position + 1 :]) is None
    assert read_token(b"x" * 32, token) is None, "another installation's key"
    for junk in ["", "a" * 300, "é" * 30, token + "=", "../../etc/passwd" * 2]:
        assert read_token(KEY, junk) is None


def test_links_are_rewritten_and_everything_else_kept() -> None:
    html = (
        '<p>A <a class=x href="https://a.example/p?q=1&amp;r=2#f">one</a>\n'
        '<a href="mailto:x@y.example">m</a> <a href="tel:+100">t</a> <a href="#top">top</a>\n'
        '<a href="https://b.example" data-herald-track="OFF">off</a>\n'
        '<!-- <a href="https://c.example">in a comment</a> -->\n'
        "<script>var s = '<a href=\"https://d.example\">';</script>\n"
        "<A HREF='http://e.example/'>upper</A> <a href=\"https://u.example/unsub\">u</a>\n"
        '<a href="https://f.example/\nx">broken</a></p>'
    )
    out, links = rewrite_links(
        html, lambda i: f"https://t.example/{i}", frozenset({"https://u.example/unsub"})
    )
    assert links == ["https://a.example/p?q=1&r=2#f", "http://e.example/"]
    assert '<a class="x" href="https://t.example/0">one</a>' in out
    assert '<a href="https://t.example/1">upper</A>' in out
    untouched = [
        '<a href="mailto:x@y.example">',
        '<a href="tel:+100">',
        '<a href="#top">',
        'data-herald-track="OFF">off',
        '<a href="https://c.example">in a comment',
        '<a href="https://d.example">\';',
        '<a href="https://u.example/unsub">',
        '<a href="https://f.example/\nx">',
    ]
    for fragment in untouched:
        assert fragment in out, fragment
    assert rewrite_links("<p>no links</p>", lambda i: "x") == ("<p>no links</p>", [])


def test_the_pixel_goes_at_the_end_of_the_body() -> None:
    assert add_pixel("<html><BODY>x</BODY></html>", "https://t/o?a&b").endswith(
        '<img src="https://t/o?a&amp;b" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0"></BODY></html>'
    )
    assert add_pixel("<p>x</p>", "u").startswith("<p>x</p><img src=")


@pytest.mark.parametrize(
    ("kind", "method", "agent", "since", "machine"),
    [
        ("click", "GET", "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0", 3600.0, False),
        ("click", "HEAD", "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0", 3600.0, True),
        ("click", "GET", "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0", 2.0, True),
        ("click", "GET", "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0", None, False),
        ("click", "GET", "", 3600.0, True),
        ("click", "GET", "python-requests/2.31", 3600.0, True),
        ("click", "GET", "Mozilla/5.0 (compatible; Barracuda)", 3600.0, True),
        ("open", "GET", "Mozilla/5.0", None, True),
        ("click", "GET", "Mozilla/5.0", 3600.0, False),
        ("open", "GET", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile", 1.0, False),
    ],
)
def test_machine_heuristics(
    kind: str, method: str, agent: str, since: float | None, machine: bool
) -> None:
    assert is_machine(kind, method, agent, since) is machine


def test_ip_privacy() -> None:
    assert kept_ip("192.0.2.77", "truncate") == "192.0.2.0/24"
    assert kept_ip("2001:db8:1:2::9", "truncate") == "2001:db8:1::/48"
    assert kept_ip("192.0.2.77", "full") == "192.0.2.77"
    assert kept_ip("192.0.2.77", "none") == ""
    assert kept_ip("not an ip", "truncate") == ""
