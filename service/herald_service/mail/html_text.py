"""A plain-text rendering of HTML, for the text/plain alternative of HTML-only messages."""

from __future__ import annotations

import threading

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

_local = threading.local()


def _config() -> ParserConfig:
    """This thread's parser configuration. inscriptis keeps each document's canvas on the
    profile's ``body`` element, so two threads converting at once with one shared profile
    would write into each other's text; each thread gets its own copy of the profile."""
    config: ParserConfig | None = getattr(_local, "config", None)
    if config is None:
        css = {tag: element.__copy__() for tag, element in CSS_PROFILES["strict"].items()}
        config = ParserConfig(css=css, display_links=True, display_anchors=False)
        _local.config = config
    return config


def html_to_text(html: str) -> str:
    """Readable text for ``html``: block layout kept, link targets shown after their text."""
    text: str = get_text(html, _config())
    return text.strip() + "\n"
