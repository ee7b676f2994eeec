"""The one door to the network: a Clopos Open API v2 client built on one pooled requests.Session.

Every call has connect and read timeouts, and the body download is capped by the read timeout
as a whole (a body that drips slowly cannot hold a worker). GETs are retried with backoff on
connection errors and 502/503/504 only; a 429 is never retried blindly: it pauses every worker
until Clopos' RateLimit-Reset. The token lives in the shared cache, keyed by brand + integrator,
is renewed before expires_at by exactly one worker at a time, and a 401 triggers one
re-authentication and one retry. Failures leave as the CloposError tree (errors.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
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

from orders import cache as keys
from orders import singleflight, timing

from . import guard
from .errors import (
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposTimeoutError,
    CloposUnavailableError,
)

logger = logging.getLogger("orders.clopos")

MAX_BODY_BYTES = 4 * 1024 * 1024
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
    connect_timeout: float
    read_timeout: float
    max_retries: int
    retry_backoff: float
    token_renew_margin: int
    rate_budget_per_minute: int
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
            connect_timeout=settings.CLOPOS_CONNECT_TIMEOUT,
            read_timeout=settings.CLOPOS_READ_TIMEOUT,
            max_retries=settings.CLOPOS_MAX_RETRIES,
            retry_backoff=settings.CLOPOS_RETRY_BACKOFF,
            token_renew_margin=settings.CLOPOS_TOKEN_RENEW_MARGIN,
            rate_budget_per_minute=settings.CLOPOS_RATE_BUDGET_PER_MINUTE,
            circuit_failures=settings.CLOPOS_CIRCUIT_FAILURES,
            circuit_open_seconds=settings.CLOPOS_CIRCUIT_OPEN_SECONDS,
        )

    @property
    def attempt_seconds(self) -> float:
        return self.connect_timeout + self.read_timeout

    @property
    def call_seconds(self) -> float:
        """The longest one call can take: every attempt's timeouts plus the backoff between them."""
        backoff = sum(self.retry_backoff * 2**i for i in range(self.max_retries))
        return (self.max_retries + 1) * self.attempt_seconds + backoff

    @property
    def scope(self) -> str:
        """Clopos' rate limit, and so our budget and breaker, are per integrator + brand."""
        return f"{self.brand}:{self.integrator_id}"


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: Any  # decoded JSON, or None when the body was not JSON
    attempts: int = 1

    @property
    def failure_kind(self) -> str | None:
        """How the circuit breaker and the status panel see this answer."""
        if self.status >= 500:
            return "server_error"
        if self.status == 429:
            return "rate_limited"
        if self.status < 400 and self.body is None:
            return "bad_response"
        return None


class _TokenRejected(Exception):
    """Internal: a 401 on an authenticated call; the caller re-authenticates once."""


