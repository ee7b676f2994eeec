"""Order services: orders and receipts with catalogue names, freshness ages by state, venue
scope, refresh. Clopos mocked with `responses`; the cache underneath is clopos.store's."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.core.cache import cache, caches

from clopos import keys
from clopos.errors import (
    CloposNotFoundError,
)
from orders import services
from tests.conftest import ORDERS, api_url, calls, later, load_payload, paths, serve_order

# The cache is Django's DatabaseCache; the marker also makes the conftest's cache.clear() safe.
pytestmark = pytest.mark.django_db


# --- order_get: cold, names ---------------------------------------------------------------------


def test_cold_order_get_fetches_order_and_catalogue_names(catalogue_api):
    serve_order(catalogue_api, 4106)

    detail = services.order_get(order_id=4106)

    # The product is looked up only for the line the order could not name (product == [] quirk).
    assert Counter(paths(catalogue_api)) == Counter(["auth", "orders/4106", "venues", "sale-types", "products/1402"])
    assert detail.order.id == 4106
    assert detail.venue_name == "Köhnə Şəhər — Nərimanov"
    assert detail.sale_type_name == "Özü aparır"
    named, ayran = detail.order.lines
    assert named.name == "Lülə kabab (quzu)"
    assert (named.modifiers[0].name, named.modifiers[0].price) == ("Acı bibər", Decimal("0"))
    assert ayran.name == "Ayran 0.3 L"
    assert detail.order.lines_total == Decimal("11")
    assert detail.freshness.source == "live"
    assert detail.freshness.error is None
    assert detail.freshness.is_stale is False
    assert detail.freshness.fetched_at.tzinfo is not None
    assert abs(detail.freshness.fetched_at - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_named_lines_need_no_product_lookup(catalogue_api):
    serve_order(catalogue_api, 4103)

    detail = services.order_get(order_id=4103)

    assert Counter(paths(catalogue_api)) == Counter(["auth", "orders/4103", "venues", "sale-types"])
    assert detail.sale_type_name == "Çatdırılma"
    assert [line.name for line in detail.order.lines] == ["Piti", "Göyərti qutabı", "Çay dəsti (mürəbbə ilə)"]


def test_modifier_names_and_prices_come_from_the_catalogue(catalogue_api):
    serve_order(catalogue_api, 4102)
    catalogue_api.get(api_url("products/1520"), status=404, json=load_payload("error_404_order_not_found.json"))

    detail = services.order_get(order_id=4102)

    kebab, qutab, ayran = detail.order.lines
    assert [(m.modificator_id, m.name, m.price) for m in kebab.modifiers] == [
        (3201, "Sumaxlı soğan", Decimal("0.5")),
        (3202, "Əlavə lavaş", Decimal("0.8")),
    ]
    assert kebab.total == Decimal("20.6")
    assert qutab.modifiers[0].name is None  # product 1520 unknown: shown by id, the page still works
    assert qutab.total is None
    assert calls(catalogue_api, "products/1702") == 0  # a named line without modifiers is not looked up


def _product_1520() -> dict:
    """Product 1520 (the qutab of order 4102) with its modifier 3301, built from 1402's payload."""
    payload = load_payload("product_1402_get_by_id_with_modificator_groups.json")
    payload["data"] |= {"id": 1520, "name": "Ət qutabı", "full_name": "Ət qutabı", "price": 2.2}
    payload["data"]["modificator_groups"][0]["modificators"] = [{"id": 3301, "name": "Qatıq", "price": 0.3}]
    return payload


