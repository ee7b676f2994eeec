"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# Sync workers: each request holds one worker, so the count sets concurrency. 2 x cores + 1 is
# gunicorn's rule of thumb for I/O-bound work (calls to Clopos). Threads > 1 switches to gthread.
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# The worst-case page time from the Clopos timeout budget (README, "Worst-case timings"): no
# Clopos call starts after CLOPOS_REQUEST_BUDGET_SECONDS; one started just before may still run
# all its attempts, each up to connect + 2 x read (first byte, then the body).
_connect = _float("CLOPOS_CONNECT_TIMEOUT", 2.0)
_read = _float("CLOPOS_READ_TIMEOUT", 5.0)
_retries = int(os.environ.get("CLOPOS_MAX_RETRIES") or 1)
_backoff = _float("CLOPOS_RETRY_BACKOFF", 0.25) * (2**_retries - 1)
WORST_CASE_PAGE_SECONDS = (
    _float("CLOPOS_REQUEST_BUDGET_SECONDS", 10.0) + (1 + _retries) * (_connect + 2 * _read) + _backoff
)
# Well above the worst case, so a slow Clopos ends in our own 503 page, never a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or max(30, int(WORST_CASE_PAGE_SECONDS * 1.5) + 1))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 2)
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # "-" = stdout; empty = off
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the app before forking: less memory per worker, and import errors stop the start.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
