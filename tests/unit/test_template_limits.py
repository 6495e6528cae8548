"""The pure rules a template render is held to (``core/template_limits.py``)."""

from __future__ import annotations

import re

import pytest

from herald_service.core import template_limits as limits


@pytest.mark.parametrize(
    ("subject", "refused"),
    [
        ("Welcome, Ann", None),
        ("Ünïcode ✓ subject", None),
        ("a\r\nBcc: victim@example.com", "line break"),
        ("a\nb", "line break"),
        ("a\rb", "line break"),
        ("a\u2028b", "line break"),
        ("tab\tis fine", None),
        ("bell\x07", "control character"),
        ("x" * 998, None),
        ("x" * 999, "at most 998"),
    ],
)
def test_subject_problem(subject: str, refused: str | None) -> None:
    problem = limits.subject_problem(subject)
    assert (problem is None) if refused is None else (problem is not None and refused in problem)


@pytest.mark.parametrize(
    ("length", "times", "used", "allowed"),
    [
        (1, 1000, 0, True),
        (1, limits.MAX_OUTPUT_CHARS, 0, True),
        (1, limits.MAX_OUTPUT_CHARS + 1, 0, False),
        (300, 3000, 0, True),
        (300, 3000, limits.MAX_OUTPUT_CHARS - 100, False),
        (10, -5, 0, True),
        (10**6, 0, 0, True),
    ],
)
def test_repeat_allowed(length: int, times: int, used: int, allowed: bool) -> None:
    assert limits.repeat_allowed(length, times, used) is allowed


@pytest.mark.parametrize(
    ("base", "exponent", "allowed"),
    [
        (2, 10, True),
        (10, 1000, True),
        (9, 99_999_999, False),
        (1, 10**9, True),
        (-1, 10**9, True),
        (2.0, 10**9, True),  # floats overflow to an error, they do not grow
        (2, -5, True),
    ],
)
def test_power_allowed(base: object, exponent: object, allowed: bool) -> None:
    assert limits.power_allowed(base, exponent) is allowed


@pytest.mark.parametrize(
    ("value", "sized"),
    [(10, False), (limits.MAX_OUTPUT_CHARS + 1, True), (True, False), ("10000000", False)],
)
def test_sizes_output_beyond_cap(value: object, sized: bool) -> None:
    assert limits.sizes_output_beyond_cap(value) is sized


@pytest.mark.parametrize(
    ("template", "wide"),
    [
        ("%s items", False),
        ("%5d", False),
        ("%9999999s", True),
        ("{:>20}", False),
        ("{:>99999999}", True),
        ("Order 12345678", False),
        ("{0} of 1234567", False),
    ],
)
def test_wide_format(template: str, wide: bool) -> None:
    assert limits.wide_format(template) is wide


@pytest.mark.parametrize(
    ("alias", "valid"),
    [
        ("welcome", True),
        ("welcome-v2.en_gb", True),
        ("Welcome", False),
        ("-lead", False),
        ("a" * 100, True),
        ("a" * 101, False),
        ("welcome\n", False),
        ("", False),
    ],
)
def test_alias_pattern(alias: str, valid: bool) -> None:
    assert (re.search(limits.ALIAS_PATTERN, alias) is not None) is valid


def test_data_field_names_the_path() -> None:
    assert limits.data_field(("user", "first_name")) == "template_data.user.first_name"
    assert limits.data_field(("items", 0, "qty")) == "template_data.items.0.qty"
