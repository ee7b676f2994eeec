"""The one door to the network: a Clopos Open API v2 client built on one pooled requests.Session.

Every call has connect and read timeouts, and the body download is capped by the read timeout
as a whole (a body that drips slowly cannot hold a worker). GETs are retried with backoff on
connection errors and 502/503/504 only; a 429 is never retried blindly: it pauses every worker
until Clopos' RateLimit-Reset. The token lives in the shared cache, keyed by brand + integrator,
is renewed before expires_at by exactly one worker at a time, and a 401 triggers one
re-authentication and one retry. Every answer is classified once into the CloposError tree
(errors.py); that one verdict feeds the breaker, the health counters, the log line and the caller.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from . import deadline, guard, keys, listing, singleflight, waiting
from .errors import (
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposServerError,
    CloposTimeoutError,
    CloposUnavailableError,
    FailureKind,
)
from .timeouts import Timeouts

logger = logging.getLogger("clopos")

# The pre-call state a caller read ahead for the next call (`CloposClient.state_read_ahead`).
_state_offered: ContextVar[dict[str, Any] | None] = ContextVar("clopos_state_offered", default=None)
# The admission a caller counted ahead for the next budgeted call, with the counts it got.
_admission_offered: ContextVar[tuple[guard.Admission, dict[str, int]] | None] = ContextVar(
    "clopos_admission_offered", default=None
)

MAX_BODY_BYTES = 4 * 1024 * 1024
#: Query parameters: a mapping, or ordered pairs when a key repeats or order matters.
Params = Mapping[str, Any] | Sequence[tuple[str, str]]
ORDER_WITH_RECEIPT = "receipt:id,service_notification_id,status"
RECEIPT_WITH = ("receipt_products.product", "receipt_products.modificators")


@dataclass(frozen=True, slots=True)
class CloposConfig:
    base_url: str
    client_id: str
    client_secret: str
    brand: str
    integrator_id: str
    venue_id: str
    timeouts: Timeouts
    token_renew_margin: int
    rate_budget_per_minute: int
    rate_reserve_percent: int
    user_budget_per_window: int
    user_budget_per_minute: int
    upstream_concurrency: int
    upstream_slot_wait: float
    circuit_failures: int
    circuit_open_seconds: int

    @classmethod
    def from_settings(cls) -> CloposConfig:
        return cls(
            base_url=settings.CLOPOS_BASE_URL.rstrip("/"),
            client_id=settings.CLOPOS_CLIENT_ID,
            client_secret=settings.CLOPOS_CLIENT_SECRET,
            brand=settings.CLOPOS_BRAND,
            integrator_id=settings.CLOPOS_INTEGRATOR_ID,
            venue_id=settings.CLOPOS_VENUE_ID,
            timeouts=timeouts_from_settings(),
            token_renew_margin=settings.CLOPOS_TOKEN_RENEW_MARGIN,
            rate_budget_per_minute=settings.CLOPOS_RATE_BUDGET_PER_MINUTE,
            rate_reserve_percent=settings.CLOPOS_RATE_RESERVE_PERCENT,
            user_budget_per_window=settings.CLOPOS_USER_BUDGET_PER_WINDOW,
            user_budget_per_minute=settings.CLOPOS_USER_BUDGET_PER_MINUTE,
            upstream_concurrency=settings.CLOPOS_UPSTREAM_CONCURRENCY,
            upstream_slot_wait=settings.CLOPOS_UPSTREAM_SLOT_WAIT,
            circuit_failures=settings.CLOPOS_CIRCUIT_FAILURES,
            circuit_open_seconds=settings.CLOPOS_CIRCUIT_OPEN_SECONDS,
        )

    @property
    def lock_seconds(self) -> float:
        """How long a single-flight lock (or a half-open probe) may be held: the leader's worst
        case, plus a second because some cache backends count timeouts in whole seconds."""
        return self.timeouts.worst_case_seconds + 1

    @property
    def scope(self) -> str:
        """Clopos' rate limit, and so our budget and breaker, are per integrator + brand."""
        return f"{self.brand}:{self.integrator_id}"


