"""Cross-process single-flight on the shared Django cache.

Many gunicorn workers may need the same missing thing (the Clopos token, an uncached order) at
once. The first one to `cache.add` the lock key does the work; the others poll the cache for its
result for a bounded time instead of calling Clopos too. The lock expires by itself, so a worker
that dies holding it blocks the key for at most `lock_seconds`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.core.cache import cache

POLL_INTERVAL = 0.05


def acquire(lock_key: str, *, lock_seconds: float) -> str | None:
    """Take the lock; returns an owner token, or None when someone else holds it."""
    owner = uuid.uuid4().hex
    # Cache timeouts are whole seconds on some backends: round up so the lock never vanishes early.
    return owner if cache.add(lock_key, owner, timeout=max(1, int(lock_seconds + 0.999))) else None


def release(lock_key: str, owner: str) -> None:
    # Best effort compare-and-delete: never drop a lock that expired and was re-taken by another.
    if cache.get(lock_key) == owner:
        cache.delete(lock_key)


def wait_for[T](read: Callable[[], T | None], *, seconds: float) -> T | None:
    """Poll `read` until it returns something or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if value is not None or time.monotonic() >= deadline:
            return value
        time.sleep(POLL_INTERVAL)
