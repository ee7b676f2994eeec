"""Tells whoever listens when a request thread starts and stops waiting on something that runs
no Python of its own: Clopos' answer, another worker's call for the same record, a free upstream
slot, a password hash on a niced thread (staff/hashers.py).

The gunicorn worker (clopos_admin/gunicorn_worker.py) listens: it takes new connections while
few of its threads are running Python, and a thread waiting so runs none. Pure Python, no
Django, so that the worker can import it before the app is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_listeners: list[Callable[[int], None]] = []


def listen(callback: Callable[[int], None]) -> None:
    """`callback(+1)` when a request thread starts waiting, `callback(-1)` when it stops."""
    _listeners.append(callback)


def forget_listeners() -> None:
    """Tests."""
    _listeners.clear()


@contextmanager
def elsewhere(*, background: bool = False) -> Iterator[None]:
    """Around a wait. A background thread's wait (a revalidation after the response) is not a
    request thread's, and is not told."""
    told = not background and bool(_listeners)
    if told:
        for listener in _listeners:
            listener(+1)
    try:
        yield
    finally:
        if told:
            for listener in _listeners:
                listener(-1)
