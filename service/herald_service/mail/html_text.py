"""A plain-text rendering of HTML, for the text/plain alternative of HTML-only messages."""

from __future__ import annotations

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=True, display_anchors=False)


def html_to_text(html: str) -> str:
    """Readable text for ``html``: block layout kept, link targets shown after their text."""
    text: str = get_text(html, _CONFIG)
    return text.strip() + "\n"