def _cache_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Every cache read from here on, as (method, key or keys): each is one round trip."""
    reads: list[tuple[str, object]] = []
    backend = caches["default"]

    def spying(name: str):
        original = getattr(backend, name)

        def spy(key, *args, **kwargs):
            reads.append((name, key))
            return original(key, *args, **kwargs)

        return spy

    for name in ("get", "get_many"):
        monkeypatch.setattr(backend, name, spying(name))
    return reads


def test_a_cached_order_reads_the_products_for_its_unnamed_lines_in_one_round_trip(catalogue_api, monkeypatch):
    serve_order(catalogue_api, 4102)
    catalogue_api.get(api_url("products/1520"), json=_product_1520())
    services.order_get(order_id=4102)  # the order and both products are cached now
    reads = _cache_reads(monkeypatch)

    detail = services.order_get(order_id=4102)

    # One read for the order and the lists, one for every product its lines need: not one per line.
    assert [method for method, _ in reads] == ["get_many", "get_many"]
    assert list(reads[1][1]) == [keys.product_key(1402), keys.product_key(1520)]
    kebab, qutab, _ = detail.order.lines
    assert [m.name for m in kebab.modifiers] == ["Sumaxlı soğan", "Əlavə lavaş"]
    assert (qutab.modifiers[0].name, qutab.modifiers[0].price) == ("Qatıq", Decimal("0.3"))
    assert calls(catalogue_api, "products/1402") == calls(catalogue_api, "products/1520") == 1


def test_a_product_on_several_unnamed_lines_is_asked_of_clopos_once(catalogue_api):
    payload = load_payload(ORDERS[4102])
    kebab = payload["data"]["payload"]["products"][0]
    payload["data"]["payload"]["products"] = [kebab, kebab | {"count": 1}]
    serve_order(catalogue_api, 4102, json=payload)

    detail = services.order_get(order_id=4102)

    assert calls(catalogue_api, "products/1402") == 1
    assert [[m.name for m in line.modifiers] for line in detail.order.lines] == [["Sumaxlı soğan", "Əlavə lavaş"]] * 2


def test_catalogue_failure_still_returns_the_order(catalogue_api):
    catalogue_api.replace(responses.GET, api_url("venues"), status=500, json=load_payload("error_500_internal.json"))
    serve_order(catalogue_api, 4103)

    detail = services.order_get(order_id=4103)

    assert detail.order.id == 4103
    assert detail.venue_name is None
    assert detail.sale_type_name == "Çatdırılma"
    assert cache.get(keys.venues_key()) is None  # the failure is not cached...
    services.order_get(order_id=4103)
    assert calls(catalogue_api, "venues") == 2  # ...so the next page view asks again
    assert calls(catalogue_api, "sale-types") == 1


def test_unknown_order_is_not_found(catalogue_api):
    serve_order(catalogue_api, 999999, status=404, json=load_payload("error_404_order_not_found.json"))

    with pytest.raises(CloposNotFoundError):
        services.order_get(order_id=999999)


# --- Ages by state ----------------------------------------------------------------------------


def test_final_order_is_kept_longer(catalogue_api, background_tasks):
    assert settings.CLOPOS_TTL_ORDER_FINAL > settings.CLOPOS_STALE_ORDER_ACTIVE + 1
    serve_order(catalogue_api, 4103)
    services.order_get(order_id=4103)

    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 1):
        assert services.order_get(order_id=4103).freshness.source == "cached"
    assert calls(catalogue_api, "orders/4103") == 1

    with later(settings.CLOPOS_TTL_ORDER_FINAL + 1):
        assert services.order_get(order_id=4103).freshness.source == "revalidating"
    # That refresh never runs here; drop its lock as time would (Redis does not follow time_machine).
    background_tasks.clear()
    cache.delete(keys.lock_key(keys.order_key(4103)))
    with later(settings.CLOPOS_STALE_ORDER_FINAL + 1):
        assert services.order_get(order_id=4103).freshness.source == "live"
    assert calls(catalogue_api, "orders/4103") == 2


# --- Scope ------------------------------------------------------------------------------------


def test_order_outside_the_users_venues_is_not_found(catalogue_api):
    serve_order(catalogue_api, 4102)

    with pytest.raises(CloposNotFoundError):
        services.order_get(order_id=4102, venue_ids={1})
    with pytest.raises(CloposNotFoundError):
        services.order_receipt_get(order_id=4102, venue_ids={1})

    assert services.order_get(order_id=4102, venue_ids={1, 3}).order.id == 4102
    assert calls(catalogue_api, "orders/4102") == 1
    assert calls(catalogue_api, "receipts/20871") == 0


# --- order_receipt_get ------------------------------------------------------------------------


def test_no_receipt_yet_is_none(catalogue_api):
    serve_order(catalogue_api, 4101)

    assert services.order_receipt_get(order_id=4101) is None

    assert not [p for p in paths(catalogue_api) if p.startswith("receipts/")]


def test_receipt_is_loaded_and_cached(catalogue_api):
    serve_order(catalogue_api, 4103)
    catalogue_api.get(
        api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json")
    )

    detail = services.order_receipt_get(order_id=4103)

    assert detail.receipt.id == 20855
    assert detail.receipt.is_closed
    assert [p.amount for p in detail.receipt.payments] == [Decimal("20"), Decimal("18.2")]
    assert detail.receipt.closed_at == dt.datetime(2026, 3, 14, 11, 32, 15, tzinfo=dt.UTC)
    assert detail.freshness.source == "live"
    calls_after_first = len(catalogue_api.calls)

    again = services.order_receipt_get(order_id=4103, venue_ids={3})

    assert len(catalogue_api.calls) == calls_after_first
    assert again.freshness.source == "cached"
    assert again.receipt == detail.receipt


def test_open_receipt_is_refetched_sooner_than_a_closed_one(catalogue_api):
    serve_order(catalogue_api, 4102)
    catalogue_api.get(api_url("receipts/20871"), json=load_payload("receipt_20871_open_for_order_4102.json"))
    serve_order(catalogue_api, 4103)
    catalogue_api.get(
        api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json")
    )
    services.order_receipt_get(order_id=4102)
    services.order_receipt_get(order_id=4103)

    with later(max(settings.CLOPOS_TTL_RECEIPT_OPEN, settings.CLOPOS_TTL_ORDER_FINAL) + 1):
        services.order_receipt_get(order_id=4102)
        services.order_receipt_get(order_id=4103)

    assert settings.CLOPOS_TTL_RECEIPT_CLOSED > settings.CLOPOS_TTL_ORDER_FINAL + 1
    assert calls(catalogue_api, "receipts/20871") == 2
    assert calls(catalogue_api, "receipts/20855") == 1


def test_order_refresh_bypasses_a_fresh_cache(catalogue_api):
    serve_order(catalogue_api, 4103)
    catalogue_api.get(
        api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json")
    )
    services.order_receipt_get(order_id=4103)

    detail = services.order_refresh(order_id=4103)

    assert detail.freshness.source == "live"
    assert calls(catalogue_api, "orders/4103") == 2
    assert calls(catalogue_api, "receipts/20855") == 2


def test_a_cached_order_is_read_with_the_receipt_it_named_in_one_round_trip(api, monkeypatch):
    services.order_receipt_get(order_id=4103)  # both cached; this worker knows the order's receipt
    reads = _cache_reads(monkeypatch)

    slot = services.order_receipt_slot_get(order_id=4103, venue_ids={3})

    assert slot.receipt is not None and slot.receipt.receipt.id == 20855
    assert slot.receipt.freshness.source == "cached"
    assert [method for method, _ in reads] == ["get_many"]
    assert keys.receipt_key(20855) in reads[0][1]


def test_a_stale_receipt_hint_still_gives_the_receipt_the_order_names(api, monkeypatch):
    services.order_receipt_get(order_id=4103)
    services.order_receipt_get(order_id=4106)  # its receipt, 20850, is cached too
    monkeypatch.setitem(services._receipt_hints, 4103, 20850)  # as if 4103 had named 20850 before

    slot = services.order_receipt_slot_get(order_id=4103)

    assert slot.receipt is not None and slot.receipt.receipt.id == 20855
    assert services._receipt_hints[4103] == 20855


def test_an_order_without_a_receipt_leaves_no_hint(api, monkeypatch):
    monkeypatch.setitem(services._receipt_hints, 4101, 20850)

    assert services.order_receipt_slot_get(order_id=4101).receipt is None
    assert 4101 not in services._receipt_hints
