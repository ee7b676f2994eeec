"""HTTP server imitating the Clopos Open API v2, plus a fault-injection control API.

Standard library only, so it can never become a dependency of the app itself. The
app talks to it purely over HTTP via ``CLOPOS_BASE_URL``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import data, listing, living

WINDOW = 60.0  # seconds; every Clopos rate tier is a sliding one-minute window
CONTROL_PREFIX = "/__sandbox"
ENDPOINTS = (
    "auth",
    "order",
    "orders",
    "receipt",
    "receipts",
    "customer",
    "customers",
    "venues",
    "sale_types",
    "payment_methods",
    "product",
    "other",
)
FAULT_KINDS = (
    "latency",
    "status",
    "rate_limit",
    "token_expired",
    "success_false",
    "malformed",
    "html",
    "wrong_shape",
    "truncated",
    "drip",
    "reset",
)
DATE_ZONES = ("UTC", "Asia/Baku")
_ROUTE = re.compile(
    r"^/open-api/v2/(auth|orders|receipts|customers|venues|sale-types|payment-methods|products)(?:/([^/]+))?/?$"
)
_RESOURCE = {"orders": "order", "receipts": "receipt", "customers": "customer", "products": "product"}
_LISTS = {"orders", "receipts", "customers"}
_STATUS_ERRORS = {
    500: ("internal_error", "Internal server error"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("service_unavailable", "Service temporarily unavailable"),
    504: ("upstream_timeout", "Upstream Clopos API did not respond in time"),
}
_MAX_BODY = 1 << 20


@dataclass
class SandboxConfig:
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    brand: str = "kohnesheher"
    integrator_id: str = "sandbox-integrator"
    token_ttl: int = 3600
    rate_limit: int = 300  # tier 3: per (integrator_id, brand)
    auth_rate_limit: int = 60  # tier 1: POST /auth per client IP
    verbose: bool = False
    now: str | None = None  # pinned sandbox clock (ISO 8601); None = real time
    date_zone: str = "UTC"  # zone of the orders list's date[] filter: "UTC" or "Asia/Baku"

    def __post_init__(self) -> None:
        if isinstance(self.now, datetime):
            self.now = self.now.isoformat()
        _check_clock("now", self.now)
        _check_clock("date_zone", self.date_zone)


def parse_now(value: str | None) -> datetime | None:
    """The pinned clock as an aware datetime; a naive value is Baku local time."""
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=data.BAKU)


def _check_clock(key: str, value: Any) -> None:
    if key == "now":
        if value is not None and not isinstance(value, str):
            raise ValueError("now must be an ISO 8601 date-time string or null")
        try:
            parse_now(value)
        except ValueError:
            raise ValueError("now must be an ISO 8601 date-time, e.g. 2026-11-27T14:00:00+04:00") from None
    elif key == "date_zone" and value not in DATE_ZONES:
        raise ValueError(f"date_zone must be one of {', '.join(DATE_ZONES)}")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Token:
    expires_at: float  # epoch seconds
    key: tuple[str, str]  # (integrator_id, brand) for the tier-3 budget


class _Window:
    """Sliding-window counter; callers hold the state lock."""

    def __init__(self) -> None:
        self.hits: deque[float] = deque()

    def prune(self, now: float) -> int:
        while self.hits and self.hits[0] <= now - WINDOW:
            self.hits.popleft()
        return len(self.hits)

    def reset_in(self, now: float) -> int:
        return max(1, math.ceil(self.hits[0] + WINDOW - now)) if self.hits else int(WINDOW)


class SandboxState:
    """Everything mutable the handlers share. Guard every access with ``lock``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.lock = threading.RLock()
        self.config = config
        self._initial_clock = (config.now, config.date_zone)
        self.restore_data()
        self.reset()

    def now(self) -> datetime:
        """The sandbox clock: the pinned ``now`` of the config, or the real time."""
        with self.lock:
            pinned = self.config.now
        return parse_now(pinned) or datetime.now(UTC)

    def restore_data(self) -> None:
        """(Re)load private copies of the dataset, so tests may edit them without touching sandbox.data."""
        with self.lock:
            self.orders = copy.deepcopy(data.ORDERS)
            self.receipts = copy.deepcopy(data.RECEIPTS)
            self.products = copy.deepcopy(data.PRODUCTS)
            self.venues = copy.deepcopy(data.VENUES)
            self.sale_types = copy.deepcopy(data.SALE_TYPES)
            self.customers = copy.deepcopy(living.CUSTOMERS)

    def reset(self) -> None:
        with self.lock:
            # The clock and the date zone go back to their start-up values; other config stays.
            self.config.now, self.config.date_zone = self._initial_clock
            self.tokens: dict[str, _Token] = {}
            self.faults: list[dict[str, Any]] = []
            self.requests: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)
            self.rate_limited = 0
            self.recent = _Window()  # every API request, for the stats "window"
            self.rate_windows: dict[tuple[str, str], _Window] = {}
            self.auth_windows: dict[str, _Window] = {}
            self._next_fault_id = 1

    # -- requests & faults ---------------------------------------------------------

    def record(self, endpoint: str) -> dict[str, Any] | None:
        """Count one API request and claim the first applicable fault rule, if any."""
        with self.lock:
            self.requests[endpoint] += 1
            self.recent.prune(time.monotonic())
            self.recent.hits.append(time.monotonic())
            for rule in self.faults:
                if rule["endpoint"] in ("*", endpoint) and rule["remaining"] != 0:
                    if rule["skip"] > 0:  # let this many matching requests through first
                        rule["skip"] -= 1
                        continue
                    if rule["remaining"] is not None:
                        rule["remaining"] -= 1
                    rule["hits"] += 1
                    return dict(rule)
            return None

    def add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        rule = _validate_fault(spec)
        with self.lock:
            rule["id"] = self._next_fault_id
            self._next_fault_id += 1
            self.faults.append(rule)
            return dict(rule)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            now = time.monotonic()
            return {
                "requests": dict(self.requests),
                "total": sum(self.requests.values()),
                "rate_limited": self.rate_limited,
                "window": self.recent.prune(now),
                "rate_windows": {f"{k[0]}|{k[1]}": w.prune(now) for k, w in self.rate_windows.items()},
            }

    # -- tokens & limits -----------------------------------------------------------

    def issue_token(self) -> tuple[str, int]:
        with self.lock:
            ttl = self.config.token_ttl
            token = "sbx." + secrets.token_urlsafe(32)
            self.tokens[token] = _Token(time.time() + ttl, (self.config.integrator_id, self.config.brand))
            return token, ttl

    def revoke_tokens(self) -> int:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
            return count

    def lookup_token(self, token: str) -> tuple[_Token | None, float | None]:
        """Return (live token, None) or (None, expiry of a dead token if it was ever issued)."""
        with self.lock:
            info = self.tokens.get(token)
            if info is None:
                return None, None
            if time.time() >= info.expires_at:
                del self.tokens[token]
                return None, info.expires_at
            return info, None

    def take(self, windows: dict[Any, _Window], key: Any, limit: int) -> tuple[bool, list[tuple[str, str]]]:
        """Admit one request into ``windows[key]`` unless it is full; rejected requests are not counted."""
        with self.lock:
            now = time.monotonic()
            window = windows.setdefault(key, _Window())
            used = window.prune(now)
            allowed = used < limit
            if allowed:
                window.hits.append(now)
                used += 1
            else:
                self.rate_limited += 1
            headers = [
                ("RateLimit-Limit", str(limit)),
                ("RateLimit-Remaining", str(max(0, limit - used))),
                ("RateLimit-Reset", str(window.reset_in(now))),
            ]
            return allowed, headers

    def update_config(self, changes: dict[str, Any]) -> dict[str, Any]:
        types = {"token_ttl": int, "rate_limit": int, "auth_rate_limit": int, "verbose": bool}
        with self.lock:
            for key, value in changes.items():
                if key not in SandboxConfig.__dataclass_fields__:
                    raise ValueError(f"unknown config key {key!r}")
                if key in ("now", "date_zone"):
                    _check_clock(key, value)
                    continue
                want = types.get(key, str)
                if type(value) is not want or (want is int and value < 1) or (want is str and not value):
                    raise ValueError(f"{key} must be a {'positive integer' if want is int else want.__name__}")
            for key, value in changes.items():
                setattr(self.config, key, value)
            return asdict(self.config)


