"""``HERALD_SHUTDOWN_TIMEOUT``: a duration like the others, 25 s unless set."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald_service.settings import ConfigError, load_settings

NO_FILE = Path("/nonexistent")


def test_shutdown_timeout_defaults_to_25_seconds() -> None:
    assert load_settings({}, env_file=NO_FILE).shutdown_timeout == 25.0


@pytest.mark.parametrize(("text", "seconds"), [("40s", 40.0), ("1m30s", 90.0), ("0", 0.0)])
def test_shutdown_timeout_is_a_duration(text: str, seconds: float) -> None:
    settings = load_settings({"HERALD_SHUTDOWN_TIMEOUT": text}, env_file=NO_FILE)
    assert settings.shutdown_timeout == seconds


@pytest.mark.parametrize("text", ["soon", "-5s", "10 parsecs"])
def test_a_shutdown_timeout_that_is_no_duration_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="HERALD_SHUTDOWN_TIMEOUT: "):
        load_settings({"HERALD_SHUTDOWN_TIMEOUT": text}, env_file=NO_FILE)
