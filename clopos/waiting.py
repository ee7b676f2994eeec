"""Tells whoever listens when a request thread starts and stops waiting on Clopos.

The gunicorn worker (clopos_admin/gunicorn_worker.py) listens: it takes new connections while
few of its threads are running Python, and a thread waiting on Clopos' answer (or on another
worker's call for the same record) runs none. Pure Python, no Django, so that the worker can
import it before the app is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_listeners: list[Callable[[int], None]] = []


def listen(callback: Callable[[int], None]) -> None:
    """`callback(+1)` when a request thread starts waiting on Clopos, `callback(-1)` when it stops."""
    _listeners.append(callback)


def forget_listeners() -> None:
    """Tests."""
    _listeners.clear()


@contextmanager
def on_clopos(*, background: bool = False) -> Iterator[None]:
    """Around a wait on Clopos. A background thread's wait (a revalidation after the response)
    is not a request thread's, and is not told."""
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
