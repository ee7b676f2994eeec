"""Clopos' reference data: venues, sale types and products, each cached for an hour.

Best effort by design: pages name things with it, and show ids when Clopos cannot say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import deadline, keys, store
from .client import get_clopos_client
from .errors import CloposError
from .store import Source
from .types import PaymentMethod, Product, SaleType, Venue, parse_list, parse_payload


def venues_source() -> Source[tuple[Venue, ...]]:
    return Source(
        key=keys.venues_key(),
        fetch=lambda: get_clopos_client().get_venues(),
        parse=lambda payload: parse_payload(parse_list, Venue.from_payload, payload),
        ages=lambda _: keys.catalogue_ages(),
    )


def sale_types_source() -> Source[tuple[SaleType, ...]]:
    return Source(
        key=keys.sale_types_key(),
        fetch=lambda: get_clopos_client().get_sale_types(),
        parse=lambda payload: parse_payload(parse_list, SaleType.from_payload, payload),
        ages=lambda _: keys.catalogue_ages(),
    )


def payment_methods_source() -> Source[tuple[PaymentMethod, ...]]:
    """`GET /v2/payment-methods` (the SDK's path; inside a receipt only {id, name, amount} appear)."""
    return Source(
        key=keys.payment_methods_key(),
        fetch=lambda: get_clopos_client().get_payment_methods(),
        parse=lambda payload: parse_payload(parse_list, PaymentMethod.from_payload, payload),
        ages=lambda _: keys.catalogue_ages(),
    )


def product_source(product_id: int) -> Source[Product]:
    return Source(
        key=keys.product_key(product_id),
        fetch=lambda: get_clopos_client().get_product(product_id),
        parse=lambda payload: parse_payload(Product.from_payload, payload),
        ages=lambda _: keys.catalogue_ages(),
    )


def catalogue_load[T](source: Source[T], seen: Mapping[str, Any] | None = None) -> T | None:
    """The record through the cache, or None when Clopos cannot say. `seen` holds raw cache
    values the caller read ahead, keyed by cache key."""
    try:
        with deadline.low_priority():
            return store.load(source, seen=seen.get(source.key) if seen is not None else store.MISSING).value
    except CloposError:
        return None


def venue_names(seen: Mapping[str, Any] | None = None) -> dict[int, str]:
    """Venue id → name; empty when Clopos cannot say."""
    return {v.id: v.name for v in catalogue_load(venues_source(), seen) or ()}


def cached_venue_names() -> dict[int, str]:
    """Venue id → name from whatever the cache holds; never calls Clopos (for admin forms)."""
    return {v.id: v.name for v in store.peek(venues_source()) or ()}


def cached_sale_types() -> tuple[SaleType, ...]:
    """The sale types the cache holds, whatever their age; never calls Clopos (for forms)."""
    return store.peek(sale_types_source()) or ()


def sale_type_name(sale_type_id: int | None, seen: Mapping[str, Any] | None = None) -> str | None:
    if sale_type_id is None:
        return None
    sale_types = catalogue_load(sale_types_source(), seen)
    return next((s.name for s in sale_types or () if s.id == sale_type_id), None)


def product(product_id: int, seen: Mapping[str, Any] | None = None) -> Product | None:
    return catalogue_load(product_source(product_id), seen)


def cached_payment_methods() -> tuple[PaymentMethod, ...]:
    """The payment methods the cache holds, whatever their age; never calls Clopos (for forms)."""
    return store.peek(payment_methods_source()) or ()
