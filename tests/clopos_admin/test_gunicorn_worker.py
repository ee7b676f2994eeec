"""clopos_admin.gunicorn_worker: the opt-in gthread worker that accepts only while few
connections are in its threads (issue 13, the warm page's tail)."""

from __future__ import annotations

import runpy

import pytest
from gunicorn.workers.gthread import ThreadWorker

from clopos_admin.gunicorn_worker import GatedThreadWorker
from tests.live import ROOT


@pytest.fixture
def worker(monkeypatch):
    """A worker without a process: the thread pool and the listener are recorded, not run."""
    accepting: list[bool] = []
    submitted: list[object] = []

    def record_accept(self, enabled):
        self._accepting = enabled
        accepting.append(enabled)

    monkeypatch.setattr(ThreadWorker, "set_accept_enabled", record_accept)
    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda self, conn: submitted.append(conn))
    monkeypatch.setattr(ThreadWorker, "finish_request", lambda self, conn, fs: None)
    gated = GatedThreadWorker.__new__(GatedThreadWorker)
    gated.gate, gated.nr_conns, gated.worker_connections, gated._accepting = 2, 0, 1000, False
    gated.accepting, gated.submitted = accepting, submitted
    return gated


def test_it_stops_accepting_once_the_gate_is_full_and_gunicorns_loop_cannot_reopen_it(worker):
    worker.set_accept_enabled(True)
    assert worker._accepting is True
    worker.nr_conns = 1
    worker.enqueue_req("first")
    assert worker._accepting is True  # one of two
    worker.nr_conns = 2
    worker.enqueue_req("second")
    assert worker._accepting is False
    # gunicorn's loop asks again on every turn while it holds fewer than worker_connections.
    worker.set_accept_enabled(worker.nr_conns < worker.worker_connections)
    assert worker._accepting is False
    assert worker.submitted == ["first", "second"]  # both still go to the thread pool


def test_a_finished_request_reopens_the_gate(worker):
    worker.set_accept_enabled(True)
    worker.enqueue_req("first")
    worker.enqueue_req("second")
    assert worker._accepting is False
    worker.finish_request("first", None)
    assert worker.in_threads == 1
    assert worker._accepting is True


def test_gunicorns_own_cap_still_applies(worker):
    worker.worker_connections = 1
    worker.nr_conns = 1
    worker.set_accept_enabled(worker.nr_conns < worker.worker_connections)
    assert worker._accepting is False


@pytest.mark.parametrize(
    ("environ", "worker_class"),
    [
        ({}, "gthread"),
        ({"GUNICORN_ACCEPT_GATE": "0"}, "gthread"),
        ({"GUNICORN_ACCEPT_GATE": "2"}, "clopos_admin.gunicorn_worker.GatedThreadWorker"),
        ({"GUNICORN_ACCEPT_GATE": "2", "GUNICORN_THREADS": "1"}, "sync"),
    ],
)
def test_the_gate_is_opt_in(monkeypatch, environ, worker_class):
    for name in ("GUNICORN_ACCEPT_GATE", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_class"] == worker_class