def _validate_fault(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ValueError("body must be a JSON object")
    endpoint, kind, count = spec.get("endpoint"), spec.get("fault"), spec.get("count")
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)} or *")
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}")
    if count is not None and (type(count) is not int or count < 1):
        raise ValueError("count must be a positive integer or null")
    for key in ("seconds", "reset", "status"):
        value = spec.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            raise ValueError(f"{key} must be a non-negative number")
    status = spec.get("status")
    if status is not None and not 100 <= int(status) <= 599:
        raise ValueError("status must be an HTTP status code")
    skip = spec.get("skip", 0)
    if type(skip) is not int or skip < 0:
        raise ValueError("skip must be a non-negative integer")
    return {**spec, "count": count, "remaining": count, "hits": 0, "skip": skip}


# ------------------------------------------------------------------------------ responses


def _json(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, headers=list(headers or []))


def _error(status: int, error: str, message: str, **extra: Any) -> Response:
    return _json(status, {"success": False, "error": error, "message": message, **extra})


def _fixture(status: int, name: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return _json(status, data.load_fixture(name), headers)


def _envelope(payload: dict[str, Any], started: float, now: datetime | None = None) -> dict[str, Any]:
    # Clopos stamps list/receipt envelopes with server time (Baku, naive) and elapsed ms.
    moment = now or datetime.now(UTC)
    return {
        **payload,
        "time": max(1, round((time.monotonic() - started) * 1000)),
        "timestamp": moment.astimezone(data.BAKU).strftime("%Y-%m-%d %H:%M:%S"),
        "unix": int(moment.timestamp()),
    }


def _param(rule: dict[str, Any] | None, key: str, default: float) -> float:
    value = (rule or {}).get(key)
    return default if value is None else float(value)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _fault_response(rule: dict[str, Any], state: SandboxState) -> Response:
    kind = rule["fault"]
    if kind == "status":
        status = int(_param(rule, "status", 500))
        error, message = _STATUS_ERRORS.get(status, (f"http_{status}", _phrase(status)))
        return _error(status, rule.get("error", error), rule.get("message", message))
    if kind == "rate_limit":
        with state.lock:
            state.rate_limited += 1
            limit = state.config.rate_limit
        reset = int(_param(rule, "reset", 7))
        headers = [("RateLimit-Limit", str(limit)), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", str(reset))]
        return _fixture(429, "error_429_rate_limited.json", headers)
    if kind == "token_expired":
        state.revoke_tokens()
        return _fixture(401, "error_401_token_expired.json")
    if kind == "success_false":
        return _error(int(_param(rule, "status", 200)), "internal_error", "Something went wrong")
    if kind == "malformed":
        return Response(200, b'{"success": true, "data": {"id": 41')
    if kind == "html":
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return Response(int(_param(rule, "status", 502)), page, content_type="text/html; charset=utf-8")
    if kind == "wrong_shape":
        return _json(200, {"success": True, "data": "unexpected"})
    raise AssertionError(kind)


def _auth(state: SandboxState, body: bytes, ip: str) -> Response:
    with state.lock:
        limit = state.config.auth_rate_limit
    allowed, headers = state.take(state.auth_windows, ip, limit)
    if not allowed:
        return _fixture(429, "error_429_rate_limited.json", headers)
    try:
        creds = json.loads(body or b"{}")
    except ValueError:
        creds = None
    fields = ("client_id", "client_secret", "brand", "integrator_id")
    if not isinstance(creds, dict) or not all(isinstance(creds.get(f), str) and creds[f] for f in fields):
        return _fixture(400, "error_400_auth_missing_fields.json")
    with state.lock:
        cfg = state.config
        ok = all(secrets.compare_digest(creds[f], getattr(cfg, f)) for f in fields)
    if not ok:
        return _error(401, "unauthorized", "Invalid client credentials")
    token, ttl = state.issue_token()
    return _json(
        200,
        {
            "success": True,
            "token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "expires_at": int(time.time()) + ttl,
            "message": "Authentication successful",
        },
    )


def _classify(path: str) -> tuple[str, str | None]:
    """Map a request path to its stats/fault endpoint name and its id segment, if any."""
    match = _ROUTE.match(path)
    if match is None:
        return "other", None
    resource, ident = match.groups()
    if resource in _RESOURCE:
        if ident is not None:
            return _RESOURCE[resource], ident
        # The products list does not exist in this sandbox; products are by id only.
        return (resource, None) if resource in _LISTS else ("other", None)
    return ("other", None) if ident is not None else (resource.replace("-", "_"), None)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CloposSandbox/1.0"
    timeout = 120  # drop idle keep-alive connections eventually
    # Headers and body go out in separate writes; without this, Nagle + delayed ACK
    # adds ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: SandboxServer

    # -- plumbing ------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.state.config.verbose:
            sys.stderr.write(f"[sandbox] {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        # Always drain the body so the keep-alive stream stays in sync.
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, resp: Response, *, body_bytes: bytes | None = None) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(resp.body if body_bytes is None else body_bytes)

    def _abort(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST; makefile() objects hold extra
        # references to the socket, so they must be closed too for close() to bite.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for stream in (self.rfile, self.wfile):
            with contextlib.suppress(OSError):
                stream.close()
        self.connection.close()
        self.rfile = self.wfile = _Sink()  # the base class still flushes/closes these

    # -- dispatch ------------------------------------------------------------------

    def _handle(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        body = self._read_body()
        try:
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                self._send(_control(state, self.command, path[len(CONTROL_PREFIX) :].strip("/"), body))
                return
            endpoint, ident = _classify(path)
            rule = state.record(endpoint)
            kind = rule["fault"] if rule else None
            if kind == "reset":
                self._abort()
                return
            if kind == "latency":
                time.sleep(_param(rule, "seconds", 1.0))
            elif kind not in (None, "truncated", "drip"):
                self._send(_fault_response(rule, state))  # type: ignore[arg-type]
                return
            resp = self._api(endpoint, ident, query, body)
            if kind == "truncated":
                # Promise the full length, deliver half, hang up: a premature EOF for the client.
                self._send(resp, body_bytes=resp.body[: len(resp.body) // 2])
                self.close_connection = True
            elif kind == "drip":
                self._drip(resp, _param(rule, "seconds", 10.0))
            else:
                self._send(resp)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a sandbox bug must still produce an HTTP answer
            traceback.print_exc()
            self._send(_error(500, "internal_error", "Sandbox crashed; see its stderr"))

    def _drip(self, resp: Response, seconds: float) -> None:
        chunks = max(2, min(len(resp.body), round(seconds * 10)))
        size = math.ceil(len(resp.body) / chunks)
        self._send(resp, body_bytes=b"")
        for start in range(0, len(resp.body), size):
            time.sleep(seconds / chunks)
            self.wfile.write(resp.body[start : start + size])
            self.wfile.flush()

    def _api(self, endpoint: str, ident: str | None, query: dict[str, list[str]], body: bytes) -> Response:
        state = self.server.state
        started = time.monotonic()
        if endpoint == "other":
            return _error(404, "not_found", "Route not found")
        if self.command != ("POST" if endpoint == "auth" else "GET"):
            return _error(405, "method_not_allowed", f"Method {self.command} is not allowed here")
        if endpoint == "auth":
            return _auth(state, body, self.client_address[0])

        token = self.headers.get("x-token", "").strip()
        if not token:
            return _fixture(401, "error_401_unauthorized_missing_headers.json")
        info, dead_expiry = state.lookup_token(token)
        if info is None:
            payload = data.load_fixture("error_401_token_expired.json")
            if dead_expiry is not None:
                payload["expires_at"] = datetime.fromtimestamp(dead_expiry, UTC).isoformat(timespec="milliseconds")
                payload["expires_at"] = payload["expires_at"].replace("+00:00", "Z")
            return _json(401, payload)
        with state.lock:
            limit = state.config.rate_limit
        allowed, rate_headers = state.take(state.rate_windows, info.key, limit)
        if not allowed:
            return _fixture(429, "error_429_rate_limited.json", rate_headers)
        resp = _resource(state, endpoint, ident, query, started)
        resp.headers.extend(rate_headers)
        return resp


def _resource(
    state: SandboxState, endpoint: str, ident: str | None, query: dict[str, list[str]], started: float
) -> Response:
    now = state.now()
    try:
        if endpoint == "orders":
            payload = listing.list_orders(state, query, now)
            return _json(200, {**_envelope(payload, started, now), "sorts": list(listing.ORDER_SORTS)})
        if endpoint == "receipts":
            payload = listing.list_receipts(state, query, now)
            return _json(200, {**_envelope(payload, started, now), "sorts": list(listing.RECEIPT_SORTS)})
        if endpoint == "customers":
            return _json(200, _envelope(listing.list_customers(state, query), started, now))
    except listing.InvalidStatus:
        return _fixture(400, "error_400_invalid_status_filter.json")
    except listing.BadParam as exc:
        return _error(400, "invalid_parameter", str(exc))
    if endpoint == "venues":
        with state.lock:
            return _json(200, _envelope({"success": True, "data": state.venues}, started, now))
    if endpoint == "sale_types":
        with state.lock:
            payload = {"success": True, "data": state.sale_types, "total": len(state.sale_types)}
            return _json(200, _envelope(payload, started, now))
    if endpoint == "payment_methods":
        methods = data.payment_methods()
        return _json(200, _envelope({"success": True, "data": methods, "total": len(methods)}, started, now))
    # By-id resources: ids are positive integers, anything else simply does not exist.
    key = int(ident) if ident and re.fullmatch(r"[0-9]+", ident) and int(ident) > 0 else None
    if endpoint == "order":
        order = listing.get_order(state, key, query, now) if key else None
        if order is None:
            return _fixture(404, "error_404_order_not_found.json")
        return _json(200, {"success": True, "data": order})
    if endpoint == "receipt":
        receipt = listing.get_receipt(state, key, now) if key else None
        if receipt is None:
            return _fixture(404, "error_404_receipt_not_found.json")
        return _json(200, _envelope({"success": True, "data": receipt}, started, now))
    if endpoint == "customer":
        customer = listing.get_customer(state, key, query) if key else None
        if customer is None:
            return _error(404, "not_found", "Customer not found")
        return _json(200, customer)  # a bare object, as both doc examples show
    with state.lock:
        product = state.products.get(key) if key else None
        if product is None:
            return _error(404, "resource_not_found", "Product not found")
        return _json(200, {"success": True, "data": product})


def _control(state: SandboxState, method: str, action: str, body: bytes) -> Response:
    """The /__sandbox/ API: fault rules, counters, tokens and live config."""
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        return _error(400, "invalid_json", "Body is not valid JSON")
    try:
        if action == "faults" and method == "POST":
            return _json(201, {"success": True, "rule": state.add_fault(payload)})
        if action == "faults" and method == "GET":
            with state.lock:
                return _json(200, {"success": True, "faults": [dict(r) for r in state.faults]})
        if action == "faults" and method == "DELETE":
            with state.lock:
                cleared = len(state.faults)
                state.faults.clear()
            return _json(200, {"success": True, "cleared": cleared})
        if action == "stats" and method == "GET":
            return _json(200, state.stats())
        if action == "reset" and method == "POST":
            state.reset()
            if isinstance(payload, dict) and payload.get("data"):
                state.restore_data()
            return _json(200, {"success": True})
        if action == "expire-tokens" and method == "POST":
            return _json(200, {"success": True, "revoked": state.revoke_tokens()})
        if action == "config" and method in ("GET", "POST"):
            if method == "GET":
                with state.lock:
                    return _json(200, {"success": True, "config": asdict(state.config)})
            if not isinstance(payload, dict):
                raise ValueError("body must be a JSON object")
            return _json(200, {"success": True, "config": state.update_config(payload)})
        if action == "health" and method == "GET":
            return _json(200, {"success": True, "status": "ok"})
        if action == "today" and method == "GET":
            return _json(200, listing.today(state.now()))
    except ValueError as exc:
        return _error(400, "invalid_parameter", str(exc))
    return _error(404, "not_found", f"No control action {method} /__sandbox/{action}")


class _Sink:
    """Stand-in stream after an abort; absorbs the base handler's flush/close calls."""

    closed = True

    def write(self, _data: bytes) -> int:
        return 0

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def readline(self, *_args: Any) -> bytes:
        return b""


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        self.state = state
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, SandboxHandler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def close_connections(self) -> None:
        """Hang up keep-alive clients so a stopped sandbox really is gone."""
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError) and not self.state.config.verbose:
            return  # clients hanging up mid-response are routine here (fault tests)
        super().handle_error(request, client_address)


@dataclass
class SandboxHandle:
    server: SandboxServer
    thread: threading.Thread
    state: SandboxState
    host: str
    port: int

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the app's CLOPOS_BASE_URL should be set to."""
        return f"{self.root_url}/open-api"

    @property
    def control_url(self) -> str:
        return f"{self.root_url}{CONTROL_PREFIX}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()
        self.thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def make_server(host: str = "127.0.0.1", port: int = 0, **config: Any) -> SandboxServer:
    return SandboxServer((host, port), SandboxState(SandboxConfig(**config)))


def start_sandbox(host: str = "127.0.0.1", port: int = 0, **config: Any) -> SandboxHandle:
    """Start a sandbox in a daemon thread; ``port=0`` picks a free port."""
    server = make_server(host, port, **config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.name = f"clopos-sandbox-{server.server_address[1]}"
    thread.start()
    return SandboxHandle(server, thread, server.state, host, server.server_address[1])
