"""Rewrite an HTML part's links for click tracking and add the open-tracking pixel.

The HTML is read with the standard library's HTML tokenizer (:class:`html.parser.HTMLParser`:
comments, scripts, CDATA, entities and malformed markup handled as browsers do), which
reports where each start tag is. Only the ``<a>`` tags whose link is tracked are written
anew; every other byte of the part stays as the sender wrote it.

Left alone: links that are not ``http(s)``; ``mailto:``, ``tel:`` and ``#anchors`` therefore;
links marked ``data-herald-track="off"``; and the unsubscribe link (it must work without a
detour, and RFC 8058 clients call it directly).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from typing import NamedTuple

TRACK_ATTRIBUTE = "data-herald-track"
UNSUBSCRIBE_VARIABLE = "{{ unsubscribe_url }}"
"""Written in a body (or rendered by a template, which has ``unsubscribe_url`` set to this
very text), replaced by the message's hosted one-click unsubscribe URL, or by nothing."""
_SCHEMES = ("http://", "https://")


class _Anchor(NamedTuple):
    start: int
    end: int
    attrs: list[tuple[str, str | None]]
    self_closing: bool


class _AnchorFinder(HTMLParser):
    """Collects every ``<a>`` start tag with its span in the source."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                self._line_starts.append(index + 1)
        self.anchors: list[_Anchor] = []

    def _record(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> None:
        text = self.get_starttag_text()
        if tag != "a" or text is None:
            return
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        self.anchors.append(_Anchor(start, start + len(text), attrs, closing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs, closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs, closing=True)


def trackable(href: str, attrs: list[tuple[str, str | None]], untracked: frozenset[str]) -> bool:
    """Whether a link is rewritten: an http(s) URL, not opted out, not the unsubscribe link."""
    url = href.strip()
    if not url.lower().startswith(_SCHEMES) or url in untracked:
        return False
    if any(ord(c) < 32 or c == "\x7f" for c in url):
        return False  # a line break in a URL is no link a browser follows: left alone
    return not any(n == TRACK_ATTRIBUTE and (v or "").lower() == "off" for n, v in attrs)


def _start_tag(attrs: list[tuple[str, str | None]], self_closing: bool) -> str:
    parts = ["<a"]
    for name, value in attrs:
        parts.append(f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"')
    parts.append(" />" if self_closing else ">")
    return "".join(parts)


def rewrite_links(
    html: str, tracked_url: Callable[[int], str], untracked: frozenset[str] = frozenset()
) -> tuple[str, list[str]]:
    """``html`` with each trackable link's ``href`` replaced by ``tracked_url(index)``, and
    the original URLs in index order (stored with the message: the redirect's targets)."""
    finder = _AnchorFinder(html)
    finder.feed(html)
    finder.close()
    links: list[str] = []
    pieces: list[str] = []
    position = 0
    for anchor in finder.anchors:
        hrefs = [value for name, value in anchor.attrs if name == "href" and value is not None]
        if len(hrefs) != 1 or not trackable(hrefs[0], anchor.attrs, untracked):
            continue
        index = len(links)
        links.append(hrefs[0].strip())
        attrs = [(n, tracked_url(index) if n == "href" else v) for n, v in anchor.attrs]
        pieces += [html[position : anchor.start], _start_tag(attrs, anchor.self_closing)]
        position = anchor.end
    pieces.append(html[position:])
    return "".join(pieces), links


def pixel_tag(pixel_url: str) -> str:
    """The open-tracking image, as :func:`add_pixel` writes it."""
    return (
        f'<img src="{escape(pixel_url, quote=True)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )


def add_pixel(html: str, pixel_url: str) -> str:
    """``html`` with a 1x1 image of ``pixel_url`` at the end of its body."""
    image = pixel_tag(pixel_url)
    closing = html.lower().rfind("</body>")
    if closing < 0:
        return html + image
    return html[:closing] + image + html[closing:]
