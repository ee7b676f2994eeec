"""Password hashing at the lowest CPU priority, so a login flood cannot slow the console's pages.

Django's PBKDF2 costs about half a second of CPU per guess here (1.5 million iterations), and
Django hashes even for unknown usernames (so timing does not reveal which exist). The login
throttle (LOGIN_RATE_PER_IP) bounds how many guesses get that far, but those few still took
both cores away from cached pages for seconds: a cached order page's p99 rose from 16 ms to
~450 ms during a login flood (`make bench-starvation`, scenario c).

The hash itself is unchanged (same algorithm, iterations, encoded form): only where it runs.
It runs on a small per-process pool of threads niced to 19, so the kernel gives the CPU to
request threads first and hashing gets what is left. A login under a flood takes longer; pages
do not. Where threads cannot be niced (not Linux), it runs as Django's own hasher does.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from clopos import waiting

# As many as a process has request threads (gthread): a hash never waits for a free pool thread
# while a request thread sits idle, so logins do not queue behind each other.
POOL_SIZE = int(os.environ.get("GUNICORN_THREADS") or 8)
LOWEST_PRIORITY = 19

_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def _lower_own_priority() -> None:
    # On Linux a thread is a task of its own: PRIO_PROCESS with its native id renices this
    # thread only. Raising one's nice value needs no privilege.
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


def low_priority_pool() -> ThreadPoolExecutor:
    """This process's pool (created after gunicorn forks: a pool's threads do not survive fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(
                max_workers=POOL_SIZE, thread_name_prefix="password-hash", initializer=_lower_own_priority
            )
            _pool_pid = os.getpid()
        return _pool


class LowPriorityPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2-SHA256 hasher (same `pbkdf2_sha256` algorithm name, so existing hashes
    verify and Django's upgrade logic is unchanged), computed on a niced thread."""

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        parent = super().encode
        # The request thread runs nothing meanwhile: the gunicorn worker's accept gate does not
        # count it, or a login flood would hold every worker's gate and starve cached pages.
        with waiting.elsewhere():
            return low_priority_pool().submit(parent, password, salt, iterations).result()
