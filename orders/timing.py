"""Per-request accounting: time spent in the cache, in Clopos and rendering, and the request's
Clopos deadline. One `RequestTimings` per request lives in a contextvar, set by the middleware;
outside a request (commands, background refreshes) a throwaway one is used.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings

METRICS = ("cache", "clopos", "wait", "render")


@dataclass
class RequestTimings:
    started: float = field(default_factory=time.monotonic)
    # Monotonic time after which no new Clopos attempt may start for this request.
    deadline: float | None = None
    durations: dict[str, float] = field(default_factory=dict)
    # Why the current upstream call happens (miss, revalidate, refresh, …), for the call log.
    upstream_reason: str = "miss"

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


def begin(*, budget_seconds: float | None) -> contextvars.Token:
    timings = RequestTimings()
    if budget_seconds:
        timings.deadline = timings.started + budget_seconds
    return _current.set(timings)


def end(token: contextvars.Token) -> None:
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


class ServerTimingMiddleware:
    """Sets the request's Clopos time budget and adds a Server-Timing header to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = begin(budget_seconds=settings.CLOPOS_REQUEST_BUDGET_SECONDS)
        try:
            response = self.get_response(request)
            response["Server-Timing"] = current().server_timing()
            return response
        finally:
            end(token)