def timeouts_from_settings() -> Timeouts:
    return Timeouts(
        connect=settings.CLOPOS_CONNECT_TIMEOUT,
        read=settings.CLOPOS_READ_TIMEOUT,
        retries=settings.CLOPOS_MAX_RETRIES,
        backoff=settings.CLOPOS_RETRY_BACKOFF,
        request_budget=settings.CLOPOS_REQUEST_BUDGET_SECONDS,
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: Any  # decoded JSON, or None when the body was not JSON
    attempts: int = 1
    #: What this answer means, decided once by `_classify`; None for a good answer.
    error: CloposError | None = None


@dataclass(frozen=True, slots=True)
class _Token:
    token: str
    expires_at: float

    @classmethod
    def read(cls, raw: Any) -> _Token | None:
        """A cached token entry, or None when missing or of another shape (another version)."""
        if not isinstance(raw, Mapping):
            return None
        token, expires_at = raw.get("token"), raw.get("expires_at")
        if not isinstance(token, str) or not isinstance(expires_at, (int, float)):
            return None
        return cls(token, float(expires_at))

    def valid_for(self, seconds: float) -> bool:
        return self.expires_at > time.time() + seconds


def build_session(config: CloposConfig) -> requests.Session:
    retries = config.timeouts.retries
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,  # a read timeout is not retried: the budget would double on a slow Clopos
        status=retries,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=config.timeouts.backoff,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"Accept": "application/json", "User-Agent": "clopos-admin/1"})
    return session


