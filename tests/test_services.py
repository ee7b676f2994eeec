"""Order services: the cache in front of Clopos (freshness, TTLs, stale-if-error, scope, names)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import responses
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from orders import cache as keys
from orders import services, singleflight
from orders.clopos import (
    CloposNotFoundError,
    CloposResponseError,
    CloposUnavailableError,
)
from tests.conftest import api_url, load_payload

# The cache is Django's DatabaseCache; the marker also makes the conftest's cache.clear() safe.
pytestmark = pytest.mark.django_db

ORDERS = {
    4101: "order_4101_pending_delivery_receipt_null.json",
    4102: "order_4102_received_takeaway_pct_discount_open_receipt.json",
    4103: "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
    4105: "order_4105_received_dinein_service_charge_open_receipt.json",
    4106: "order_4106_delivered_takeaway_external_ids_empty_product_quirk.json",
}


def paths(mock_api: responses.RequestsMock) -> list[str]:
    """The Clopos paths called so far, relative to /v2/."""
    return [urlparse(call.request.url).path.split("/v2/", 1)[1] for call in mock_api.calls]


def count(mock_api: responses.RequestsMock, path: str) -> int:
    return paths(mock_api).count(path)


def later(seconds: float) -> time_machine.travel:
    """Move every clock (time.time, the database cache's expiry) `seconds` ahead."""
    return time_machine.travel(time.time() + seconds, tick=False)


@pytest.fixture
def api(clopos_api):
    """Clopos with the catalogue (venues, sale types, product 1402) registered."""
    clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))
    clopos_api.get(api_url("sale-types"), json=load_payload("sale_types_list.json"))
    clopos_api.get(api_url("products/1402"), json=load_payload("product_1402_get_by_id_with_modificator_groups.json"))
    return clopos_api


def serve_order(mock_api: responses.RequestsMock, order_id: int, **kwargs) -> None:
    if not kwargs:
        kwargs = {"json": load_payload(ORDERS[order_id])}
    mock_api.get(api_url(f"orders/{order_id}"), **kwargs)


# --- order_get: cold, warm, names ---------------------------------------------------------------


def test_cold_order_get_fetches_order_and_catalogue_names(api):
    serve_order(api, 4106)

    detail = services.order_get(order_id=4106)

    # The product is looked up only for the line the order could not name (product == [] quirk).
    assert Counter(paths(api)) == Counter(["auth", "orders/4106", "venues", "sale-types", "products/1402"])
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


def test_warm_order_get_makes_no_http_call(api):
    serve_order(api, 4106)
    first = services.order_get(order_id=4106)
    calls_after_first = len(api.calls)

    second = services.order_get(order_id=4106)

    assert len(api.calls) == calls_after_first
    assert second.freshness.source == "cached"
    assert second.freshness.fetched_at == first.freshness.fetched_at
    assert second.order == first.order
    assert (second.venue_name, second.sale_type_name) == (first.venue_name, first.sale_type_name)


def test_named_lines_need_no_product_lookup(api):
    serve_order(api, 4103)

    detail = services.order_get(order_id=4103)

    assert Counter(paths(api)) == Counter(["auth", "orders/4103", "venues", "sale-types"])
    assert detail.sale_type_name == "Çatdırılma"
    assert [line.name for line in detail.order.lines] == ["Piti", "Göyərti qutabı", "Çay dəsti (mürəbbə ilə)"]


def test_modifier_names_and_prices_come_from_the_catalogue(api):
    serve_order(api, 4102)
    api.get(api_url("products/1520"), status=404, json=load_payload("error_404_order_not_found.json"))

    detail = services.order_get(order_id=4102)

    kebab, qutab, ayran = detail.order.lines
    assert [(m.modificator_id, m.name, m.price) for m in kebab.modifiers] == [
        (3201, "Sumaxlı soğan", Decimal("0.5")),
        (3202, "Əlavə lavaş", Decimal("0.8")),
    ]
    assert kebab.total == Decimal("20.6")
    assert qutab.modifiers[0].name is None  # product 1520 unknown: shown by id, the page still works
    assert qutab.total is None
    assert count(api, "products/1702") == 0  # a named line without modifiers is not looked up


def test_catalogue_failure_still_returns_the_order(api):
    api.replace(responses.GET, api_url("venues"), status=500, json=load_payload("error_500_internal.json"))
    serve_order(api, 4103)

    detail = services.order_get(order_id=4103)

    assert detail.order.id == 4103
    assert detail.venue_name is None
    assert detail.sale_type_name == "Çatdırılma"
    assert cache.get(keys.venues_key()) is None  # the failure is not cached...
    services.order_get(order_id=4103)
    assert count(api, "venues") == 2  # ...so the next page view asks again
    assert count(api, "sale-types") == 1


# --- TTLs -------------------------------------------------------------------------------------


