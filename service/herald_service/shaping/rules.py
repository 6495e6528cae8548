"""The shaping rules in force: the built-in ones, or those of ``HERALD_SHAPING_FILE``
(checked when the settings are loaded, so a bad file stops the process at start-up)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from herald_service.core.shaping import DEFAULT_RULES, ShapingRules, parse_shaping
from herald_service.settings import Settings


@cache
def _load(path: str) -> ShapingRules:
    return parse_shaping(Path(path).read_text(encoding="utf-8"))


def shaping_rules(settings: Settings) -> ShapingRules:
    """The rules ``settings`` name (read once per process and path)."""
    return _load(settings.shaping_file) if settings.shaping_file else DEFAULT_RULES