class CloposClient:
    def __init__(self, config: CloposConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or build_session(config)
        self.budget = guard.RateBudget(config.scope, config.rate_budget_per_minute, config.rate_reserve_percent)
        self.actor_budget = guard.ActorBudget(
            config.scope, config.user_budget_per_window, config.user_budget_per_minute
        )
        self.breaker = guard.CircuitBreaker(
            config.scope, config.circuit_failures, config.circuit_open_seconds, probe_seconds=config.lock_seconds
        )

    # --- Endpoints -----------------------------------------------------------------------------

    def get_order(self, order_id: int) -> Mapping[str, Any]:
        """The raw order object, with `receipt` embedded (object or null).

        Raises CloposNotFoundError for an unknown id, or another CloposError.
        """
        return self._get_data(f"v2/orders/{order_id}", {"with[0]": ORDER_WITH_RECEIPT}, endpoint="order")

    def get_receipt(self, receipt_id: int) -> Mapping[str, Any]:
        """The raw receipt object with its lines and their modifiers."""
        params = {f"with[{i}]": value for i, value in enumerate(RECEIPT_WITH)}
        return self._get_data(f"v2/receipts/{receipt_id}", params, endpoint="receipt")

    def list_orders(self, query: listing.OrderQuery) -> Mapping[str, Any]:
        """One page of `GET /v2/orders`: the raw body (`data` rows plus the envelope, which may
        carry the total). How the query is spelled is `clopos.listing`'s business.

        Raises CloposResponseError when `data` is not a list, or another CloposError.
        """
        body = self._get("v2/orders", listing.query_params(query), endpoint="orders")
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise CloposResponseError("orders: `data` is not a list")
        return body

    def list_receipts(self, query: listing.ReceiptQuery) -> Mapping[str, Any]:
        """One page of `GET /v2/receipts` (no lines): the raw body, `data` rows plus the envelope.

        Raises CloposResponseError when `data` is not a list, or another CloposError.
        """
        body = self._get("v2/receipts", listing.receipt_query_params(query), endpoint="receipts")
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise CloposResponseError("receipts: `data` is not a list")
        return body

    def list_customers(self, query: listing.CustomerQuery) -> Mapping[str, Any]:
        """One page of `GET /v2/customers`: the raw body. A phone search is one call whatever the
        number of forms tried (`clopos.listing.phone_stored_forms`).

        Raises CloposResponseError when `data` is not a list, or another CloposError.
        """
        body = self._get("v2/customers", listing.customer_query_params(query), endpoint="customers")
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise CloposResponseError("customers: `data` is not a list")
        return body

    def get_customer(self, customer_id: int) -> Mapping[str, Any]:
        """The raw customer (Clopos answers a bare object; a `data` envelope is accepted too).

        Raises CloposNotFoundError for an unknown id, or another CloposError.
        """
        return self._get_data(f"v2/customers/{customer_id}", {}, endpoint="customer")

    def get_payment_methods(self) -> list[Any]:
        return self._get_list("v2/payment-methods", endpoint="payment_methods", params={"limit": 100})

    def get_venues(self) -> list[Any]:
        return self._get_list("v2/venues", endpoint="venues")

    def get_sale_types(self) -> list[Any]:
        return self._get_list("v2/sale-types", endpoint="sale_types", params={"limit": 100})

    def get_product(self, product_id: int) -> Mapping[str, Any]:
        return self._get_data(f"v2/products/{product_id}", {"with[0]": "modificator_groups"}, endpoint="product")

    # --- Authenticated GETs --------------------------------------------------------------------

    def _get_data(self, path: str, params: Mapping[str, Any], *, endpoint: str) -> Mapping[str, Any]:
        body = self._get(path, params, endpoint=endpoint)
        data = body.get("data") if isinstance(body, Mapping) else None
        # Some v2 pages show bare objects (customers); accept a bare object with an id too.
        if data is None and isinstance(body, Mapping) and "id" in body:
            data = body
        if not isinstance(data, Mapping):
            raise CloposResponseError(f"{endpoint}: `data` is not an object")
        return data

    def _get_list(self, path: str, *, endpoint: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        body = self._get(path, params or {}, endpoint=endpoint)
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise CloposResponseError(f"{endpoint}: `data` is not a list")
        return data

    def _get(self, path: str, params: Params, *, endpoint: str) -> Any:
        seen = self._read_state()
        self._check_not_paused(seen)
        token = self._token(seen)
        answer = self._authenticated_get(path, params, token, endpoint=endpoint, first_try=True, seen=seen)
        if answer.status == 401 and answer.error is None:
            # One re-authentication and one retry: the token may have expired or been rotated.
            self._forget_token(token)
            token = self._token()
            answer = self._authenticated_get(path, params, token, endpoint=endpoint, first_try=False)
            if answer.status == 401:
                self._forget_token(token)
        if answer.error is not None:
            raise answer.error
        return answer.body

    def state_keys(self) -> list[str]:
        """What a call reads before it goes out: the 429 pause, the token and the circuit's state."""
        pause = keys.rate_pause_key(self.config.brand, self.config.integrator_id)
        return [pause, self._token_key(), *self.breaker.state_keys()]

    def admission_ahead(self) -> guard.Admission:
        """What the next budgeted call's admission counts (see `_admit`), for a caller to count
        in a round trip of its own: a cold fill counts it as it takes its lock."""
        return self._admission(self.config.timeouts.retries + 1)

    def _admission(self, reserved: int) -> guard.Admission:
        """The per-user budget (once per request), then the shared one by priority."""
        timings = deadline.current()
        actor = timings.actor if not timings.charged else None
        return guard.Admission.of(self.budget, self.actor_budget, actor, reserved, timings.priority)

    @contextmanager
    def state_read_ahead(self, values: Mapping[str, Any], admission: guard.Admission | None = None) -> Iterator[None]:
        """Hand the next call inside the block its `state_keys` as the caller read them (as
        get_many gives them), in a round trip of the caller's own: a cold fill reads them with
        its lock. With `admission` (from `admission_ahead`) counted in that round trip, its counts
        among `values`, the next budgeted call is judged by them instead of counting again; if
        no call took them, they are given back as the block ends. Used by one call only, and
        never outside the block."""
        offer = _state_offered.set({key: values[key] for key in self.state_keys() if key in values})
        counted = None
        if admission is not None and admission.counters and all(key in values for key in admission.counters):
            counted = (admission, {key: values[key] for key in admission.counters})
        admitted = _admission_offered.set(counted)
        try:
            yield
        finally:
            unused = _admission_offered.get()
            _admission_offered.reset(admitted)
            _state_offered.reset(offer)
            if unused is not None:  # paused, circuit open, out of time...: no call was made
                unused[0].give_back()

    def _read_state(self) -> dict[str, Any]:
        """The call's `state_keys` in one cache round trip, or as read ahead for it."""
        offered = _state_offered.get()
        if offered is not None:
            _state_offered.set(None)
            return offered
        with deadline.timed("cache"):
            return cache.get_many(self.state_keys())

    def _token_key(self) -> str:
        return keys.token_key(self.config.brand, self.config.integrator_id)

    def _authenticated_get(
        self,
        path: str,
        params: Params,
        token: str,
        *,
        endpoint: str,
        first_try: bool,
        seen: Mapping[str, Any] | None = None,
    ) -> _Answer:
        headers = {"x-token": token}
        if self.config.venue_id:
            headers["x-venue"] = self.config.venue_id
        return self._send(
            "GET",
            path,
            endpoint=endpoint,
            params=params,
            headers=headers,
            budgeted=True,
            tolerate_401=first_try,
            seen=seen,
        )

    # --- Token ---------------------------------------------------------------------------------

    def _token(self, seen: Mapping[str, Any] | None = None) -> str:
        """A valid token from the shared cache, renewing it (one worker at a time) when due.
        `seen`: the cache values read ahead by the caller."""
        key = self._token_key()
        if seen is None:
            with deadline.timed("cache"):
                current = _Token.read(cache.get(key))
        else:
            current = _Token.read(seen.get(key))
        if current and current.valid_for(self.config.token_renew_margin):
            return current.token

        def renewed(raw: Any) -> str | None:
            fresh = _Token.read(raw)
            return fresh.token if fresh and fresh.valid_for(self.config.token_renew_margin) else None

        try:
            return singleflight.fetch_or_wait(
                keys.lock_key(key),
                result_key=key,
                produce=lambda _read_ahead: self._authenticate(),
                ready=renewed,
                lock_seconds=self.config.lock_seconds,
            )
        except CloposUnavailableError:
            # Renewal failed, or another worker's took too long, but the current token still
            # works: use it and renew next time.
            if current and current.valid_for(5):
                return current.token
            raise

    def token_expires_at(self) -> float | None:
        """When the shared cached token expires (epoch seconds), or None when none is cached."""
        current = _Token.read(cache.get(keys.token_key(self.config.brand, self.config.integrator_id)))
        return current.expires_at if current else None

    def _authenticate(self) -> singleflight.Produced[str]:
        """A new token, and its cache entry (single-flight stores it as it releases the lock)."""
        body = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "brand": self.config.brand,
            "integrator_id": self.config.integrator_id,
        }
        answer = self._send("POST", "v2/auth", endpoint="auth", json_body=body)
        if answer.error is not None:
            raise answer.error
        payload = answer.body
        token = payload.get("token") if isinstance(payload, Mapping) else None
        if not isinstance(token, str) or not token:
            raise CloposResponseError("auth: no token in the response")
        now = time.time()
        try:
            expires_at = float(payload.get("expires_at") or now + float(payload.get("expires_in") or 3600))
        except (TypeError, ValueError) as exc:
            raise CloposResponseError("auth: unreadable expires_at") from exc
        lifetime = int(expires_at - now)
        if lifetime <= 0:
            return singleflight.Produced(token)  # usable once, not worth keeping
        return singleflight.Produced(token, {"token": token, "expires_at": expires_at}, lifetime)

    def _forget_token(self, token: str) -> None:
        key = keys.token_key(self.config.brand, self.config.integrator_id)
        current = _Token.read(cache.get(key))
        if current and current.token == token:
            cache.delete(key)

    # --- Rate-limit pause ----------------------------------------------------------------------

    def _check_not_paused(self, seen: Mapping[str, Any]) -> None:
        until = seen.get(keys.rate_pause_key(self.config.brand, self.config.integrator_id))
        if isinstance(until, (int, float)) and until > time.time():
            raise CloposRateLimitedError("Paused after a 429 from Clopos", retry_after=int(until - time.time()) + 1)

    def _pause(self, seconds: int) -> None:
        until = time.time() + seconds
        cache.set(keys.rate_pause_key(self.config.brand, self.config.integrator_id), until, timeout=seconds + 1)

    def paused_for(self) -> int:
        """Seconds left of a 429 pause, 0 when none."""
        until = cache.get(keys.rate_pause_key(self.config.brand, self.config.integrator_id))
        now = time.time()
        return int(until - now) + 1 if isinstance(until, (int, float)) and until > now else 0

    # --- Transport -----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        budgeted: bool = False,
        tolerate_401: bool = False,
        seen: Mapping[str, Any] | None = None,
    ) -> _Answer:
        """One HTTP exchange through the breaker, the rate budget and the request's deadline.

        Returns the answer with its verdict in `error`; raises only when no answer came (or the
        breaker, the budget or the deadline refused the call).
        """
        timeouts = self._timeouts_within_deadline(endpoint)
        probe = self.breaker.before_call(seen)
        reserved = self.config.timeouts.retries + 1 if budgeted else 0
        try:
            if budgeted:
                self._admit(reserved)
            slot = self._upstream_slot(endpoint)
        except CloposError:
            if probe:
                self.breaker.release_probe()  # unused: the next request may probe instead
            raise
        started = time.monotonic()
        status: int | str = "error"
        attempts = reserved or 1
        kind: FailureKind | None = None
        answer: _Answer | None = None
        try:
            with waiting.elsewhere(background=deadline.current().background):
                answer = self._exchange(
                    method,
                    path,
                    endpoint=endpoint,
                    params=params,
                    headers=headers,
                    json_body=json_body,
                    timeouts=timeouts,
                )
            error = _classify(answer, endpoint=endpoint, tolerate_401=tolerate_401)
            answer = dataclasses.replace(answer, error=error)
            status, attempts = answer.status, answer.attempts
            if error is not None:
                kind = error.kind
                if answer.status == 429 and error.retry_after:
                    self._pause(error.retry_after)
            return answer
        except CloposError as exc:
            kind = exc.kind
            raise
        finally:
            if slot is not None:
                slot.release()
            elapsed = time.monotonic() - started
            deadline.current().add("clopos", elapsed)
            if kind is None and (endpoint == "auth" or status == 401):
                # A token issued, or a stale token refused (renewed next), says nothing about
                # whether Clopos serves data: no verdict, so a 401 that survives renewal on every
                # call still counts up to an open circuit, like a 403.
                if probe:
                    self.breaker.release_probe()
            else:
                # A 429 or a 404 means Clopos is alive: neither opens the circuit.
                self.breaker.record(ok=kind is None or not kind.opens_circuit, probe=probe, seen=seen)
            guard.health_record(
                self.config.scope,
                endpoint=endpoint,
                failure_kind=kind if kind is not None and kind.is_failure else None,
                headers=answer.headers if answer is not None else None,
                refund=(self.budget, reserved - attempts) if reserved else None,
            )
            logger.info(
                "clopos_call endpoint=%s method=%s status=%s duration_ms=%d attempts=%d cache=%s failure=%s",
                endpoint,
                method,
                status,
                elapsed * 1000,
                attempts,
                deadline.current().upstream_reason,
                kind.value if kind is not None and kind.is_failure else "-",
            )

    def _admit(self, reserved: int) -> None:
        """Count the call's admission (`_admission`) and judge it, or judge the one counted ahead."""
        offered = _admission_offered.get()
        if offered is not None:  # counted ahead, with the cold fill's lock: no round trip here
            _admission_offered.set(None)
            admission, counts = offered
            admission.judge(counts)
        else:
            admission = self._admission(reserved)
            admission.count()  # one round trip
        if admission.actor is not None:
            deadline.current().charged = True

    def _upstream_slot(self, endpoint: str) -> threading.BoundedSemaphore | None:
        """One of this process's slots for waiting on Clopos, for calls on a request thread.

        At most CLOPOS_UPSTREAM_CONCURRENCY request threads wait on Clopos at once, so the
        others keep serving cached pages while Clopos is slow. A request that finds none free
        within CLOPOS_UPSTREAM_SLOT_WAIT gives up: "Clopos is busy", or the cached copy.
        """
        if deadline.current().background:
            return None  # its own thread: it holds no request thread
        slots = _upstream_slots(self.config.upstream_concurrency)
        with waiting.elsewhere():  # up to upstream_slot_wait, running nothing
            acquired = slots.acquire(timeout=self.config.upstream_slot_wait)
        if not acquired:
            raise CloposRateLimitedError(f"{endpoint}: every upstream slot of this process is busy", retry_after=2)
        return slots

    def _timeouts_within_deadline(self, endpoint: str) -> tuple[float, float]:
        """Per-attempt timeouts, cut down so the request's Clopos budget is honoured."""
        remaining = deadline.current().remaining()
        connect, read = self.config.timeouts.connect, self.config.timeouts.read
        if remaining is None:
            return connect, read
        if remaining < 0.2:
            raise CloposTimeoutError(f"{endpoint}: this request's Clopos time budget is spent")
        return min(connect, remaining), min(read, remaining)

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Params | None,
        headers: Mapping[str, str] | None,
        json_body: Any,
        timeouts: tuple[float, float],
    ) -> _Answer:
        url = f"{self.config.base_url}/{path}"
        try:
            response = self.session.request(
                method, url, params=params, headers=headers, json=json_body, timeout=timeouts, stream=True
            )
        except requests.Timeout as exc:
            raise CloposTimeoutError(f"{endpoint}: timed out") from exc
        except requests.RequestException as exc:
            # With Retry(read=0) urllib3 wraps a read timeout in MaxRetryError, which requests
            # turns into a ConnectionError: look at the reason to call it what it is.
            if isinstance(getattr(exc.args[0] if exc.args else None, "reason", None), ReadTimeoutError):
                raise CloposTimeoutError(f"{endpoint}: timed out waiting for the answer") from exc
            raise CloposUnavailableError(f"{endpoint}: connection failed") from exc
        with response:
            history = getattr(response.raw, "retries", None)
            attempts = 1 + (len(history.history) if history is not None else 0)
            # The body gets one read timeout in all, and never more than the request has left.
            remaining = deadline.current().remaining()
            body_seconds = timeouts[1] if remaining is None else max(0.1, min(timeouts[1], remaining))
            raw = self._read_body(response, endpoint=endpoint, seconds=body_seconds)
        return _Answer(status=response.status_code, headers=response.headers, body=_decode(raw), attempts=attempts)

    def _read_body(self, response: requests.Response, *, endpoint: str, seconds: float) -> bytes:
        # The read timeout bounds each socket read; this deadline bounds the whole body.
        body_deadline = time.monotonic() + seconds
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = response.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise CloposResponseError(f"{endpoint}: response body too large")
                if time.monotonic() > body_deadline:
                    raise CloposTimeoutError(f"{endpoint}: response body arrived too slowly")
        except CloposError:
            raise
        except Exception as exc:  # urllib3 ProtocolError, IncompleteRead, socket errors, decoding errors
            if "timed out" in str(exc).lower():
                raise CloposTimeoutError(f"{endpoint}: timed out reading the body") from exc
            raise CloposUnavailableError(f"{endpoint}: the response was cut off") from exc
        return b"".join(chunks)