def test_active_order_is_refetched_after_its_ttl(api, background_tasks):
    serve_order(api, 4105)
    services.order_get(order_id=4105)

    with later(settings.CLOPOS_TTL_ORDER_ACTIVE - 5):
        assert services.order_get(order_id=4105).freshness.source == "cached"
    assert count(api, "orders/4105") == 1
    assert background_tasks == []

    # Past the fresh age: served at once, refreshed behind the user's back.
    with later(settings.CLOPOS_TTL_ORDER_ACTIVE + 1):
        detail = services.order_get(order_id=4105)
        assert detail.freshness.source == "revalidating"
        assert count(api, "orders/4105") == 1
        assert background_tasks.run() == 1
    assert count(api, "orders/4105") == 2
    assert count(api, "venues") == 1  # the catalogue keeps its own, longer TTL

    # Past the stale age: the request waits for Clopos.
    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 60):
        assert services.order_get(order_id=4105).freshness.source == "live"
    assert count(api, "orders/4105") == 3


def test_final_order_is_kept_longer(api, background_tasks):
    assert settings.CLOPOS_TTL_ORDER_FINAL > settings.CLOPOS_STALE_ORDER_ACTIVE + 1
    serve_order(api, 4103)
    services.order_get(order_id=4103)

    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 1):
        assert services.order_get(order_id=4103).freshness.source == "cached"
    assert count(api, "orders/4103") == 1

    with later(settings.CLOPOS_TTL_ORDER_FINAL + 1):
        assert services.order_get(order_id=4103).freshness.source == "revalidating"
    with later(settings.CLOPOS_STALE_ORDER_FINAL + 1):
        assert services.order_get(order_id=4103).freshness.source == "live"
    assert count(api, "orders/4103") == 2


def test_only_one_background_revalidation_at_a_time(api, background_tasks):
    serve_order(api, 4105)
    services.order_get(order_id=4105)

    with later(settings.CLOPOS_TTL_ORDER_ACTIVE + 1):
        for _ in range(3):
            assert services.order_get(order_id=4105).freshness.source == "revalidating"
        assert len(background_tasks) == 1  # the lock keeps the others from queueing their own
        background_tasks.run()
        assert services.order_get(order_id=4105).freshness.source == "cached"
    assert count(api, "orders/4105") == 2


def test_failed_background_revalidation_keeps_the_good_copy(api, background_tasks):
    serve_order(api, 4105)
    serve_order(api, 4105, status=500, json=load_payload("error_500_internal.json"))
    services.order_get(order_id=4105)
    good = cache.get(keys.order_key(4105))

    with later(settings.CLOPOS_TTL_ORDER_ACTIVE + 1):
        services.order_get(order_id=4105)
        background_tasks.run()

    assert cache.get(keys.order_key(4105)) == good
    assert cache.get(keys.lock_key(keys.order_key(4105))) is None


# --- Failures ---------------------------------------------------------------------------------


def test_failures_are_never_cached(api):
    serve_order(api, 4103, status=500, json=load_payload("error_500_internal.json"))
    serve_order(api, 4103)

    with pytest.raises(CloposUnavailableError):
        services.order_get(order_id=4103)
    assert cache.get(keys.order_key(4103)) is None

    detail = services.order_get(order_id=4103)

    assert detail.order.id == 4103
    assert detail.freshness.source == "live"
    assert count(api, "orders/4103") == 2


def test_stale_copy_is_served_when_clopos_fails(api):
    serve_order(api, 4102)
    serve_order(api, 4102, status=503, json=load_payload("error_500_internal.json"))  # repeats from now on
    first = services.order_get(order_id=4102)
    cached = cache.get(keys.order_key(4102))

    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 1):
        detail = services.order_get(order_id=4102)

    assert detail.freshness.source == "stale"
    assert detail.freshness.is_stale
    assert isinstance(detail.freshness.error, CloposUnavailableError)
    assert detail.freshness.fetched_at == first.freshness.fetched_at
    assert detail.order == first.order
    assert detail.venue_name == "Köhnə Şəhər — Nərimanov"
    assert count(api, "orders/4102") == 3  # the good call, then a 503 retried once
    assert cache.get(keys.order_key(4102)) == cached  # the failure did not touch the good copy


def test_not_found_drops_the_cached_copy(api):
    serve_order(api, 4102)
    serve_order(api, 4102, status=404, json=load_payload("error_404_order_not_found.json"))
    services.order_get(order_id=4102)
    assert cache.get(keys.order_key(4102)) is not None

    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 1), pytest.raises(CloposNotFoundError):
        services.order_get(order_id=4102)

    assert cache.get(keys.order_key(4102)) is None


def test_unknown_order_is_not_found(api):
    serve_order(api, 999999, status=404, json=load_payload("error_404_order_not_found.json"))

    with pytest.raises(CloposNotFoundError):
        services.order_get(order_id=999999)


