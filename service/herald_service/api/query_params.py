"""Query parameters that several list endpoints share, declared once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import FromQuery, QueryParameter

Since = Annotated[datetime | None, QueryParameter(description="At or after (ISO 8601).")]
Until = Annotated[datetime | None, QueryParameter(description="Before (ISO 8601).")]
Cursor = FromQuery[str | None]
PageSize = Annotated[int, QueryParameter(ge=1, le=100, description="Page size (1-100).")]
