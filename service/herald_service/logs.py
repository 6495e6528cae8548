"""Logging set-up for Herald's processes: JSON lines or console, with secrets masked.

Herald never logs keys or secrets on purpose; as a second line of defence every record
passes a filter that masks anything shaped like an API key or webhook secret.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog

_SECRET = re.compile(r"(hrld_[0-9a-z]{16}_)[0-9A-Za-z]{38}|(whsec_)[A-Za-z0-9+/=]{16,}")


def mask_secrets(text: str) -> str:
    """``text`` with API key secrets and webhook secrets replaced by ``***``."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Route stdlib logging through structlog's formatter (``fmt``: ``json``/``console``)."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("rq.worker", "httpx", "aiosmtpd", "mail.log", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
