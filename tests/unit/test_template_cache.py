"""The per-process cache of compiled template versions: bounded, least recently used out."""

from __future__ import annotations

from herald_service.templates.cache import CompiledCache
from herald_service.templates.rendering import render


def test_compiles_once_per_version_and_drops_the_least_recently_used() -> None:
    cache = CompiledCache(size=2)
    first = cache.get(("tpl_a", 1), "A {{ x }}", None, "a")
    assert cache.get(("tpl_a", 1), "ignored: cached", None, "ignored") is first
    assert render(first, {"x": 1}).subject == "A 1"
    cache.get(("tpl_b", 1), "B", None, "b")
    assert cache.peek(("tpl_a", 1)) is first  # now the most recently used
    cache.get(("tpl_c", 1), "C", None, "c")
    assert cache.peek(("tpl_b", 1)) is None
    assert cache.peek(("tpl_a", 1)) is first
    assert cache.peek(("tpl_c", 1)) is not None
