"""Problems in a message's HTML that mail clients punish: broken structure, images without
``alt``, links that cannot work in a mailbox, anchors with no target.

Mail clients render HTML with little tolerance and no base URL, so a relative link goes
nowhere and a tag left open can swallow the rest of the layout. The parser is the standard
library's tokenizer (:class:`html.parser.HTMLParser`); nesting is tracked here, knowing
which elements are void and which may omit their end tag.
"""

from __future__ import annotations

from collections.abc import Collection
from html.parser import HTMLParser
from urllib.parse import urlsplit

from herald_service.core.findings import CheckFinding, Severity, finding

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# End tags the HTML standard lets an author leave out.
OPTIONAL_END = frozenset(
    [
        "html",
        "head",
        "body",
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "rb",
        "rt",
        "rtc",
        "rp",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "caption",
    ]
)
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
IMAGE_SCHEMES = frozenset({"http", "https", "cid", "data"})


class _Open:
    """An element not closed yet, and where it was opened."""

    __slots__ = ("position", "tag")

    def __init__(self, tag: str, position: str) -> None:
        self.tag = tag
        self.position = position


class _Link:
    """An ``<a>`` being read: where, its href, and whether it has content to click."""

    __slots__ = ("href", "position", "visible")

    def __init__(self, href: str | None, position: str) -> None:
        self.href = href
        self.position = position
        self.visible = False


class _Checker(HTMLParser):
    def __init__(self, content_ids: Collection[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[CheckFinding] = []
        self.stack: list[_Open] = []
        self.targets: set[str] = set()
        self.anchors: list[tuple[str, str]] = []
        self.link: _Link | None = None
        self.content_ids = {c.strip("<>").lower() for c in content_ids}

    def at(self) -> str:
        line, column = self.getpos()
        return f"line {line}, column {column + 1}"

    def add(self, check: str, severity: Severity, message: str, location: str = "") -> None:
        self.findings.append(finding(check, severity, "html", message, location or self.at()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, dict(attrs))
        if tag not in VOID:
            self.stack.append(_Open(tag, self.at()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, dict(attrs))
        if tag not in VOID:
            self.add("html_structure", "warning", f"<{tag}/> is not a void element: write </{tag}>")

    def _element(self, tag: str, attrs: dict[str, str | None]) -> None:
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.targets.add(str(attrs[name]))
        if tag == "img":
            self._image(attrs)
        elif tag in ("a", "area") and not _named_anchor(attrs):
            self._href(attrs.get("href"))
        elif tag in ("script", "form", "iframe", "object"):
            self.add("html_content", "warning", f"<{tag}> is removed or blocked by mail clients")
        if tag == "a":
            self._end_link()
            self.link = _Link(attrs.get("href"), self.at())

    def _image(self, attrs: dict[str, str | None]) -> None:
        if self.link is not None and (attrs.get("alt") or "").strip():
            self.link.visible = True
        if "alt" not in attrs:
            self.add("image_alt", "warning", 'image without alt text (use alt="" if decorative)')
        src = (attrs.get("src") or "").strip()
        if not src:
            self.add("image_src", "error", "image without src")
            return
        scheme = urlsplit(src).scheme.lower()
        if scheme == "cid":
            if src[4:].strip("<>").lower() not in self.content_ids:
                self.add("image_src", "error", f"{src} names no inline attachment's content_id")
        elif scheme not in IMAGE_SCHEMES:
            self.add("image_src", "error", f"image source {src!r} is not an absolute http(s) URL")

    def _href(self, href: str | None) -> None:
        if href is None or not href.strip():
            self.add("link", "warning", "link without a target (no href)")
            return
        url = href.strip()
        if url.startswith("#"):
            self.anchors.append((url[1:], self.at()))
            return
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in LINK_SCHEMES:
            why = "relative, so it goes nowhere in a mailbox" if not scheme else "not allowed"
            self.add("link", "error", f"link {url!r} is {why}: use an absolute http(s) URL")
        elif scheme in ("http", "https") and not parts.hostname:
            self.add("link", "error", f"link {url!r} has no host name")
        elif scheme in ("mailto", "tel") and not parts.path.strip():
            self.add("link", "error", f"link {url!r} has no {scheme} address")

    def handle_data(self, data: str) -> None:
        if self.link is not None and data.strip():
            self.link.visible = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._end_link()
        if tag in VOID:
            if tag != "br":
                self.add("html_structure", "warning", f"</{tag}>: <{tag}> has no end tag")
            return
        index = next(
            (i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i].tag == tag), -1
        )
        if index < 0:
            self.add("html_structure", "error", f"</{tag}> closes nothing: no <{tag}> is open")
            return
        for inner in self.stack[index + 1 :]:
            if inner.tag not in OPTIONAL_END:
                message = (
                    f"<{inner.tag}> (opened at {inner.position}) is not closed before </{tag}>"
                )
                self.add("html_structure", "error", message)
        del self.stack[index:]

    def _end_link(self) -> None:
        link, self.link = self.link, None
        if link is not None and link.href and not link.visible:
            self.add("link", "warning", "link with no text or image to click", link.position)

    def finish(self) -> list[CheckFinding]:
        self.close()
        self._end_link()
        for element in self.stack:
            if element.tag not in OPTIONAL_END:
                message = f"<{element.tag}> is never closed"
                self.add("html_structure", "error", message, element.position)
        for anchor, position in self.anchors:
            if anchor and anchor not in self.targets:
                message = f'link to #{anchor}, but no element has id="{anchor}"'
                self.add("anchor", "error", message, position)
        return self.findings


def _named_anchor(attrs: dict[str, str | None]) -> bool:
    """``<a name="x">`` or ``<a id="x">`` without href: a link target, not a link."""
    return "href" not in attrs and bool(attrs.get("name") or attrs.get("id"))


def html_findings(html: str, content_ids: Collection[str] = ()) -> list[CheckFinding]:
    """Every problem in ``html``; ``content_ids`` are the inline attachments' ids, which
    ``cid:`` image sources must name."""
    checker = _Checker(content_ids)
    checker.feed(html)
    return checker.finish()
