"""The API reference: ``/openapi.json`` is the committed document, and ``/docs`` renders it
with assets this server serves itself, under a Content-Security-Policy."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class _Page(HTMLParser):
    """The URLs a page loads, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "spec-url"):
            if values.get(name):
                self.urls.append((tag, str(values[name])))
        self._in_script = tag == "script"
        if tag == "script" and not values.get("src"):
            self.inline_scripts.append("")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


async def test_openapi_json_is_the_committed_document(
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == COMMITTED.read_bytes()
    again = await api.get("/docs/openapi.json")
    assert again.content == response.content


async def test_docs_page_loads_only_local_assets_under_a_strict_policy(
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    response = await api.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"

    page = _Page()
    page.feed(response.text)
    assert page.inline_scripts == []
    assert "http:" not in response.text and "https:" not in response.text
    assert "//" not in "".join(url for _, url in page.urls)
    kinds = dict(page.urls)
    assert set(kinds) == {"link", "script", "redoc"}
    assert kinds["redoc"] == "/openapi.json"
    expected_type = {"script": "text/javascript", "link": "text/css", "redoc": "application/json"}
    for tag, url in page.urls:
        assert url.startswith("/"), url
        asset = await api.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(expected_type[tag]), url
        assert b"cdn." not in asset.content, url


async def test_the_renderer_licence_is_served_and_unknown_assets_are_404(
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    licence = await api.get("/docs/static/LICENSE.redoc.txt")
    assert licence.status_code == 200
    assert licence.headers["content-type"].startswith("text/plain")
    assert "MIT License" in licence.text
    assert (await api.get("/docs/static/missing.js")).status_code == 404
    assert (await api.get("/docs/static/%2e%2e/reference.py")).status_code == 404


async def test_a_problem_type_leads_to_its_explanation(
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    missing = await api.get("/v1/messages/msg_nope", headers={"Authorization": "Bearer nope"})
    problem = missing.json()
    assert problem["type"] == "/problems#unauthorized"
    page = await api.get(problem["type"].split("#")[0])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert f'<section id="{problem["type"].split("#")[1]}">' in page.text
    routed = await api.get("/v1/nowhere")
    assert routed.json()["type"] == "/problems#not-found"
    assert '<section id="not-found">' in page.text
