"""The API and the delivery worker collect the young generation less often, and leave
their startup objects out of collections while they serve."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_queue import worker
from herald_service.api.app import create_app
from herald_service.gc_tuning import YOUNG_GENERATION_THRESHOLD, frozen_startup_objects
from herald_service.settings import Settings, load_settings
from support.harness import Herald


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


def test_objects_frozen_at_start_wait_and_later_ones_are_collected() -> None:
    class Node:
        peer: Node | None = None

    def cycle() -> Node:
        node = Node()
        node.peer = node  # only the collector can free it
        return node

    startup_object = cycle()
    before = weakref.ref(startup_object)
    with frozen_startup_objects():
        assert gc.get_freeze_count() > 0
        del startup_object  # garbage now, but frozen
        during = weakref.ref(cycle())
        gc.collect()
        assert during() is None  # created after the freeze: collected as usual
        assert before() is not None  # frozen: left alone while the block runs
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert before() is None


async def test_the_api_freezes_its_startup_objects_while_it_serves(herald: Herald) -> None:
    assert gc.get_freeze_count() == 0
    async with AsyncTestClient(create_app(herald.settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_the_delivery_worker_freezes_its_startup_objects_while_it_works(
    herald_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(worker, "_work", lambda *_, **__: seen.append(gc.get_freeze_count()))
    worker.run_worker(herald_settings, burst=True, sweep=False)
    assert seen and seen[0] > 0
    assert gc.get_freeze_count() == 0
