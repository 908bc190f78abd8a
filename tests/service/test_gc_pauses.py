"""Garbage-collection pauses (``solver.app.service._gc``): none starts inside a write
transaction, nested and concurrent sections restore the collector exactly, and startup
objects are frozen out of later collections."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from solver.app.service import Store, StoreSettings, _gc, freeze_startup_objects
from solver.app.service._gc import no_collection


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_inside_and_back_on_after_even_on_error() -> None:
    with no_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="boom"), no_collection():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_sections_turn_it_on_only_when_the_last_leaves() -> None:
    with no_collection():
        with no_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with no_collection():
        pass
    assert not gc.isenabled()


def test_concurrent_sections_in_two_threads() -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with no_collection():
            inside.set()
            release.wait(5)

    other = threading.Thread(target=hold)
    other.start()
    assert inside.wait(5)
    with no_collection():
        pass
    assert not gc.isenabled()  # the other thread is still inside
    release.set()
    other.join(5)
    assert gc.isenabled()


def test_a_write_transaction_runs_without_collections() -> None:
    store = Store(StoreSettings(url="sqlite:///:memory:"))
    with store.write():
        assert not gc.isenabled()
    with store.read():
        assert gc.isenabled()
    assert gc.isenabled()
    store.dispose()


def test_startup_objects_are_frozen_once_per_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gc, "_frozen", False)  # as in a process that has not started yet
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        made_since = [[index] for index in range(1000)]  # alive, tracked, not frozen
        freeze_startup_objects()  # another app starting in the same process
        assert gc.get_freeze_count() == frozen
        assert made_since
    finally:
        gc.unfreeze()
