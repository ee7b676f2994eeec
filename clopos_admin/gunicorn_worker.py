"""A gthread worker that takes a new connection only while few of its threads run Python.

gunicorn's gthread worker accepts whenever it holds fewer than `worker_connections` (1,000), so
under load one process queues many connections in its thread pool while another idles, and the
warm page's p99 ran at 3.5–5.5× its p50 (`make bench-workers`, README "The worker model and the
tail"). This worker stops accepting while `GUNICORN_ACCEPT_GATE` connections in its threads are
running Python, leaving the rest in the kernel's queue for whichever process frees up first, as
sync workers do.

A thread that runs no Python does not hold the gate, so slow upstreams, slow clients and login
floods cannot close an instance (issue 9's headroom): one waiting on Clopos, on another worker's
call, on a free upstream slot or on a password hash (clopos.waiting tells, at once), and one
whose client has not finished sending its request within READ_GRACE_SECONDS. While the
gate is closed the worker looks again every RECHECK_SECONDS. The threads themselves still cap
what a worker holds, as in gunicorn's own worker.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from clopos import waiting

READ_GRACE_SECONDS = 0.05  # a request's headers arrive within this from a client that is not slow
RECHECK_SECONDS = 0.05


DEFAULT_ACCEPT_GATE = 2  # `make bench-workers`: 2 and 3 cut the tail alike; 1 costs throughput


def accept_gate() -> int:
    """Connections running Python a worker holds before it stops accepting; 0 = gunicorn's rule."""
    value = os.environ.get("GUNICORN_ACCEPT_GATE", "")
    return DEFAULT_ACCEPT_GATE if value == "" else max(0, int(value))


class GatedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    gate = accept_gate()
    # Kept by the worker's main thread (gunicorn's poller loop and its method queue): no lock.
    in_threads = 0  # connections from enqueue_req to finish_request

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Kept by request threads; the main thread only reads them.
        self.waiting_elsewhere = 0
        self.reading_since: dict[int, float] = {}  # thread → when it began reading its request
        self._waiting_lock = threading.Lock()

    def init_process(self) -> None:
        # In the forked worker: the master's listeners list must not hold other workers' methods.
        waiting.forget_listeners()
        waiting.listen(self.thread_waits)
        super().init_process()

    # --- Request threads ----------------------------------------------------------------------

    def thread_waits(self, delta: int) -> None:
        """A request thread starts (+1) or stops (-1) waiting elsewhere (clopos.waiting)."""
        with self._waiting_lock:
            self.waiting_elsewhere += delta
        if delta > 0 and not self._accepting:
            self.method_queue.defer(self.reconsider)  # it may open the gate: look now

    def handle(self, conn: Any) -> Any:
        # Until its request's headers are in, the thread waits on its client.
        thread = threading.get_ident()
        self.reading_since[thread] = time.monotonic()
        try:
            return super().handle(conn)
        finally:
            self.reading_since.pop(thread, None)

    def handle_request(self, req: Any, conn: Any) -> Any:
        self.reading_since.pop(threading.get_ident(), None)
        return super().handle_request(req, conn)

    # --- The main thread ----------------------------------------------------------------------

    def running(self) -> int:
        """Connections in the threads that are running Python (or about to)."""
        now = time.monotonic()
        slow_clients = sum(1 for since in list(self.reading_since.values()) if now - since > READ_GRACE_SECONDS)
        return self.in_threads - self.waiting_elsewhere - slow_clients

    def may_accept(self) -> bool:
        """Fewer than `gate` running, and a thread free: a connection accepted with every thread
        waiting elsewhere would wait for one in this process while another process idles."""
        return self.running() < self.gate and self.in_threads < self.cfg.threads

    def set_accept_enabled(self, enabled: bool) -> None:
        # gunicorn's loop asks to accept on every turn while it holds fewer than worker_connections.
        super().set_accept_enabled(enabled and self.may_accept())

    def reconsider(self) -> None:
        self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # While closed, look again soon: a thread may be waiting on a slow client by now.
        super().wait_for_and_dispatch_events(timeout if self._accepting else min(timeout, RECHECK_SECONDS))

    def enqueue_req(self, conn: Any) -> None:
        self.in_threads += 1
        if not self.may_accept():
            super().set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        self.in_threads -= 1
        super().finish_request(conn, fs)
        self.reconsider()
