"""Query parameters that several list endpoints share, declared once."""

from __future__ import annotations

from typing import Annotated

from litestar.params import FromQuery, QueryParameter

# Timestamps are parsed by ``pagination.timestamp``: strict RFC 3339 with a time zone, where
# a lenient conversion would also read ``0.5`` as a Unix time.
Since = Annotated[
    str | None,
    QueryParameter(format="date-time", description="At or after (RFC 3339, with a time zone)."),
]
Until = Annotated[
    str | None,
    QueryParameter(format="date-time", description="Before (RFC 3339, with a time zone)."),
]
Cursor = FromQuery[str | None]
PageSize = Annotated[int, QueryParameter(ge=1, le=100, description="Page size (1-100).")]
