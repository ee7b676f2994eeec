"""Order lookups: the only code that combines the Clopos client with the cache.

Views call `order_get` and `order_receipt_get`; both return typed results that say how fresh
they are. Cached entries hold the raw payload and the time it was fetched; a payload is parsed
before it is cached, so one that breaks the parser is an error and never stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import db
from django.conf import settings
from django.core.cache import cache

from orders import cache as keys
from orders import singleflight, timing
from orders.clopos import (
    CloposError,
    CloposNotFoundError,
    CloposTimeoutError,
    get_clopos_client,
    guard,
)
from orders.clopos.types import (
    Order,
    OrderLine,
    OrderModifier,
    Product,
    Receipt,
    SaleType,
    Venue,
    parse_list,
    parse_payload,
)

logger = logging.getLogger("orders.services")

ENTRY_FIELDS = frozenset({"payload", "fetched_at", "fresh_until", "stale_until"})


@dataclass(frozen=True, slots=True)
class Freshness:
    fetched_at: dt.datetime
    # "live": fetched from Clopos for this request; "cached": served from the cache while fresh;
    # "revalidating": past its fresh age, served while a background refresh runs;
    # "stale": an older copy served because Clopos failed (see `error`).
    source: str
    error: CloposError | None = None

    @property
    def is_stale(self) -> bool:
        return self.source == "stale"


@dataclass(frozen=True, slots=True)
class Loaded[T]:
    value: T
    freshness: Freshness


@dataclass(frozen=True, slots=True)
class OrderDetail:
    order: Order
    venue_name: str | None
    sale_type_name: str | None
    freshness: Freshness


@dataclass(frozen=True, slots=True)
class ReceiptDetail:
    receipt: Receipt
    freshness: Freshness


def zone() -> ZoneInfo:
    return ZoneInfo(settings.CLOPOS_TIME_ZONE)


# --- Public services --------------------------------------------------------------------------


def order_get(*, order_id: int, venue_ids: Collection[int] | None = None, refresh: bool = False) -> OrderDetail:
    """The order with names resolved, or CloposNotFoundError when it is unknown or outside
    `venue_ids` (None means every venue). Other CloposErrors when Clopos fails and no previous
    copy exists. `refresh` bypasses the cache for the order.
    """
    # One cache round trip for the order and the catalogue lists the page names it with.
    with timing.timed("cache"):
        seen = cache.get_many([keys.order_key(order_id), keys.venues_key(), keys.sale_types_key()])
    loaded = _load_order(order_id, refresh=refresh, seen=seen)
    order = loaded.value
    if venue_ids is not None and order.venue_id not in venue_ids:
        # Out of scope answers exactly like an unknown id, so ids cannot be probed.
        raise CloposNotFoundError("order outside the user's venues")
    return OrderDetail(
        order=_with_catalogue_names(order),
        venue_name=_venue_name(order.venue_id, seen),
        sale_type_name=_sale_type_name(order.sale_type_id, seen),
        freshness=loaded.freshness,
    )


def order_refresh(*, order_id: int, venue_ids: Collection[int] | None = None) -> OrderDetail:
    """Fetch the order and its receipt from Clopos now, whatever the cache holds."""
    detail = order_get(order_id=order_id, venue_ids=venue_ids, refresh=True)
    if detail.order.receipt is not None:
        # The receipt slot reports its own failure when it loads; the order is what was asked for.
        with contextlib.suppress(CloposError):
            _load_receipt(detail.order.receipt.id, refresh=True)
    return detail


def order_receipt_get(*, order_id: int, venue_ids: Collection[int] | None = None) -> ReceiptDetail | None:
    """The receipt linked to the order, or None when the order has none yet."""
    order = _load_order(order_id).value
    if venue_ids is not None and order.venue_id not in venue_ids:
        raise CloposNotFoundError("order outside the user's venues")
    if order.receipt is None:
        return None
    loaded = _load_receipt(order.receipt.id)
    receipt = loaded.value
    if venue_ids is not None and receipt.venue_id is not None and receipt.venue_id not in venue_ids:
        raise CloposNotFoundError("receipt outside the user's venues")
    return ReceiptDetail(receipt=receipt, freshness=loaded.freshness)


# --- Loading with the cache -------------------------------------------------------------------


def _load_order(order_id: int, *, refresh: bool = False, seen: Mapping[str, Any] | None = None) -> Loaded[Order]:
    return _load(
        keys.order_key(order_id),
        fetch=lambda: get_clopos_client().get_order(order_id),
        parse=lambda payload: parse_payload(Order.from_payload, payload, zone()),
        ages=lambda order: keys.order_ages(order.status),
        refresh=refresh,
        seen=seen,
    )


def _load_receipt(receipt_id: int, *, refresh: bool = False) -> Loaded[Receipt]:
    return _load(
        keys.receipt_key(receipt_id),
        fetch=lambda: get_clopos_client().get_receipt(receipt_id),
        parse=lambda payload: parse_payload(Receipt.from_payload, payload, zone()),
        ages=lambda receipt: keys.receipt_ages(receipt.is_closed),
        refresh=refresh,
    )


def _load[T](
    key: str,
    *,
    fetch: Callable[[], Any],
    parse: Callable[[Any], T],
    ages: Callable[[T], keys.Ages],
    refresh: bool = False,
    seen: Mapping[str, Any] | None = None,
) -> Loaded[T]:
    """Fresh: serve. Stale: serve now and revalidate in the background. Older or missing:
    fetch once (single-flight across workers) and cache it.

    When Clopos fails and an older good copy exists, that copy is served as "stale" with the
    error attached; the failure itself is never cached.
    """
    if seen is not None:  # read ahead by the caller, in one round trip with other keys
        entry = seen.get(key)
    else:
        with timing.timed("cache"):
            entry = cache.get(key)
    if entry is not None and not (isinstance(entry, dict) and ENTRY_FIELDS.issubset(entry)):
        entry = None  # written by another version of this code: a miss, not a crash
    now = time.time()
    if entry and not refresh:
        if entry["fresh_until"] > now:
            return _loaded(entry, parse, "cached")
        if entry["stale_until"] > now:
            _revalidate_in_background(key, entry, fetch=fetch, parse=parse, ages=ages)
            return _loaded(entry, parse, "revalidating")
    try:
        with timing.upstream_reason("refresh" if refresh else ("expired" if entry else "miss")):
            return _fetch_once(key, entry, fetch=fetch, parse=parse, ages=ages)
    except CloposNotFoundError:
        cache.delete(key)  # it was deleted upstream: do not keep showing it
        raise
    except CloposError as exc:
        if entry:
            return _loaded(entry, parse, "stale", error=exc)
        raise


def _store[T](key: str, payload: Any, parse: Callable[[Any], T], ages: Callable[[T], keys.Ages]) -> Loaded[T]:
    value = parse(payload)  # raises before anything unreadable is cached
    policy = ages(value)
    fetched_at = time.time()
    entry = {
        "payload": payload,
        "fetched_at": fetched_at,
        "fresh_until": fetched_at + policy.fresh,
        "stale_until": fetched_at + policy.stale,
    }
    with timing.timed("cache"):
        cache.set(key, entry, timeout=policy.keep)
    return Loaded(value, Freshness(fetched_at=_as_datetime(fetched_at), source="live"))


def _fetch_once[T](
    key: str,
    seen: Mapping[str, Any] | None,
    *,
    fetch: Callable[[], Any],
    parse: Callable[[Any], T],
    ages: Callable[[T], keys.Ages],
) -> Loaded[T]:
    lock_key = keys.lock_key(key)
    seen_at = seen["fetched_at"] if seen else 0.0
    config = get_clopos_client().config
    # The longest a leader can take: a token renewal plus the call itself.
    lock_seconds = 2 * config.call_seconds + 1
    # Waiting ends with the leader, or with this request's own Clopos budget.
    remaining = timing.current().remaining()
    deadline = time.monotonic() + (lock_seconds if remaining is None else min(lock_seconds, remaining))
    while True:
        owner = singleflight.acquire(lock_key, lock_seconds=lock_seconds)
        if owner:
            try:
                newer = cache.get(key)
                if newer and newer["fetched_at"] > seen_at:
                    return _loaded(newer, parse, "cached")  # another worker finished meanwhile
                return _store(key, fetch(), parse, ages)
            finally:
                singleflight.release(lock_key, owner)

        def result_or_released() -> Mapping[str, Any] | bool | None:
            newer = cache.get(key)
            if newer and newer["fetched_at"] > seen_at:
                return newer
            return True if cache.get(lock_key) is None else None

        with timing.timed("wait"):
            outcome = singleflight.wait_for(result_or_released, seconds=max(0.0, deadline - time.monotonic()))
        if isinstance(outcome, Mapping):
            return _loaded(outcome, parse, "cached")
        if outcome is None:
            raise CloposTimeoutError("Timed out waiting for another worker's Clopos call")
        # The leader released the lock without a result (it failed): try ourselves.


def _revalidate_in_background[T](
    key: str,
    seen: Mapping[str, Any],
    *,
    fetch: Callable[[], Any],
    parse: Callable[[Any], T],
    ages: Callable[[T], keys.Ages],
) -> None:
    """One worker refreshes a stale entry after the response; the user never waits for it."""
    config = get_clopos_client().config
    lock_key = keys.lock_key(key)
    owner = singleflight.acquire(lock_key, lock_seconds=2 * config.call_seconds + 1)
    if not owner:
        return  # someone is already fetching it

    def revalidate() -> None:
        try:
            with timing.upstream_reason("revalidate"):
                newer = cache.get(key)
                if not (newer and newer["fetched_at"] > seen["fetched_at"]):
                    _store(key, fetch(), parse, ages)
        except CloposNotFoundError:
            cache.delete(key)
        except CloposError as exc:
            # The client already logged the call; the copy stays until it can be replaced.
            logger.warning("background revalidation failed key=%s error=%s", key, type(exc).__name__)
        finally:
            singleflight.release(lock_key, owner)
            db.connections.close_all()  # this thread's own connections

    run_in_background(revalidate)


def run_in_background(task: Callable[[], None]) -> None:
    """A daemon thread: a sync gunicorn worker goes on serving while it runs. Tests replace this."""
    threading.Thread(target=task, name="clopos-revalidate", daemon=True).start()


def _loaded[T](entry: Mapping[str, Any], parse: Callable[[Any], T], source: str, error: CloposError | None = None):
    return Loaded(
        parse(entry["payload"]),
        Freshness(fetched_at=_as_datetime(entry["fetched_at"]), source=source, error=error),
    )


def _as_datetime(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


# --- Catalogue names (best effort: a failure shows ids, never fails the page) -----------------


def _catalogue[T](
    key: str, fetch: Callable[[], Any], parse: Callable[[Any], T], seen: Mapping[str, Any] | None = None
) -> T | None:
    try:
        return _load(key, fetch=fetch, parse=parse, ages=lambda _: keys.catalogue_ages(), seen=seen).value
    except CloposError:
        return None


def _venue_name(venue_id: int | None, seen: Mapping[str, Any] | None = None) -> str | None:
    return None if venue_id is None else venue_names(seen).get(venue_id)


def venue_names(seen: Mapping[str, Any] | None = None) -> dict[int, str]:
    """Venue id → name from the cached catalogue; empty when Clopos cannot say."""
    venues = _catalogue(
        keys.venues_key(),
        lambda: get_clopos_client().get_venues(),
        lambda payload: parse_payload(parse_list, Venue.from_payload, payload),
        seen,
    )
    return {v.id: v.name for v in venues or ()}


def _sale_type_name(sale_type_id: int | None, seen: Mapping[str, Any] | None = None) -> str | None:
    if sale_type_id is None:
        return None
    sale_types = _catalogue(
        keys.sale_types_key(),
        lambda: get_clopos_client().get_sale_types(),
        lambda payload: parse_payload(parse_list, SaleType.from_payload, payload),
        seen,
    )
    return next((s.name for s in sale_types or () if s.id == sale_type_id), None)


def _product(product_id: int) -> Product | None:
    return _catalogue(
        keys.product_key(product_id),
        lambda: get_clopos_client().get_product(product_id),
        lambda payload: parse_payload(Product.from_payload, payload),
    )


def _with_catalogue_names(order: Order) -> Order:
    """Fill line and modifier names/prices the order lacks from the product catalogue."""
    lines = []
    for line in order.lines:
        needs_lookup = line.name is None or any(m.name is None or m.price is None for m in line.modifiers)
        product = _product(line.product_id) if needs_lookup and line.product_id else None
        lines.append(_named_line(line, product) if product else line)
    return dataclasses.replace(order, lines=tuple(lines))


def _named_line(line: OrderLine, product: Product) -> OrderLine:
    modifiers = []
    for modifier in line.modifiers:
        known = product.modifiers.get(modifier.modificator_id)
        modifiers.append(
            OrderModifier(
                modificator_id=modifier.modificator_id,
                count=modifier.count,
                name=modifier.name or (known.name if known else None),
                price=modifier.price if modifier.price is not None else (known.price if known else None),
            )
        )
    return dataclasses.replace(
        line,
        name=line.name or product.name,
        unit_price=line.unit_price if line.unit_price is not None else product.price,
        modifiers=tuple(modifiers),
    )


# --- Operations -------------------------------------------------------------------------------


def clopos_status() -> dict:
    """What the status panel shows. Read from the shared cache only: no upstream call."""
    client = get_clopos_client()
    config = client.config
    token_expires_at = client.token_expires_at()
    pause_until = cache.get(keys.rate_pause_key(config.brand, config.integrator_id))
    now = time.time()
    snapshot = guard.health_snapshot(config.scope)

    def dated(event: Mapping[str, Any] | None) -> dict | None:
        return {**event, "at": _as_datetime(event["at"])} if event else None

    return {
        "token_expires_at": _as_datetime(token_expires_at) if token_expires_at else None,
        "token_valid": bool(token_expires_at and token_expires_at > now),
        "last_success": dated(snapshot["last_success"]),
        "last_failure": dated(snapshot["last_failure"]),
        "failures": snapshot["failures"],
        "budget_per_minute": config.rate_budget_per_minute,
        "budget_per_window": client.budget.per_window,
        "budget_window_seconds": guard.WINDOW,
        "budget_remaining": client.budget.remaining(),
        "clopos_ratelimit": snapshot["clopos_ratelimit"],
        "paused_for": int(pause_until - now) + 1 if pause_until and pause_until > now else 0,
        "circuit": client.breaker.state(),
    }


def readiness() -> dict[str, str]:
    """Cheap checks for /readyz; values are states, never hosts, keys or errors."""
    checks = {}
    try:
        with db.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready", whatever the driver raised
        checks["database"] = "failing"
    try:
        cache.set("readyz:probe", 1, timeout=10)
        checks["cache"] = "ok" if cache.get("readyz:probe") == 1 else "failing"
    except Exception:  # noqa: BLE001
        checks["cache"] = "failing"
    if checks["cache"] == "ok":
        client = get_clopos_client()
        expires_at = client.token_expires_at()
        checks["clopos_token"] = "valid" if expires_at and expires_at > time.time() else "none"
        checks["clopos_circuit"] = client.breaker.state()
    return checks
