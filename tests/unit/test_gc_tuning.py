"""The API and the delivery worker collect the young generation less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald_service.api.app import create_app
from herald_service.gc_tuning import YOUNG_GENERATION_THRESHOLD
from herald_service.settings import load_settings


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("default_thresholds")
def test_building_the_api_app_raises_the_young_threshold_only() -> None:
    settings = load_settings({"HERALD_SECRET_KEY": "x"}, env_file=Path("/nonexistent"))
    create_app(settings)
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 10, 10)
