"""A gthread worker that takes a new connection only while few are in its threads (opt-in).

gunicorn's gthread worker accepts whenever it holds fewer than `worker_connections` (1,000), so
under load one process queues many connections in its thread pool while another idles, and the
warm page's p99 runs at 3.5–5.5× its p50 (`make bench-workers`, README "The worker model and the
tail"). This worker stops accepting while `GUNICORN_ACCEPT_GATE` connections are in its threads,
leaving the rest in the kernel's queue for whichever process frees up first, as sync workers do.

Opt-in, not the shipped default: a thread waiting on a slow Clopos or on a slow client counts
against the gate, so with a gate of 2 six such requests stop an instance of three workers from
accepting, where the default's 24 threads keep serving cached pages (issue 9).
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import ThreadWorker


def accept_gate() -> int:
    """Connections a worker's threads may hold before it stops accepting; 0 = gunicorn's own rule."""
    return max(0, int(os.environ.get("GUNICORN_ACCEPT_GATE") or 0))


class GatedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    # Every method below runs on the worker's main thread (gunicorn's poller loop and its method
    # queue), so the count needs no lock.
    in_threads = 0
    gate = accept_gate()

    def set_accept_enabled(self, enabled: bool) -> None:
        # gunicorn's loop asks to accept whenever it holds fewer than worker_connections.
        super().set_accept_enabled(enabled and self.in_threads < self.gate)

    def enqueue_req(self, conn: Any) -> None:
        self.in_threads += 1
        if self.in_threads >= self.gate:
            super().set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        self.in_threads -= 1
        super().finish_request(conn, fs)
        self.set_accept_enabled(self.nr_conns < self.worker_connections)