def test_unreadable_payload_is_an_error_and_not_cached(api):
    serve_order(api, 4107, json={"success": True, "data": {"no_id": 1}})

    with pytest.raises(CloposResponseError):
        services.order_get(order_id=4107)

    assert cache.get(keys.order_key(4107)) is None
    assert cache.get(keys.lock_key(keys.order_key(4107))) is None  # the single-flight lock is released


# --- Scope ------------------------------------------------------------------------------------


def test_order_outside_the_users_venues_is_not_found(api):
    serve_order(api, 4102)

    with pytest.raises(CloposNotFoundError):
        services.order_get(order_id=4102, venue_ids={1})
    with pytest.raises(CloposNotFoundError):
        services.order_receipt_get(order_id=4102, venue_ids={1})

    assert services.order_get(order_id=4102, venue_ids={1, 3}).order.id == 4102
    assert count(api, "orders/4102") == 1
    assert count(api, "receipts/20871") == 0


# --- order_receipt_get ------------------------------------------------------------------------


def test_no_receipt_yet_is_none(api):
    serve_order(api, 4101)

    assert services.order_receipt_get(order_id=4101) is None

    assert not [p for p in paths(api) if p.startswith("receipts/")]


def test_receipt_is_loaded_and_cached(api):
    serve_order(api, 4103)
    api.get(api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json"))

    detail = services.order_receipt_get(order_id=4103)

    assert detail.receipt.id == 20855
    assert detail.receipt.is_closed
    assert [p.amount for p in detail.receipt.payments] == [Decimal("20"), Decimal("18.2")]
    assert detail.receipt.closed_at == dt.datetime(2026, 3, 14, 11, 32, 15, tzinfo=dt.UTC)
    assert detail.freshness.source == "live"
    calls_after_first = len(api.calls)

    again = services.order_receipt_get(order_id=4103, venue_ids={3})

    assert len(api.calls) == calls_after_first
    assert again.freshness.source == "cached"
    assert again.receipt == detail.receipt


def test_open_receipt_is_refetched_sooner_than_a_closed_one(api):
    serve_order(api, 4102)
    api.get(api_url("receipts/20871"), json=load_payload("receipt_20871_open_for_order_4102.json"))
    serve_order(api, 4103)
    api.get(api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json"))
    services.order_receipt_get(order_id=4102)
    services.order_receipt_get(order_id=4103)

    with later(max(settings.CLOPOS_TTL_RECEIPT_OPEN, settings.CLOPOS_TTL_ORDER_FINAL) + 1):
        services.order_receipt_get(order_id=4102)
        services.order_receipt_get(order_id=4103)

    assert settings.CLOPOS_TTL_RECEIPT_CLOSED > settings.CLOPOS_TTL_ORDER_FINAL + 1
    assert count(api, "receipts/20871") == 2
    assert count(api, "receipts/20855") == 1


def test_order_refresh_bypasses_a_fresh_cache(api):
    serve_order(api, 4103)
    api.get(api_url("receipts/20855"), json=load_payload("receipt_20855_closed_split_payment_for_order_4103.json"))
    services.order_receipt_get(order_id=4103)

    detail = services.order_refresh(order_id=4103)

    assert detail.freshness.source == "live"
    assert count(api, "orders/4103") == 2
    assert count(api, "receipts/20855") == 2


# --- Single flight across workers -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the other "worker" writes from its own thread and connection
def test_waits_for_the_order_another_worker_is_fetching(api):
    key = keys.order_key(4103)
    assert singleflight.acquire(keys.lock_key(key), lock_seconds=30)
    serve_order(api, 4103)

    def other_worker_finishes():
        try:
            now = time.time()
            payload = load_payload(ORDERS[4103])["data"]
            cache.set(key, {"payload": payload, "fetched_at": now, "fresh_until": now + 600}, timeout=600)
        finally:
            connections.close_all()

    timer = threading.Timer(0.3, other_worker_finishes)
    timer.start()
    try:
        detail = services.order_get(order_id=4103)
    finally:
        timer.join()

    assert count(api, "orders/4103") == 0
    assert detail.order.id == 4103
    assert detail.freshness.source == "cached"


@pytest.mark.django_db(transaction=True)
def test_fetches_itself_when_the_other_worker_gives_up(api):
    key = keys.order_key(4103)
    lock = keys.lock_key(key)
    owner = singleflight.acquire(lock, lock_seconds=30)

    def other_worker_fails():
        try:
            singleflight.release(lock, owner)
        finally:
            connections.close_all()

    serve_order(api, 4103)
    timer = threading.Timer(0.3, other_worker_fails)
    timer.start()
    try:
        detail = services.order_get(order_id=4103)
    finally:
        timer.join()

    assert count(api, "orders/4103") == 1
    assert detail.freshness.source == "live"
