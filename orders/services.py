"""Order lookups: orders, their receipts and the catalogue names the pages show.

Views call these; each returns a typed result that says how fresh it is, or raises a
CloposError (CloposNotFoundError for an unknown id or one outside the user's venues). Caching,
single-flight and stale copies are the store's job (`clopos.store`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache

from clopos import catalogue, deadline, keys, store
from clopos.client import get_clopos_client
from clopos.errors import CloposError, CloposNotFoundError
from clopos.store import Freshness, Loaded, Source
from clopos.types import Order, OrderLine, OrderModifier, Product, Receipt, parse_payload

__all__ = [
    "Freshness",
    "OrderDetail",
    "ReceiptDetail",
    "ReceiptSlot",
    "order_get",
    "order_receipt_get",
    "order_receipt_slot_get",
    "order_refresh",
    "receipt_source",
    "visible_record",
]


@dataclass(frozen=True, slots=True)
class ReceiptDetail:
    receipt: Receipt
    freshness: Freshness


@dataclass(frozen=True, slots=True)
class OrderDetail:
    order: Order
    venue_name: str | None
    sale_type_name: str | None
    freshness: Freshness
    # Set by a refresh, which fetched the receipt together with the order (None: no receipt).
    receipt: ReceiptDetail | None = None
    receipt_loaded: bool = False


@dataclass(frozen=True, slots=True)
class ReceiptSlot:
    """What the order page's receipt slot shows: the order (for its status and lines) and its
    receipt, or None when it has none."""

    order: Order
    receipt: ReceiptDetail | None
    order_version: str = ""  # the order's cache entry (Freshness.version): what the slot shows of it


def zone() -> ZoneInfo:
    return ZoneInfo(settings.CLOPOS_TIME_ZONE)


# --- Sources: what each record is, where it lives in the cache, how old it may be ------------


def order_source(order_id: int) -> Source[Order]:
    return Source(
        key=keys.order_key(order_id),
        fetch=lambda: get_clopos_client().get_order(order_id),
        parse=lambda payload: parse_payload(Order.from_payload, payload, zone()),
        ages=lambda order: keys.order_ages(order.status),
    )


def receipt_source(receipt_id: int) -> Source[Receipt]:
    return Source(
        key=keys.receipt_key(receipt_id),
        fetch=lambda: get_clopos_client().get_receipt(receipt_id),
        parse=lambda payload: parse_payload(Receipt.from_payload, payload, zone()),
        ages=lambda receipt: keys.receipt_ages(receipt.is_closed),
    )


# --- Public services --------------------------------------------------------------------------


def _in_scope(venue_id: int | None, venue_ids: Collection[int] | None) -> bool:
    return venue_ids is None or venue_id in venue_ids


def visible_record[T](
    source: Source[T],
    *,
    record_id: int,
    kind: str,
    venue_of: Callable[[T], int | None],
    venue_ids: Collection[int] | None,
    refresh: bool = False,
    seen: Mapping[str, Any] | None = None,
) -> Loaded[T]:
    """The record (an order, a receipt, a customer) if the user may see it; otherwise
    CloposNotFoundError, the same way every time.

    An unknown id and a record of another venue must not be told apart, by status, body, time
    or budget. So neither is answered from the cache the first time a venue scope asks: an
    unknown id costs one upstream call, and so does a hidden record (a refetch, with no stale
    copy to fall back on, so an outage or a spent budget answers 503 for both). Then "not
    visible" is remembered for that record and scope for CLOPOS_TTL_NOT_FOUND seconds, and both
    answer from the cache; a refresh forgets it. `seen` holds raw cache values read ahead.
    """
    hidden_key = keys.not_visible_key(record_id, venue_ids, kind)
    if seen is None:
        with deadline.timed("cache"):
            seen = cache.get_many([source.key, hidden_key])
    if refresh:
        cache.delete(hidden_key)
    elif seen.get(hidden_key):
        raise CloposNotFoundError(f"{kind} unknown or outside the user's venues (remembered)")
    try:
        loaded = store.load(source, refresh=refresh, seen=seen.get(source.key))
        if not _in_scope(venue_of(loaded.value), venue_ids):
            if loaded.freshness.source != "live":
                store.load(source, refresh=True, allow_stale=False)
            raise CloposNotFoundError(f"{kind} outside the user's venues")
    except CloposNotFoundError:
        cache.set(hidden_key, True, timeout=keys.not_visible_seconds())
        raise
    return loaded


def _visible_order(
    order_id: int, venue_ids: Collection[int] | None, *, refresh: bool = False, seen: Mapping[str, Any] | None = None
) -> Loaded[Order]:
    """The order if the user may see it; otherwise CloposNotFoundError (see `visible_record`)."""
    return visible_record(
        order_source(order_id),
        record_id=order_id,
        kind="order",
        venue_of=lambda order: order.venue_id,
        venue_ids=venue_ids,
        refresh=refresh,
        seen=seen,
    )


def order_get(*, order_id: int, venue_ids: Collection[int] | None = None, refresh: bool = False) -> OrderDetail:
    """The order with names resolved, or CloposNotFoundError when it is unknown or outside
    `venue_ids` (None means every venue). Other CloposErrors when Clopos fails and no previous
    copy exists. `refresh` bypasses the cache for the order.
    """
    # One cache round trip for the order, whether it is hidden from this scope, and the
    # catalogue lists the page names it with.
    with deadline.timed("cache"):
        seen = cache.get_many(
            [
                keys.order_key(order_id),
                keys.not_visible_key(order_id, venue_ids),
                keys.venues_key(),
                keys.sale_types_key(),
            ]
        )
    loaded = _visible_order(order_id, venue_ids, refresh=refresh, seen=seen)
    order = loaded.value
    return OrderDetail(
        order=_with_catalogue_names(order),
        venue_name=catalogue.venue_names(seen).get(order.venue_id) if order.venue_id is not None else None,
        sale_type_name=catalogue.sale_type_name(order.sale_type_id, seen),
        freshness=loaded.freshness,
    )


def order_refresh(*, order_id: int, venue_ids: Collection[int] | None = None) -> OrderDetail:
    """Fetch the order and its receipt from Clopos now, whatever the cache holds. The receipt
    comes back with the order (`receipt_loaded`), so the page shows both as fetched now; when
    it fails, `receipt_loaded` stays False and the page's receipt slot loads it (and reports its
    failure) as usual: the order is what was asked for."""
    detail = order_get(order_id=order_id, venue_ids=venue_ids, refresh=True)
    if detail.order.receipt is None:
        return dataclasses.replace(detail, receipt_loaded=detail.order.receipt_known)
    try:
        receipt = _receipt_of(detail.order, venue_ids, refresh=True)
    except CloposError:
        return detail
    return dataclasses.replace(detail, receipt=receipt, receipt_loaded=True)


def _receipt_of(
    order: Order, venue_ids: Collection[int] | None, *, refresh: bool = False, seen: Any = store.MISSING
) -> ReceiptDetail | None:
    if order.receipt is None:
        return None
    loaded = store.load(receipt_source(order.receipt.id), refresh=refresh, seen=seen)
    receipt = loaded.value
    if receipt.venue_id is not None and not _in_scope(receipt.venue_id, venue_ids):
        raise CloposNotFoundError("receipt outside the user's venues")
    return ReceiptDetail(receipt=receipt, freshness=loaded.freshness)


def order_receipt_get(*, order_id: int, venue_ids: Collection[int] | None = None) -> ReceiptDetail | None:
    """The receipt linked to the order, or None when the order has none yet."""
    return order_receipt_slot_get(order_id=order_id, venue_ids=venue_ids).receipt


def order_receipt_slot_get(*, order_id: int, venue_ids: Collection[int] | None = None) -> ReceiptSlot:
    """The order (from the cache the page just filled) with its receipt, or None for the
    receipt when it has none yet. CloposNotFoundError when either is outside `venue_ids`."""
    # The receipt this worker last saw the order name is read with the order, in one round trip;
    # only the receipt the order names now is used (a hint gone stale costs the round trip).
    hinted = _receipt_hints.get(order_id)
    wanted = [keys.order_key(order_id), keys.not_visible_key(order_id, venue_ids)]
    with deadline.timed("cache"):
        seen = cache.get_many([*wanted, keys.receipt_key(hinted)] if hinted else wanted)
    loaded = _visible_order(order_id, venue_ids, seen=seen)
    order = loaded.value
    receipt_id = order.receipt.id if order.receipt else None
    _remember_receipt(order_id, receipt_id)
    receipt_seen = seen.get(keys.receipt_key(hinted)) if hinted and hinted == receipt_id else store.MISSING
    return ReceiptSlot(
        order=order, receipt=_receipt_of(order, venue_ids, seen=receipt_seen), order_version=loaded.freshness.version
    )


# order id → the id of the receipt it named when this worker last read it (see above). Bounded:
# one worker reads many orders in a day; cleared when full.
_receipt_hints: dict[int, int] = {}
_MAX_RECEIPT_HINTS = 4096


def _remember_receipt(order_id: int, receipt_id: int | None) -> None:
    if receipt_id is None:
        _receipt_hints.pop(order_id, None)
        return
    if len(_receipt_hints) >= _MAX_RECEIPT_HINTS:
        _receipt_hints.clear()
    _receipt_hints[order_id] = receipt_id


# --- Catalogue names (best effort: a failure shows ids, never fails the page) -----------------


def _with_catalogue_names(order: Order) -> Order:
    """Fill line and modifier names/prices the order lacks from the product catalogue. The
    products are read from the cache in one round trip (a read per line made every view of an
    order wait on one round trip per unnamed line), and each is asked of Clopos at most once."""
    wanted = list(dict.fromkeys(line.product_id for line in order.lines if line.product_id and _needs_lookup(line)))
    if not wanted:
        return order
    with deadline.timed("cache"):
        seen = cache.get_many([keys.product_key(product_id) for product_id in wanted])
    products = {product_id: catalogue.product(product_id, seen) for product_id in wanted}
    lines = []
    for line in order.lines:
        product = products.get(line.product_id) if line.product_id and _needs_lookup(line) else None
        lines.append(_named_line(line, product) if product else line)
    return dataclasses.replace(order, lines=tuple(lines))


def _needs_lookup(line: OrderLine) -> bool:
    """A line the order could not name, or whose modifiers it could not name or price."""
    return line.name is None or any(m.name is None or m.price is None for m in line.modifiers)


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
