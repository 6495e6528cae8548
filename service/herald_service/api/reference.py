"""The API reference: ``GET /openapi.json`` and a rendered page at ``/docs``.

``/openapi.json`` is the document ``herald openapi`` prints (the committed
``openapi/openapi.json``), byte for byte. ``/docs`` renders it with Redoc, vendored under
``reference_assets/`` and served from ``/docs/static/``: the machines may be offline, and
the page loads nothing from elsewhere. Its Content-Security-Policy allows scripts from this
origin only; Redoc's styled components inject ``<style>`` elements, so styles may be inline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.enums import MediaType
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

from herald_service.api import problem_catalog

ASSETS = Path(__file__).with_name("reference_assets")
STATIC_PATH = "/docs/static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CSP),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
]
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald API reference</title>
<link rel="stylesheet" href="{STATIC_PATH}/reference.css">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="{STATIC_PATH}/redoc.standalone.js"></script>
</body>
</html>
"""


def openapi_document(app: Litestar) -> str:
    """The app's OpenAPI document as ``herald openapi`` writes it (sorted, indented)."""
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True) + "\n"


def _document_bytes(app: Litestar) -> bytes:
    """:func:`openapi_document`, encoded once per app."""
    cached: bytes | None = getattr(app.state, "openapi_document", None)
    if cached is None:
        cached = openapi_document(app).encode()
        app.state.openapi_document = cached
    return cached


PROBLEM_PAGE_HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
]


@get(
    problem_catalog.PAGE_PATH,
    include_in_schema=False,
    media_type="text/html; charset=utf-8",
    response_headers=PROBLEM_PAGE_HEADERS,
    sync_to_thread=False,
)
def problems_page() -> str:
    """``/problems``: what each problem ``type`` means, one anchor per type."""
    return _PROBLEMS_PAGE


_PROBLEMS_PAGE = problem_catalog.page()


@get("/openapi.json", include_in_schema=False, media_type="application/json", cache=False)
async def openapi_json(request: Request[Any, Any, Any]) -> bytes:
    """The OpenAPI document."""
    return _document_bytes(request.app)


class ReferencePage(OpenAPIRenderPlugin):
    """``/docs``: the page that renders ``/openapi.json`` with the vendored Redoc."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page (it fetches the document itself)."""
        return PAGE.encode()


class DocumentCopy(OpenAPIRenderPlugin):
    """``/docs/openapi.json``, where Litestar would serve its own rendering: the same bytes
    as ``/openapi.json``, so there is one document."""

    def __init__(self) -> None:
        super().__init__(path="/openapi.json", media_type=MediaType.JSON)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The document."""
        return _document_bytes(request.app)


def reference_router() -> Router:
    """The router Litestar adds the ``/docs`` page to, with the page's security headers."""
    return Router(
        "/docs", route_handlers=[], include_in_schema=False, response_headers=PAGE_HEADERS
    )


def static_assets() -> Router:
    """Redoc's script and licences under ``/docs/static``."""
    return create_static_files_router(
        STATIC_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        name="reference_assets",
    )
