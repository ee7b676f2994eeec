"""gunicorn.conf.py's garbage-collector hooks: the loaded app is frozen before the fork, so a
worker's full collection never walks it again (issue 13, the warm page's tail)."""

from __future__ import annotations

import gc
import runpy
import weakref

import pytest

from tests.live import ROOT


@pytest.fixture
def hooks(monkeypatch):
    """gunicorn.conf.py as gunicorn reads it, with the environment a test sets first."""
    gc.unfreeze()

    def load(**environ: str) -> dict:
        monkeypatch.delenv("GUNICORN_GC_FREEZE", raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    yield load
    gc.unfreeze()  # the objects go back to the collector for the rest of the suite


class Node:
    def __init__(self) -> None:
        self.partner: Node | None = None


def test_pre_fork_freezes_what_the_master_holds(hooks):
    kept = Node()
    hooks()["pre_fork"](None, None)
    assert gc.get_freeze_count() > 10_000  # the app's modules, not a handful of objects
    assert not any(obj is kept for obj in gc.get_objects())  # no collection visits it now


def test_start_up_garbage_is_collected_not_frozen_for_ever(hooks):
    pre_fork = hooks()["pre_fork"]
    cycle = Node()
    cycle.partner = Node()
    cycle.partner.partner = cycle
    gone = weakref.ref(cycle)
    del cycle
    pre_fork(None, None)
    assert gone() is None


def test_a_worker_freezes_what_it_loaded_itself(hooks, monkeypatch):
    """Without preload_app the app is imported after the fork; post_worker_init freezes it."""
    monkeypatch.setattr("audit.journal.start_drainer_if_journaled", lambda: None)
    post_worker_init = hooks()["post_worker_init"]
    loaded_by_the_worker = Node()
    post_worker_init(None)
    assert gc.get_freeze_count() > 0
    assert not any(obj is loaded_by_the_worker for obj in gc.get_objects())


def test_gunicorn_gc_freeze_0_leaves_the_collector_alone(hooks, monkeypatch):
    monkeypatch.setattr("audit.journal.start_drainer_if_journaled", lambda: None)
    config = hooks(GUNICORN_GC_FREEZE="0")
    config["pre_fork"](None, None)
    config["post_worker_init"](None)
    assert gc.get_freeze_count() == 0
