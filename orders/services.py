"""Order lookups: the only code that combines the Clopos client with the cache.

Views call `order_get` and `order_receipt_get`; both return typed results that say how fresh
they are. Cached entries hold the raw payload and the time it was fetched; a payload is parsed
before it is cached, so one that breaks the parser is an error and never stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache

from orders import cache as keys
from orders import singleflight
from orders.clopos import (
    CloposError,
    CloposNotFoundError,
    CloposUnavailableError,
    get_clopos_client,
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

# Entries outlive their freshness so a previous good copy can be shown when Clopos fails.
STALE_KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Freshness:
    fetched_at: dt.datetime
    # "live": fetched from Clopos for this request; "cached": served from the cache while fresh;
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
    loaded = _load_order(order_id, refresh=refresh)
    order = loaded.value
    if venue_ids is not None and order.venue_id not in venue_ids:
        # Out of scope answers exactly like an unknown id, so ids cannot be probed.
        raise CloposNotFoundError("order outside the user's venues")
    return OrderDetail(
        order=_with_catalogue_names(order),
        venue_name=_venue_name(order.venue_id),
        sale_type_name=_sale_type_name(order.sale_type_id),
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


def _load_order(order_id: int, *, refresh: bool = False) -> Loaded[Order]:
    return _load(
        keys.order_key(order_id),
        fetch=lambda: get_clopos_client().get_order(order_id),
        parse=lambda payload: parse_payload(Order.from_payload, payload, zone()),
        ttl=lambda order: keys.order_ttl(order.status),
        refresh=refresh,
    )


def _load_receipt(receipt_id: int, *, refresh: bool = False) -> Loaded[Receipt]:
    return _load(
        keys.receipt_key(receipt_id),
        fetch=lambda: get_clopos_client().get_receipt(receipt_id),
        parse=lambda payload: parse_payload(Receipt.from_payload, payload, zone()),
        ttl=lambda receipt: keys.receipt_ttl(receipt.is_closed),
        refresh=refresh,
    )


def _load[T](
    key: str,
    *,
    fetch: Callable[[], Any],
    parse: Callable[[Any], T],
    ttl: Callable[[T], int],
    refresh: bool = False,
) -> Loaded[T]:
    """Serve a fresh cached entry, or fetch once (single-flight across workers) and cache it.

    When Clopos fails and an older good copy exists, that copy is served as "stale" with the
    error attached; the failure itself is never cached.
    """
    entry = cache.get(key)
    if entry and not refresh and entry["fresh_until"] > time.time():
        return _loaded(entry, parse, "cached")
    try:
        return _fetch_once(key, entry, fetch=fetch, parse=parse, ttl=ttl)
    except CloposNotFoundError:
        cache.delete(key)  # it was deleted upstream: do not keep showing it
        raise
    except CloposError as exc:
        if entry:
            return _loaded(entry, parse, "stale", error=exc)
        raise


def _fetch_once[T](
    key: str,
    seen: Mapping[str, Any] | None,
    *,
    fetch: Callable[[], Any],
    parse: Callable[[Any], T],
    ttl: Callable[[T], int],
) -> Loaded[T]:
    lock_key = keys.lock_key(key)
    seen_at = seen["fetched_at"] if seen else 0.0
    config = get_clopos_client().config
    # The longest a leader can take: token + call, each up to every attempt's timeouts.
    wait_seconds = 2 * (config.max_retries + 1) * config.attempt_seconds + 1
    deadline = time.monotonic() + wait_seconds
    while True:
        owner = singleflight.acquire(lock_key, lock_seconds=wait_seconds)
        if owner:
            try:
                newer = cache.get(key)
                if newer and newer["fetched_at"] > seen_at:
                    return _loaded(newer, parse, "cached")  # another worker finished meanwhile
                payload = fetch()
                value = parse(payload)  # raises before anything unreadable is cached
                fetched_at = time.time()
                cache.set(
                    key,
                    {"payload": payload, "fetched_at": fetched_at, "fresh_until": fetched_at + ttl(value)},
                    timeout=ttl(value) + STALE_KEEP_SECONDS,
                )
                return Loaded(value, Freshness(fetched_at=_as_datetime(fetched_at), source="live"))
            finally:
                singleflight.release(lock_key, owner)

        def result_or_released() -> Mapping[str, Any] | bool | None:
            newer = cache.get(key)
            if newer and newer["fetched_at"] > seen_at:
                return newer
            return True if cache.get(lock_key) is None else None

        outcome = singleflight.wait_for(result_or_released, seconds=max(0.0, deadline - time.monotonic()))
        if isinstance(outcome, Mapping):
            return _loaded(outcome, parse, "cached")
        if outcome is None:
            raise CloposUnavailableError("Timed out waiting for another worker's Clopos call")
        # The leader released the lock without a result (it failed): try ourselves.


def _loaded[T](entry: Mapping[str, Any], parse: Callable[[Any], T], source: str, error: CloposError | None = None):
    return Loaded(
        parse(entry["payload"]),
        Freshness(fetched_at=_as_datetime(entry["fetched_at"]), source=source, error=error),
    )


def _as_datetime(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


# --- Catalogue names (best effort: a failure shows ids, never fails the page) -----------------


def _catalogue[T](key: str, fetch: Callable[[], Any], parse: Callable[[Any], T]) -> T | None:
    try:
        return _load(key, fetch=fetch, parse=parse, ttl=lambda _: keys.catalogue_ttl()).value
    except CloposError:
        return None


def _venue_name(venue_id: int | None) -> str | None:
    return None if venue_id is None else venue_names().get(venue_id)


def venue_names() -> dict[int, str]:
    """Venue id → name from the cached catalogue; empty when Clopos cannot say."""
    venues = _catalogue(
        keys.venues_key(),
        lambda: get_clopos_client().get_venues(),
        lambda payload: parse_payload(parse_list, Venue.from_payload, payload),
    )
    return {v.id: v.name for v in venues or ()}


def _sale_type_name(sale_type_id: int | None) -> str | None:
    if sale_type_id is None:
        return None
    sale_types = _catalogue(
        keys.sale_types_key(),
        lambda: get_clopos_client().get_sale_types(),
        lambda payload: parse_payload(parse_list, SaleType.from_payload, payload),
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
