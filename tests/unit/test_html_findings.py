"""HTML findings of the message check, as a table of documents and what they must yield."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald_service.core.findings import summarize
from herald_service.core.html_findings import html_findings

# (case, html, content ids, expected (check, severity, words in the message) or None: clean)
CASES: list[tuple[str, str, tuple[str, ...], tuple[str, str, str] | None]] = [
    ("clean document", '<p>Hi <a href="https://example.com/x">there</a></p>', (), None),
    ("optional end tags", "<table><tr><td>a<td>b</table><ul><li>x<li>y</ul><p>z", (), None),
    ("void elements", '<p>a<br>b<hr><img src="https://e.example/a.png" alt=""></p>', (), None),
    ("unclosed div", "<div><b>x</b>", (), ("html_structure", "error", "<div> is never closed")),
    ("mis-nested", "<b><i>x</b></i>", (), ("html_structure", "error", "<i> (opened at")),
    ("stray end tag", "<p>x</p></span>", (), ("html_structure", "error", "</span> closes nothing")),
    ("self-closed div", "<div/>", (), ("html_structure", "warning", "not a void element")),
    (
        "image without alt",
        '<img src="https://e.example/a.png">',
        (),
        ("image_alt", "warning", "alt"),
    ),
    ("image without src", '<img alt="x">', (), ("image_src", "error", "without src")),
    ("relative image", '<img alt="x" src="/logo.png">', (), ("image_src", "error", "absolute")),
    ("cid known", '<img alt="x" src="cid:logo">', ("<logo>",), None),
    ("cid unknown", '<img alt="x" src="cid:logo">', ("other",), ("image_src", "error", "cid:logo")),
    ("relative link", '<a href="/account">a</a>', (), ("link", "error", "relative")),
    (
        "javascript link",
        '<a href="javascript:alert(1)">a</a>',
        (),
        ("link", "error", "not allowed"),
    ),
    ("http without host", '<a href="https:///path">a</a>', (), ("link", "error", "no host")),
    ("empty mailto", '<a href="mailto:">a</a>', (), ("link", "error", "no mailto address")),
    ("mailto and tel", '<a href="mailto:a@b.example">m</a><a href="tel:+3312">t</a>', (), None),
    ("link without href", "<a>text</a>", (), ("link", "warning", "no href")),
    ("empty link text", '<a href="https://e.example/"> </a>', (), ("link", "warning", "no text")),
    (
        "image link",
        '<a href="https://e.example/"><img src="https://e.example/i" alt="Go"></a>',
        (),
        None,
    ),
    ("anchor with target", '<a href="#terms">t</a><h2 id="terms">Terms</h2>', (), None),
    ("anchor to a name", '<a href="#top">t</a><a name="top"></a>', (), None),
    ("anchor without target", '<a href="#terms">t</a>', (), ("anchor", "error", "#terms")),
    ("script", "<script>x()</script>", (), ("html_content", "warning", "<script>")),
]


@pytest.mark.parametrize(
    ("html", "content_ids", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_html_findings(
    html: str, content_ids: tuple[str, ...], expected: tuple[str, str, str] | None
) -> None:
    findings = html_findings(html, content_ids)
    if expected is None:
        assert findings == []
        return
    check, severity, words = expected
    assert any(
        f.check == check and f.severity == severity and words in f.message for f in findings
    ), findings
    assert all(f.field == "html" and f.location.startswith("line ") for f in findings)


def test_location_points_at_the_element() -> None:
    findings = html_findings('<p>one</p>\n<p>two <img src="https://e.example/a"></p>')
    assert [f.location for f in findings] == ["line 2, column 8"]


def test_summary_counts_by_severity() -> None:
    findings = html_findings('<div><img src="/x"><a href="https://e.example/"></a>')
    summary = summarize(findings)
    assert (summary.ok, summary.errors, summary.warnings) == (False, 2, 2)


TAG_SOUP = st.lists(
    st.sampled_from(
        [
            "<div>",
            "</div>",
            "<p>",
            "</p>",
            "<a href='#x'>",
            "</a>",
            "<img>",
            "<b>",
            "</i>",
            "<br/>",
            "<!--",
            "-->",
            "<![CDATA[",
            "<script>",
            "</script>",
            "&amp;",
            "&#0;",
            "<",
            ">",
            '"',
            "'",
            "id=x",
            "<a name=x>",
            "\x00",
            "\r\n",
            "text",
        ]
    )
    | st.text(max_size=5),
    max_size=40,
).map("".join)


@given(html=TAG_SOUP | st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_findings_never_an_exception(html: str) -> None:
    for item in html_findings(html, ("x",)):
        assert item.severity in ("error", "warning", "info")
        assert item.location.startswith("line ")