def _classify(answer: _Answer, *, endpoint: str, tolerate_401: bool = False) -> CloposError | None:
    """What an answer means, as an error of the tree or None; `success` is read before the status.

    `tolerate_401`: a first 401 on an authenticated call is a stale token, which the caller
    renews and retries; only a 401 that survives that is an auth failure.
    """
    body = answer.body
    status = answer.status
    success = body.get("success") if isinstance(body, Mapping) else None
    if status < 400 and success is not False:
        if body is None:
            return CloposResponseError(f"{endpoint}: HTTP {status} with a body that is not JSON")
        return None
    error_code = str(body.get("error") or "") if isinstance(body, Mapping) else ""
    if endpoint == "auth" and status < 500 and status != 429:
        # 200 + success:false is the documented test/production integrator mismatch.
        return CloposAuthError(f"Clopos refused authentication (HTTP {status})")
    if status == 404 or "not_found" in error_code or "not found" in error_code.lower():
        return CloposNotFoundError(f"{endpoint}: not found")
    if status == 429:
        return CloposRateLimitedError(f"{endpoint}: rate limited", retry_after=_retry_after(answer.headers))
    if status == 401 and tolerate_401:
        return None
    if status in (401, 403):
        return CloposAuthError(f"{endpoint}: HTTP {status}")
    if status == 504:
        return CloposTimeoutError(f"{endpoint}: Clopos gateway timeout")
    if status >= 500:
        return CloposServerError(f"{endpoint}: HTTP {status}")
    return CloposResponseError(f"{endpoint}: HTTP {status}, error={error_code[:40]!r}")


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str]) -> int:
    for name in ("RateLimit-Reset", "Retry-After", "X-RateLimit-Reset"):
        value = headers.get(name)
        if value:
            try:
                seconds = int(float(value))
            except ValueError:
                continue
            # The legacy X-RateLimit-Reset was an epoch timestamp, not a delay.
            if seconds > 10**9:
                seconds = int(seconds - time.time())
            return max(1, min(seconds, 300))
    return 60


@lru_cache(maxsize=4)
def _upstream_slots(size: int) -> threading.BoundedSemaphore:
    """The process's semaphore (made in each worker on first use, never before the fork)."""
    return threading.BoundedSemaphore(size)


@lru_cache(maxsize=1)
def get_clopos_client() -> CloposClient:
    """The process-wide client (one pooled session per process)."""
    return CloposClient(CloposConfig.from_settings())
