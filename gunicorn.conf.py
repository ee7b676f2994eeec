"""gunicorn settings; every value can be overridden from the environment."""

import gc
import multiprocessing
import os

import gunicorn.http.wsgi

from clopos.timeouts import from_environ as timeouts_from_environ
from clopos.timeouts import worst_case_seconds
from clopos_admin.gunicorn_worker import accept_gate

# Threaded workers (gthread): a request waiting on a slow Clopos, or a slow client dripping its
# headers (slowloris), holds one thread, not a whole process, so cached pages keep being served.
# Threads are sized from the upstream worst case: each process lets at most half of them wait on
# Clopos at once (CLOPOS_UPSTREAM_CONCURRENCY, settings.py); the other half always serve cached
# pages. GUNICORN_THREADS=1 gives plain sync workers.
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
worker_class = "gthread" if threads > 1 else "sync"
# A worker accepts only while fewer than GUNICORN_ACCEPT_GATE (default 2) of its threads run
# Python; threads waiting on Clopos or on a slow client do not count (clopos_admin/gunicorn_worker.py:
# the warm page's tail, issue 13). GUNICORN_ACCEPT_GATE=0 gives gunicorn's own gthread worker.
if threads > 1 and accept_gate() > 0:
    worker_class = "clopos_admin.gunicorn_worker.GatedThreadWorker"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# The worst-case page time, from the same function the client and its locks use (README,
# "Worst-case timings"); clopos.timeouts imports no Django.
WORST_CASE_PAGE_SECONDS = worst_case_seconds(timeouts_from_environ(os.environ))
# Well above the worst case, so a slow Clopos ends in our own 503 page, never a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or max(30, int(WORST_CASE_PAGE_SECONDS * 1.5) + 1))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
# 0: close each connection after its response. A long-lived client connection stays with the
# worker that accepted it, and a few busy ones can pin all load on one process
# (../shared/perf-baselines.md); a reverse proxy keeps its own keep-alive to clients.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 0)
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # "-" = stdout; empty = off
# A leaner access line, without query strings (clopos_admin/gunicorn_logging.py).
logger_class = "clopos_admin.gunicorn_logging.AccessLogger"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the app before forking: less memory per worker, and import errors stop the start.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# No control socket: it would be one path in the home folder shared by every instance on a host.
control_socket_disable = True

# Do not advertise the server software in every response's Server header.
gunicorn.http.wsgi.SERVER = "clopos-admin"


# Every object the loaded app holds (modules, settings, templates, translations: ~90,000) goes to
# the garbage collector's permanent generation before the fork, so no worker's full collection
# walks them again: one took 88-160 ms under `wrk -c32`, stalling all of that worker's threads
# (the warm page's tail, issue 13; README, "Benchmarks"), and it also wrote to every page the
# workers would otherwise share with the master. GUNICORN_GC_FREEZE=0 turns it off.
GC_FREEZE = os.environ.get("GUNICORN_GC_FREEZE", "1") == "1"


def pre_fork(server: object, worker: object) -> None:
    """In the master, before each worker is forked: collect the start-up garbage (it would be
    kept forever once frozen), then freeze what is left (Python's gc.freeze documentation)."""
    if GC_FREEZE:
        gc.collect()
        gc.freeze()


def post_worker_init(worker: object) -> None:
    """Each worker drains the instance's audit journal (audit/journal.py), including rows a
    killed worker left behind."""
    if GC_FREEZE:
        # Without preload_app the app was loaded here, after the fork: freeze it too (cheap:
        # freezing moves a list, it does not visit the objects).
        gc.freeze()
    from audit.journal import start_drainer_if_journaled

    start_drainer_if_journaled()


def worker_exit(server: object, worker: object) -> None:
    """A worker leaving normally moves its journal's last rows and removes its file (a killed
    worker's file stays, and the other workers' drainers move its rows)."""
    from audit.journal import retire

    retire()
