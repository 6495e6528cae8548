"""Every problem ``type`` the API answers with is explained, in the repository and on the
server, and nothing points at a page that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from herald_service.api import problem_catalog
from herald_service.api.app import create_app  # imports every feature, so every error class
from herald_service.errors import HeraldError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "problems.md"
REGENERATE = "run `.venv/bin/python -m herald_service.api.problem_catalog > docs/problems.md`"
# Titles given in code rather than by an error class: the framework's errors, the
# connection-level answers, overload shedding, the last-resort handler.
LITERAL_TITLES = (
    "Malformed request",
    "Method not allowed",
    "Payload too large",
    "Request error",
    "Request timeout",
    "Request headers too large",
    "Internal error",
    "Service overloaded",
)


def _error_classes(base: type[HeraldError]) -> list[type[HeraldError]]:
    found = [base]
    for sub in base.__subclasses__():
        found += _error_classes(sub)
    return found


def test_the_committed_page_is_the_catalog() -> None:
    assert DOCS.read_text() == problem_catalog.markdown(), REGENERATE


def test_every_title_the_api_uses_has_an_entry() -> None:
    assert create_app is not None
    titles = {cls.title for cls in _error_classes(HeraldError)} | set(LITERAL_TITLES)
    assert len(titles) >= 14
    for title in titles:
        uri = problem_catalog.type_uri(title)
        assert uri.startswith("/problems#"), f"{title!r} has no entry in problem_catalog"
        assert f'<a id="{uri.split("#")[1]}"></a>' in DOCS.read_text()


def test_an_unknown_title_is_about_blank() -> None:
    assert problem_catalog.type_uri("Something new") == "about:blank"


def test_the_page_has_one_anchor_per_entry_and_escapes_its_text() -> None:
    page = problem_catalog.page()
    anchors = re.findall(r'<section id="([a-z0-9-]+)">', page)
    assert anchors == [problem_catalog.slug(k.title) for k in problem_catalog.CATALOG]
    assert len(set(anchors)) == len(anchors)
    assert "<code>Retry-After</code>" in page and "`" not in page
