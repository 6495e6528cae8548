"""Request headers that several endpoints share, declared once."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Same key and body within 24 h: the original response, nothing sent "
        "twice. While the first request with the key is in progress: 409 with Retry-After.",
        # Documented here, checked by the idempotency service (a 422 naming the header).
        schema_extra={"pattern": r"^[!-~]{1,255}(?![\s\S])"},
    ),
]
