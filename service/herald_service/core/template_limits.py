"""What a template render may cost and what its output may hold (no Jinja here).

The renderer (``templates/rendering.py``) enforces these while it runs: a template is
caller-written code, so every render is bounded in output, loop iterations and time.
"""

from __future__ import annotations

import re

MAX_OUTPUT_CHARS = 1_000_000
"""Characters a render may produce over its parts together."""
MAX_LOOP_ITERATIONS = 10_000
"""``{% for %}`` iterations (all loops, nested ones included) and ``range()`` length."""
MAX_RENDER_SECONDS = 0.5
"""Wall-clock time one render may take."""
MAX_SUBJECT_SOURCE = 2000
MAX_PART_SOURCE = 1_000_000
PARTS = ("subject", "html", "text")

ALIAS_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}(?![\s\S])"
"""An alias: lower-case letters, digits, ``_ . -``; up to 100 characters."""

_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def subject_problem(subject: str) -> str | None:
    """Why a rendered subject may not become a header (``None`` when it may)."""
    if _LINE_BREAK.search(subject):
        return "the rendered subject contains a line break (CR or LF); it must be one line"
    if _CONTROL.search(subject):
        return "the rendered subject contains a control character"
    if len(subject) > 998:
        return f"the rendered subject is {len(subject)} characters; at most 998 are allowed"
    return None


def repeat_allowed(length: int, times: int, used: int) -> bool:
    """Whether repeating a ``length``-long value ``times`` times stays within the output
    budget when ``used`` characters are already produced (``'x' * 10**9`` is refused
    before it is built)."""
    return times <= 0 or length * times + used <= MAX_OUTPUT_CHARS


def power_allowed(base: object, exponent: object) -> bool:
    """Whether ``base ** exponent`` is small enough to compute (an integer of at most
    about 4,000 digits, the size Python itself caps int-to-string conversion at)."""
    if not isinstance(base, int) or not isinstance(exponent, int) or exponent < 0:
        return True
    if abs(base) <= 1:
        return True
    return exponent * abs(base).bit_length() <= 4000 * 4


_WIDE_FORMAT = re.compile(r"[%:][^%{}]*?\d{7,}")


def sizes_output_beyond_cap(value: object) -> bool:
    """Whether an argument could size one call's output beyond the cap (a width or a
    count over it: ``'x'.center(10**9)``)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > MAX_OUTPUT_CHARS


def wide_format(template: str) -> bool:
    """Whether a ``%`` or ``str.format`` template asks for a width of seven digits or
    more (``'%9999999s'``, ``'{:>9999999}'``)."""
    return _WIDE_FORMAT.search(template) is not None


def data_field(path: tuple[str | int, ...]) -> str:
    """The field naming a value in ``template_data`` (``template_data.user.name``)."""
    return ".".join(["template_data", *(str(p) for p in path)])