def build_session(config: CloposConfig) -> requests.Session:
    retry = Retry(
        total=config.max_retries,
        connect=config.max_retries,
        read=0,  # a read timeout is not retried: the budget would double on a slow Clopos
        status=config.max_retries,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=config.retry_backoff,
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
        self.budget = guard.RateBudget(config.scope, config.rate_budget_per_minute)
        self.breaker = guard.CircuitBreaker(
            config.scope, config.circuit_failures, config.circuit_open_seconds, probe_seconds=config.call_seconds + 1
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

    def _get(self, path: str, params: Mapping[str, Any], *, endpoint: str) -> Any:
        self._check_not_paused()
        token = self._token()
        try:
            return self._authenticated_get(path, params, token, endpoint=endpoint)
        except _TokenRejected:
            # One re-authentication and one retry: the token may have expired or been rotated.
            self._forget_token(token)
            token = self._token()
            try:
                return self._authenticated_get(path, params, token, endpoint=endpoint)
            except _TokenRejected as exc:
                self._forget_token(token)
                raise CloposAuthError("Clopos rejected a freshly issued token") from exc

    def _authenticated_get(self, path: str, params: Mapping[str, Any], token: str, *, endpoint: str) -> Any:
        headers = {"x-token": token}
        if self.config.venue_id:
            headers["x-venue"] = self.config.venue_id
        answer = self._send("GET", path, endpoint=endpoint, params=params, headers=headers, budgeted=True)
        if answer.status == 401:
            raise _TokenRejected()
        return self._check(answer, endpoint=endpoint)

    # --- Token ---------------------------------------------------------------------------------

    def _token(self) -> str:
        """A valid token from the shared cache, renewing it (one worker at a time) when due."""
        key = keys.token_key(self.config.brand, self.config.integrator_id)
        with timing.timed("cache"):
            entry = cache.get(key)
        if token := self._not_due(entry):
            return token
        lock_key = keys.lock_key(key)
        owner = singleflight.acquire(lock_key, lock_seconds=self.config.call_seconds + 1)
        if owner:
            try:
                # Another worker may have stored a new token between our read and our lock.
                if token := self._not_due(cache.get(key)):
                    return token
                return self._authenticate(key)
            except CloposUnavailableError:
                # Renewal failed but the current token still works: use it and renew next time.
                if entry and entry["expires_at"] > time.time() + 5:
                    return entry["token"]
                raise
            finally:
                singleflight.release(lock_key, owner)

        # Another worker is authenticating: wait for its token rather than calling /v2/auth too.
        remaining = timing.current().remaining()
        wait = (
            self.config.call_seconds + 1
            if remaining is None
            else max(0.0, min(self.config.call_seconds + 1, remaining))
        )
        token = singleflight.wait_for(lambda: self._not_due(cache.get(key)), seconds=wait)
        if token:
            return token
        if entry and entry["expires_at"] > time.time() + 5:
            return entry["token"]  # still valid, merely due for renewal
        raise CloposUnavailableError("Timed out waiting for another worker to authenticate")

    def token_expires_at(self) -> float | None:
        """When the shared cached token expires (epoch seconds), or None when none is cached."""
        entry = cache.get(keys.token_key(self.config.brand, self.config.integrator_id))
        return entry["expires_at"] if entry else None

    def _not_due(self, entry: Mapping[str, Any] | None) -> str | None:
        """The cached token, unless it is missing or due for renewal."""
        if entry and entry["expires_at"] - self.config.token_renew_margin > time.time():
            return entry["token"]
        return None

    def _authenticate(self, key: str) -> str:
        body = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "brand": self.config.brand,
            "integrator_id": self.config.integrator_id,
        }
        answer = self._send("POST", "v2/auth", endpoint="auth", json_body=body)
        payload = answer.body if isinstance(answer.body, Mapping) else None
        if answer.status >= 500 or answer.status == 429:
            self._check(answer, endpoint="auth")  # an outage or a rate limit, not our credentials
        if answer.status >= 400 or (payload is not None and payload.get("success") is False):
            # 200 + success:false is the documented test/production integrator mismatch.
            raise CloposAuthError(f"Clopos refused authentication (HTTP {answer.status})")
        token = payload.get("token") if payload else None
        if not isinstance(token, str) or not token:
            raise CloposResponseError("auth: no token in the response")
        now = time.time()
        try:
            expires_at = float(payload.get("expires_at") or now + float(payload.get("expires_in") or 3600))
        except (TypeError, ValueError) as exc:
            raise CloposResponseError("auth: unreadable expires_at") from exc
        lifetime = int(expires_at - now)
        if lifetime > 0:
            cache.set(key, {"token": token, "expires_at": expires_at}, timeout=lifetime)
        return token

    def _forget_token(self, token: str) -> None:
        key = keys.token_key(self.config.brand, self.config.integrator_id)
        entry = cache.get(key)
        if entry and entry.get("token") == token:
            cache.delete(key)

    # --- Rate-limit pause ----------------------------------------------------------------------

    def _check_not_paused(self) -> None:
        until = cache.get(keys.rate_pause_key(self.config.brand, self.config.integrator_id))
        if until and until > time.time():
            raise CloposRateLimitedError("Paused after a 429 from Clopos", retry_after=int(until - time.time()) + 1)

    def _pause(self, seconds: int) -> None:
        until = time.time() + seconds
        cache.set(keys.rate_pause_key(self.config.brand, self.config.integrator_id), until, timeout=seconds + 1)

    # --- Transport -----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        budgeted: bool = False,
    ) -> _Answer:
        """One HTTP exchange through the breaker, the rate budget and the request's deadline."""
        timeouts = self._timeouts_within_deadline(endpoint)
        probe = self.breaker.before_call()
        reserved = self.config.max_retries + 1 if budgeted else 0
        if reserved:
            try:
                self.budget.acquire(reserved)
            except CloposError:
                if probe:
                    self.breaker.release_probe()  # unused: the next request may probe instead
                raise
        started = time.monotonic()
        status: int | str = "error"
        attempts = reserved or 1
        failure_kind: str | None = None
        answer: _Answer | None = None
        try:
            answer = self._exchange(
                method, path, endpoint=endpoint, params=params, headers=headers, json_body=json_body, timeouts=timeouts
            )
            status, attempts, failure_kind = answer.status, answer.attempts, answer.failure_kind
            return answer
        except CloposTimeoutError:
            failure_kind = "timeout"
            raise
        except CloposUnavailableError:
            failure_kind = "unavailable"
            raise
        except CloposResponseError:
            failure_kind = "bad_response"
            raise
        finally:
            elapsed = time.monotonic() - started
            timing.current().add("clopos", elapsed)
            if reserved:
                self.budget.refund(reserved - attempts)
            # A 429 means Clopos is alive: it pauses calls but does not open the circuit.
            self.breaker.record(ok=failure_kind in (None, "rate_limited"), probe=probe)
            guard.health_record(
                self.config.scope,
                endpoint=endpoint,
                failure_kind=failure_kind,
                headers=answer.headers if answer is not None else None,
            )
            logger.info(
                "clopos_call endpoint=%s method=%s status=%s duration_ms=%d attempts=%d cache=%s failure=%s",
                endpoint,
                method,
                status,
                elapsed * 1000,
                attempts,
                timing.current().upstream_reason,
                failure_kind or "-",
            )

    def _timeouts_within_deadline(self, endpoint: str) -> tuple[float, float]:
        """Per-attempt timeouts, cut down so the request's Clopos budget is honoured."""
        remaining = timing.current().remaining()
        connect, read = self.config.connect_timeout, self.config.read_timeout
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
        params: Mapping[str, Any] | None,
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
            remaining = timing.current().remaining()
            body_seconds = timeouts[1] if remaining is None else max(0.1, min(timeouts[1], remaining))
            raw = self._read_body(response, endpoint=endpoint, seconds=body_seconds)
        return _Answer(status=response.status_code, headers=response.headers, body=_decode(raw), attempts=attempts)

    def _read_body(self, response: requests.Response, *, endpoint: str, seconds: float) -> bytes:
        # The read timeout bounds each socket read; this deadline bounds the whole body.
        deadline = time.monotonic() + seconds
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
                if time.monotonic() > deadline:
                    raise CloposTimeoutError(f"{endpoint}: response body arrived too slowly")
        except CloposError:
            raise
        except Exception as exc:  # urllib3 ProtocolError, IncompleteRead, socket errors, decoding errors
            if "timed out" in str(exc).lower():
                raise CloposTimeoutError(f"{endpoint}: timed out reading the body") from exc
            raise CloposUnavailableError(f"{endpoint}: the response was cut off") from exc
        return b"".join(chunks)

    def _check(self, answer: _Answer, *, endpoint: str) -> Any:
        """Map an answer to its data or to the error tree; `success` is checked before the status."""
        body = answer.body
        success = body.get("success") if isinstance(body, Mapping) else None
        if answer.status < 400 and success is not False:
            if body is None:
                raise CloposResponseError(f"{endpoint}: HTTP {answer.status} with a body that is not JSON")
            return body
        error_code = str(body.get("error") or "") if isinstance(body, Mapping) else ""
        if answer.status == 404 or "not_found" in error_code or "not found" in error_code.lower():
            raise CloposNotFoundError(f"{endpoint}: not found")
        if answer.status == 429:
            retry_after = _retry_after(answer.headers)
            self._pause(retry_after)
            raise CloposRateLimitedError(f"{endpoint}: rate limited", retry_after=retry_after)
        if answer.status in (401, 403):
            raise CloposAuthError(f"{endpoint}: HTTP {answer.status}")
        if answer.status == 504:
            raise CloposTimeoutError(f"{endpoint}: Clopos gateway timeout")
        if answer.status >= 500:
            raise CloposUnavailableError(f"{endpoint}: HTTP {answer.status}")
        raise CloposResponseError(f"{endpoint}: HTTP {answer.status}, error={error_code[:40]!r}")


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


@lru_cache(maxsize=1)
def get_clopos_client() -> CloposClient:
    """The process-wide client (one pooled session per process)."""
    return CloposClient(CloposConfig.from_settings())
