"""The process's compiled template versions, so a send by template compiles once."""

from __future__ import annotations

from collections import OrderedDict

from herald_service.templates.rendering import Compiled, compile_parts


class CompiledCache:
    """Compiled versions by ``(template id, version)``, least recently used dropped first.
    A version never changes, so an entry never goes stale."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int], Compiled] = OrderedDict()

    def get(
        self, key: tuple[str, int], subject: str, html: str | None, text: str | None
    ) -> Compiled:
        """The compiled parts of ``key``, compiling (and keeping) them on a miss."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        compiled = compile_parts(subject, html, text)
        self._entries[key] = compiled
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return compiled

    def peek(self, key: tuple[str, int]) -> Compiled | None:
        """The compiled parts of ``key`` when they are cached (so the source need not be
        loaded), else ``None``."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found


COMPILED = CompiledCache()
"""The process's cache: sends by template compile each version once."""
