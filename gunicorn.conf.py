"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os

# Sync workers: each request holds one worker, so the count sets concurrency. 2 x cores + 1 is
# gunicorn's rule of thumb for I/O-bound work (calls to Clopos).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Above the worst-case page time (see README "Worst-case timings"), so a slow Clopos ends in our
# own 503 page rather than a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "2"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the app before forking: less memory per worker, and import errors stop the start.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
