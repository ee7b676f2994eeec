"""clopos_admin.gunicorn_worker: the gthread worker that accepts only while few of its threads
run Python (issue 13, the warm page's tail), and never counts a thread waiting on Clopos or on a
slow client (issue 9's headroom)."""

from __future__ import annotations

import runpy
import threading

import pytest
from gunicorn.workers.gthread import ThreadWorker

from clopos import waiting
from clopos_admin import gunicorn_worker
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
    gated.waiting_elsewhere, gated.reading_since, gated._waiting_lock = 0, {}, threading.Lock()
    gated.method_queue = DeferredCalls()
    gated.cfg = type("Config", (), {"threads": 8})()
    gated.accepting, gated.submitted = accepting, submitted
    return gated


class DeferredCalls:
    """gunicorn's method queue: calls a request thread hands to the main thread, run on `run()`."""

    def __init__(self):
        self.calls = []

    def defer(self, callback, *args):
        self.calls.append((callback, args))

    def run(self):
        calls, self.calls = self.calls, []
        for callback, args in calls:
            callback(*args)


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


def test_a_thread_waiting_elsewhere_does_not_hold_the_gate(worker):
    worker.set_accept_enabled(True)
    worker.enqueue_req("cold order")
    worker.enqueue_req("warm order")
    assert worker._accepting is False

    worker.thread_waits(+1)  # the cold order's thread starts waiting on Clopos
    worker.method_queue.run()
    assert worker._accepting is True  # at once, not on the loop's next turn
    worker.thread_waits(-1)  # its answer is in: it runs Python again
    worker.enqueue_req("third")
    assert worker._accepting is False


def test_a_slow_client_does_not_hold_the_gate_once_its_grace_is_over(worker, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(gunicorn_worker.time, "monotonic", lambda: now[0])
    worker.set_accept_enabled(True)
    worker.enqueue_req("slowloris")
    worker.enqueue_req("normal")
    worker.reading_since[1] = 100.0  # the slowloris' thread, still reading its headers
    worker.reconsider()
    assert worker._accepting is False  # within the grace, a reader may be a normal client

    now[0] += gunicorn_worker.READ_GRACE_SECONDS * 2
    worker.reconsider()
    assert worker._accepting is True


def test_a_thread_reads_its_request_until_the_app_has_it(worker, monkeypatch):
    seen = {}

    def handle(self, conn):
        seen["reading"] = threading.get_ident() in self.reading_since
        self.handle_request("req", conn)
        return "handled"

    def handle_request(self, req, conn):
        seen["reading in the app"] = threading.get_ident() in self.reading_since

    monkeypatch.setattr(ThreadWorker, "handle", handle)
    monkeypatch.setattr(ThreadWorker, "handle_request", handle_request)

    assert worker.handle("conn") == "handled"
    assert seen == {"reading": True, "reading in the app": False}
    assert worker.reading_since == {}


def test_a_thread_that_never_gets_a_request_stops_reading(worker, monkeypatch):
    def handle(self, conn):
        raise OSError("connection reset")

    monkeypatch.setattr(ThreadWorker, "handle", handle)
    with pytest.raises(OSError):
        worker.handle("conn")
    assert worker.reading_since == {}


def test_a_closed_gate_is_looked_at_again_soon(worker, monkeypatch):
    timeouts = []
    monkeypatch.setattr(ThreadWorker, "wait_for_and_dispatch_events", lambda self, timeout: timeouts.append(timeout))
    worker._accepting = True
    worker.wait_for_and_dispatch_events(1.0)
    worker._accepting = False
    worker.wait_for_and_dispatch_events(1.0)
    assert timeouts == [1.0, gunicorn_worker.RECHECK_SECONDS]


def test_a_forked_worker_listens_for_its_own_threads_only(worker, monkeypatch):
    monkeypatch.setattr(ThreadWorker, "init_process", lambda self: None)
    waiting.listen(lambda delta: None)  # what the master (or an earlier worker object) left
    try:
        worker.init_process()
        assert waiting._listeners == [worker.thread_waits]
    finally:
        waiting.forget_listeners()


@pytest.mark.parametrize(
    ("environ", "worker_class"),
    [
        ({}, "clopos_admin.gunicorn_worker.GatedThreadWorker"),
        ({"GUNICORN_ACCEPT_GATE": "0"}, "gthread"),
        ({"GUNICORN_ACCEPT_GATE": "3"}, "clopos_admin.gunicorn_worker.GatedThreadWorker"),
        ({"GUNICORN_ACCEPT_GATE": "2", "GUNICORN_THREADS": "1"}, "sync"),
    ],
)
def test_the_gate_is_the_default_and_can_be_turned_off(monkeypatch, environ, worker_class):
    for name in ("GUNICORN_ACCEPT_GATE", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_class"] == worker_class
    if worker_class.endswith("GatedThreadWorker"):
        assert gunicorn_worker.accept_gate() == int(environ.get("GUNICORN_ACCEPT_GATE", "2"))


def test_it_takes_no_connection_once_every_thread_is_taken_even_by_waits(worker):
    worker.set_accept_enabled(True)
    for n in range(worker.cfg.threads):
        worker.enqueue_req(f"cold order {n}")
        worker.thread_waits(+1)  # each starts waiting on Clopos (or for a hash)
        worker.method_queue.run()
        if n < worker.cfg.threads - 1:
            assert worker._accepting is True, n  # waits do not hold the gate
    assert worker._accepting is False  # but no thread is free: the next one would wait here

    worker.thread_waits(-1)
    worker.finish_request("cold order 0", None)  # a thread is free again
    assert worker._accepting is True
