"""The worst-case arithmetic of a Clopos call, written once.

Pure functions of the timeout settings, with no Django import, so that the client, the
single-flight locks, the circuit breaker's probe, `gunicorn.conf.py`, the README and the fault
tests all use the same numbers.

With C = connect timeout, R = read timeout, N = retries, b = backoff factor, B = request budget:

* one attempt: C to connect, R to the first byte, then R for the whole body (the client cuts a
  body that drips slowly at R): C + 2R;
* one call: (1 + N) attempts plus urllib3's backoff between them, b × (2^0 + ... + 2^(N-1));
* one request (or one background refresh): no call starts after B and every call in flight
  ends within one call's time, so B + call. A single-flight leader holds its lock for at most
  this long, which is why locks and the half-open probe use it as their lifetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    read: float
    retries: int
    backoff: float
    request_budget: float

    @property
    def attempt_seconds(self) -> float:
        return self.connect + 2 * self.read

    @property
    def backoff_seconds(self) -> float:
        total: float = sum(self.backoff * 2**i for i in range(self.retries))
        return total

    @property
    def call_seconds(self) -> float:
        return (1 + self.retries) * self.attempt_seconds + self.backoff_seconds

    @property
    def worst_case_seconds(self) -> float:
        return self.request_budget + self.call_seconds


DEFAULTS = Timeouts(connect=2.0, read=5.0, retries=1, backoff=0.25, request_budget=10.0)


def worst_case_seconds(timeouts: Timeouts) -> float:
    """The longest a request, or a single-flight leader, can spend on Clopos."""
    return timeouts.worst_case_seconds


def from_environ(environ: Mapping[str, str]) -> Timeouts:
    """The same values Django's settings read, for processes without Django (gunicorn.conf.py)."""

    def number(name: str, default: float) -> float:
        return float(environ.get(name) or default)

    return Timeouts(
        connect=number("CLOPOS_CONNECT_TIMEOUT", DEFAULTS.connect),
        read=number("CLOPOS_READ_TIMEOUT", DEFAULTS.read),
        retries=int(environ.get("CLOPOS_MAX_RETRIES") or DEFAULTS.retries),
        backoff=number("CLOPOS_RETRY_BACKOFF", DEFAULTS.backoff),
        request_budget=number("CLOPOS_REQUEST_BUDGET_SECONDS", DEFAULTS.request_budget),
    )
