"""Per-request accounting: time spent in the cache, in Clopos and rendering, and the request's
Clopos deadline. One `RequestTimings` per request lives in a contextvar, begun by the console's
Server-Timing middleware (or by a background refresh, which gets a deadline of its own); outside
both, a throwaway one without a deadline is used.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum

METRICS = ("cache", "clopos", "wait", "render")


class Priority(IntEnum):
    """Who gets the last calls of the shared rate budget (guard.RateBudget)."""

    LOW = 0  # catalogue names and background refreshes: the page works without them
    NORMAL = 1  # what a user opened
    REFRESH = 2  # a manager's explicit "Refresh from Clopos": the reserve is kept for these


@dataclass
class RequestTimings:
    started: float = field(default_factory=time.monotonic)
    # Monotonic time after which no new Clopos attempt may start for this request.
    deadline: float | None = None
    durations: dict[str, float] = field(default_factory=dict)
    # Why the current upstream call happens (miss, revalidate, refresh, …), for the call log.
    upstream_reason: str = "miss"
    # Whether this request's user may see the timings (Server-Timing); set by the access gate.
    expose: bool = False
    # Who causes this request's upstream calls ("user:14"), for the per-user budget; None for the
    # system (background refreshes, commands). `charged`: the request was counted already.
    actor: str | None = None
    charged: bool = False
    # A background refresh: it runs on its own thread, so it takes no request thread's slot.
    background: bool = False
    # Catalogue lookups are best effort: they may use less of the shared budget than an order.
    low_priority: bool = False

    @property
    def priority(self) -> Priority:
        if self.upstream_reason == "refresh":
            return Priority.REFRESH
        if self.background or self.low_priority or self.upstream_reason == "revalidate":
            return Priority.LOW
        return Priority.NORMAL

    def add(self, kind: str, seconds: float) -> None:
        self.durations[kind] = self.durations.get(kind, 0.0) + seconds

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def server_timing(self) -> str:
        # Always the same metric names, zero when unused: their presence must not tell whether
        # Clopos was called (that would separate unknown order ids from hidden ones).
        total = time.monotonic() - self.started
        metrics = {kind: self.durations.get(kind, 0.0) for kind in METRICS} | {"total": total}
        return ", ".join(f"{kind};dur={seconds * 1000:.1f}" for kind, seconds in metrics.items())


_current: contextvars.ContextVar[RequestTimings | None] = contextvars.ContextVar("request_timings", default=None)


def current() -> RequestTimings:
    timings = _current.get()
    if timings is None:
        timings = RequestTimings()
        _current.set(timings)
    return timings


def begin(*, budget_seconds: float | None, background: bool = False) -> contextvars.Token[RequestTimings | None]:
    timings = RequestTimings(background=background)
    if budget_seconds:
        timings.deadline = timings.started + budget_seconds
    return _current.set(timings)


def end(token: contextvars.Token[RequestTimings | None]) -> None:
    _current.reset(token)


@contextmanager
def timed(kind: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        current().add(kind, time.monotonic() - started)


@contextmanager
def upstream_reason(reason: str) -> Iterator[None]:
    timings = current()
    previous, timings.upstream_reason = timings.upstream_reason, reason
    try:
        yield
    finally:
        timings.upstream_reason = previous


@contextmanager
def low_priority() -> Iterator[None]:
    """Upstream calls made inside are best effort (the catalogue): they yield the budget first."""
    timings = current()
    previous, timings.low_priority = timings.low_priority, True
    try:
        yield
    finally:
        timings.low_priority = previous
