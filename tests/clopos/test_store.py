"""clopos.store: cached entries, fresh / stale-while-revalidate / stale-if-error, single-flight across
workers, and the one reader of cache entries."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from types import MappingProxyType

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from clopos import keys, singleflight, store
from clopos.errors import (
    CloposNotFoundError,
    CloposResponseError,
    CloposUnavailableError,
)
from clopos.store import Entry, Source
from orders import services
from tests.conftest import ORDERS, calls, later, load_payload, serve_order

# The cache is Django's DatabaseCache; the marker also makes the conftest's cache.clear() safe.
pytestmark = pytest.mark.django_db


# --- Through the order source: fresh, revalidating, live -----------------------------------


def test_warm_order_get_makes_no_http_call(catalogue_api):
    serve_order(catalogue_api, 4106)
    first = services.order_get(order_id=4106)
    calls_after_first = len(catalogue_api.calls)

    second = services.order_get(order_id=4106)

    assert len(catalogue_api.calls) == calls_after_first
    assert second.freshness.source == "cached"
    assert second.freshness.fetched_at == first.freshness.fetched_at
    assert second.order == first.order
    assert (second.venue_name, second.sale_type_name) == (first.venue_name, first.sale_type_name)


def test_active_order_is_refetched_after_its_ttl(catalogue_api, background_tasks):
    serve_order(catalogue_api, 4105)
    services.order_get(order_id=4105)

    with later(settings.CLOPOS_TTL_ORDER_ACTIVE - 5):
        assert services.order_get(order_id=4105).freshness.source == "cached"
    assert calls(catalogue_api, "orders/4105") == 1
    assert background_tasks == []

    # Past the fresh age: served at once, refreshed behind the user's back.
    with later(settings.CLOPOS_TTL_ORDER_ACTIVE + 1):
        detail = services.order_get(order_id=4105)
        assert detail.freshness.source == "revalidating"
        assert calls(catalogue_api, "orders/4105") == 1
        assert background_tasks.run() == 1
    assert calls(catalogue_api, "orders/4105") == 2
    assert calls(catalogue_api, "venues") == 1  # the catalogue keeps its own, longer TTL

    # Past the stale age: the request waits for Clopos.
    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 60):
        assert services.order_get(order_id=4105).freshness.source == "live"
    assert calls(catalogue_api, "orders/4105") == 3


def test_only_one_background_revalidation_at_a_time(catalogue_api, background_tasks):
    serve_order(catalogue_api, 4105)
    services.order_get(order_id=4105)

    with later(settings.CLOPOS_TTL_ORDER_ACTIVE + 1):
        for _ in range(3):
            assert services.order_get(order_id=4105).freshness.source == "revalidating"
        assert len(background_tasks) == 1  # the lock keeps the others from queueing their own
        background_tasks.run()
        assert services.order_get(order_id=4105).freshness.source == "cached"
    assert calls(catalogue_api, "orders/4105") == 2


def test_failed_background_revalidation_keeps_the_good_copy(catalogue_api, background_tasks):
    serve_order(catalogue_api, 4105)
    serve_order(catalogue_api, 4105, status=500, json=load_payload("error_500_internal.json"))
    services.order_get(order_id=4105)
    good = cache.get(keys.order_key(4105))

    with later(settings.CLOPOS_TTL_ORDER_ACTIVE + 1):
        services.order_get(order_id=4105)
        background_tasks.run()

    assert cache.get(keys.order_key(4105)) == good
    assert cache.get(keys.lock_key(keys.order_key(4105))) is None


# --- Failures ---------------------------------------------------------------------------------


def test_failures_are_never_cached(catalogue_api):
    serve_order(catalogue_api, 4103, status=500, json=load_payload("error_500_internal.json"))
    serve_order(catalogue_api, 4103)

    with pytest.raises(CloposUnavailableError):
        services.order_get(order_id=4103)
    assert cache.get(keys.order_key(4103)) is None

    detail = services.order_get(order_id=4103)

    assert detail.order.id == 4103
    assert detail.freshness.source == "live"
    assert calls(catalogue_api, "orders/4103") == 2


def test_stale_copy_is_served_when_clopos_fails(catalogue_api):
    serve_order(catalogue_api, 4102)
    serve_order(catalogue_api, 4102, status=503, json=load_payload("error_500_internal.json"))  # repeats from now on
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
    assert calls(catalogue_api, "orders/4102") == 3  # the good call, then a 503 retried once
    assert cache.get(keys.order_key(4102)) == cached  # the failure did not touch the good copy


def test_not_found_drops_the_cached_copy(catalogue_api):
    serve_order(catalogue_api, 4102)
    serve_order(catalogue_api, 4102, status=404, json=load_payload("error_404_order_not_found.json"))
    services.order_get(order_id=4102)
    assert cache.get(keys.order_key(4102)) is not None

    with later(settings.CLOPOS_STALE_ORDER_ACTIVE + 1), pytest.raises(CloposNotFoundError):
        services.order_get(order_id=4102)

    assert cache.get(keys.order_key(4102)) is None


def test_unreadable_payload_is_an_error_and_not_cached(catalogue_api):
    serve_order(catalogue_api, 4107, json={"success": True, "data": {"no_id": 1}})

    with pytest.raises(CloposResponseError):
        services.order_get(order_id=4107)

    assert cache.get(keys.order_key(4107)) is None
    assert cache.get(keys.lock_key(keys.order_key(4107))) is None  # the single-flight lock is released


# --- Single flight across workers -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the other "worker" writes from its own thread and connection
def test_waits_for_the_order_another_worker_is_fetching(catalogue_api):
    key = keys.order_key(4103)
    assert singleflight.acquire(keys.lock_key(key), lock_seconds=30)
    serve_order(catalogue_api, 4103)

    def other_worker_finishes():
        try:
            now = time.time()
            payload = load_payload(ORDERS[4103])["data"]
            cache.set(
                key,
                {"payload": payload, "fetched_at": now, "fresh_until": now + 600, "stale_until": now + 900},
                timeout=900,
            )
        finally:
            connections.close_all()

    timer = threading.Timer(0.3, other_worker_finishes)
    timer.start()
    try:
        detail = services.order_get(order_id=4103)
    finally:
        timer.join()

    assert calls(catalogue_api, "orders/4103") == 0
    assert detail.order.id == 4103
    assert detail.freshness.source == "cached"


def _about_to_fill_4103_cold(catalogue_api) -> None:
    """Clopos serves orders 4101 and 4103; 4101 is opened, so the token and the catalogue are
    cached and a view of 4103 is a cold fill that calls for the order alone."""
    serve_order(catalogue_api, 4101)
    serve_order(catalogue_api, 4103)
    services.order_get(order_id=4101)


@pytest.mark.django_db(transaction=True)
def test_a_cold_fill_reads_its_calls_state_with_its_lock(catalogue_api, monkeypatch):
    from django.core.cache import caches

    from clopos.client import get_clopos_client

    _about_to_fill_4103_cold(catalogue_api)
    backend_class = type(caches["default"])
    reads, original = [], backend_class.get_many
    monkeypatch.setattr(
        backend_class,
        "get_many",
        lambda self, keys, *a, **kw: reads.append(list(keys)) or original(self, keys, *a, **kw),
    )
    calls_before = len(catalogue_api.calls)

    assert services.order_get(order_id=4103).freshness.source == "live"

    assert len(catalogue_api.calls) == calls_before + 1  # the order, and nothing else
    assert get_clopos_client().state_keys() not in reads  # no read of its own: it came with the lock


@pytest.mark.django_db(transaction=True)
def test_a_cold_fill_writes_its_calls_health_record_with_its_release(catalogue_api, monkeypatch):
    from django.core.cache import caches

    from clopos import guard
    from clopos.client import get_clopos_client

    _about_to_fill_4103_cold(catalogue_api)
    backend_class = type(caches["default"])
    writes, releases, inside = [], [], [0]
    original_write, original_release = backend_class.write_many, backend_class.set_and_delete_if_equal

    def write_many(self, incr, values):
        if not inside[0]:  # not the release's own
            writes.append(list(values))
        return original_write(self, incr, values)

    def release(self, entry, key, value, **held):
        releases.append((entry[0] if entry else None, sorted(held.get("values") or {})))
        return original_release(self, entry, key, value, **held)

    monkeypatch.setattr(backend_class, "write_many", write_many)
    monkeypatch.setattr(backend_class, "set_and_delete_if_equal", _counting_as_one(release, inside))

    assert services.order_get(order_id=4103).freshness.source == "live"

    scope = get_clopos_client().config.scope
    assert writes == []  # the call's health record made no round trip of its own...
    assert releases == [(keys.order_key(4103), [keys.health_key(scope, "last-success")])]  # ...it rode here
    assert guard.health_snapshot(scope)["last_success"]["endpoint"] == "order"


# --- A cold fill's admission: counted with its lock, judged by the call, given back unused ------

BUDGET_START = 1_800_000_000.5  # half a second into a budget window: nothing crosses a boundary


@pytest.fixture
def cold_fill(catalogue_api, monkeypatch):
    """A request by user 7 about to fill order 4103 cold (the token and the catalogue cached),
    with every counter round trip of its own recorded (not those inside the batched calls)."""
    import time_machine
    from django.core.cache import caches

    from clopos import deadline
    from clopos.client import get_clopos_client

    with time_machine.travel(BUDGET_START, tick=False):
        _about_to_fill_4103_cold(catalogue_api)
        token = deadline.begin(budget_seconds=None)
        deadline.current().actor = "user:7"
        backend_class = type(caches["default"])
        counted, inside = [], [0]
        for name in ("add_and_get_many", "set_and_delete_if_equal"):
            monkeypatch.setattr(backend_class, name, _counting_as_one(getattr(backend_class, name), inside))
        original_incr = backend_class.incr_many

        def incr_many(self, items):
            if not inside[0]:
                counted.append(dict(items))
            return original_incr(self, items)

        monkeypatch.setattr(backend_class, "incr_many", incr_many)
        try:
            yield get_clopos_client(), counted
        finally:
            deadline.end(token)


def _counting_as_one(method, inside):
    def batched(self, *args, **kwargs):
        inside[0] += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            inside[0] -= 1

    return batched


def _actor_counts(client) -> dict[str, int]:
    counters = [key for key, _, _ in client.actor_budget.counters("user:7", time.time())]
    return cache.get_many(counters)


def test_a_cold_fill_counts_its_admission_with_its_lock(cold_fill, catalogue_api):
    client, counted = cold_fill
    remaining = client.budget.remaining()

    assert services.order_get(order_id=4103).freshness.source == "live"

    assert counted == []  # no round trip of its own for the budget
    assert client.budget.remaining() == remaining - 1  # three reserved, the two unused retries given back
    assert set(_actor_counts(client).values()) == {1}  # the user charged once, in the window and the minute
    assert calls(catalogue_api, "orders/4103") == 1
    assert cache.get(keys.lock_key(keys.order_key(4103))) is None


def test_a_cold_fill_over_the_budget_is_refused_and_counts_nothing(cold_fill, catalogue_api):
    from clopos.deadline import Priority
    from clopos.errors import CloposRateLimitedError

    client, _ = cold_fill
    reserved = client.config.timeouts.retries + 1
    used = client.budget.per_window - client.budget.remaining()
    client.budget.acquire(client.budget.limit(Priority.NORMAL) - used - reserved + 1)  # room for fewer than it reserves
    remaining = client.budget.remaining()

    with pytest.raises(CloposRateLimitedError):
        services.order_get(order_id=4103)

    assert client.budget.remaining() == remaining  # its counts were taken back
    assert set(_actor_counts(client).values()) <= {0}  # the user is not charged for a call not made
    assert calls(catalogue_api, "orders/4103") == 0
    assert cache.get(keys.lock_key(keys.order_key(4103))) is None


def test_a_cold_fill_that_makes_no_call_gives_its_counts_back(cold_fill, catalogue_api):
    from clopos.errors import CloposRateLimitedError

    client, _ = cold_fill
    cache.set(keys.rate_pause_key(client.config.brand, client.config.integrator_id), time.time() + 30, timeout=31)
    remaining = client.budget.remaining()

    with pytest.raises(CloposRateLimitedError, match="Paused"):
        services.order_get(order_id=4103)

    assert client.budget.remaining() == remaining
    assert set(_actor_counts(client).values()) <= {0}  # counted with the lock, then given back
    assert calls(catalogue_api, "orders/4103") == 0
    assert cache.get(keys.lock_key(keys.order_key(4103))) is None


def test_a_second_cold_fill_in_one_request_does_not_charge_the_user_again(cold_fill, catalogue_api):
    client, counted = cold_fill
    serve_order(catalogue_api, 4104)

    services.order_get(order_id=4103)
    services.order_get(order_id=4104)

    assert calls(catalogue_api, "orders/4103") == calls(catalogue_api, "orders/4104") == 1
    assert counted == []
    assert set(_actor_counts(client).values()) == {1}


@pytest.mark.django_db(transaction=True)  # the other "worker" releases from its own thread and connection
def test_fetches_itself_when_the_other_worker_gives_up(catalogue_api):
    key = keys.order_key(4103)
    lock = keys.lock_key(key)
    owner = singleflight.acquire(lock, lock_seconds=30)

    def other_worker_fails():
        try:
            singleflight.release(lock, owner)
        finally:
            connections.close_all()

    serve_order(catalogue_api, 4103)
    timer = threading.Timer(0.3, other_worker_fails)
    timer.start()
    try:
        detail = services.order_get(order_id=4103)
    finally:
        timer.join()

    assert calls(catalogue_api, "orders/4103") == 1
    assert detail.freshness.source == "live"


# --- Entry.read: the one reader of cache entries ------------------------------------------------

THING_KEY = "clopos:test:thing:1"
GOOD = {"payload": {"id": 1}, "fetched_at": 1000, "fresh_until": 1060.5, "stale_until": 1120}


def parse_thing(payload):
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        raise CloposResponseError("not a thing")
    return payload


def thing_source(fetch=None) -> Source[dict]:
    def never_called():
        raise AssertionError("Clopos must not be called")

    return Source(
        key=THING_KEY, fetch=fetch or never_called, parse=parse_thing, ages=lambda _: keys.Ages(fresh=60, stale=120)
    )


def test_a_well_formed_entry_is_read():
    entry = Entry.read(GOOD)

    # Cached before entries had versions: the fetch time stands in.
    assert entry == Entry({"id": 1}, 1000.0, 1060.5, 1120.0, version="1000.0")
    assert all(isinstance(value, float) for value in (entry.fetched_at, entry.fresh_until, entry.stale_until))
    round_trip = Entry.read(entry.as_cached())
    assert round_trip is not None
    assert store.unpack(round_trip.payload) == entry.payload
    assert (round_trip.fetched_at, round_trip.fresh_until, round_trip.stale_until, round_trip.version) == (
        entry.fetched_at,
        entry.fresh_until,
        entry.stale_until,
        entry.version,
    )
    assert Entry.read(GOOD | {"version": "a1b2"}).version == "a1b2"
    assert Entry.read(MappingProxyType(GOOD)) == entry  # any mapping


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "payload",
        42,
        ["payload", 1000, 1060, 1120],
        ("payload", 1000, 1060, 1120),
        {},
        {key: value for key, value in GOOD.items() if key != "payload"},
        {key: value for key, value in GOOD.items() if key != "fetched_at"},
        {key: value for key, value in GOOD.items() if key != "fresh_until"},
        {key: value for key, value in GOOD.items() if key != "stale_until"},  # an entry of the old shape
        GOOD | {"fetched_at": "1000"},
        GOOD | {"fresh_until": None},
        GOOD | {"stale_until": "soon"},
        GOOD | {"fetched_at": [1000]},
        GOOD | {"fresh_until": True},
        GOOD | {"stale_until": False},
        GOOD | {"fetched_at": Decimal("1000")},
    ],
    ids=lambda raw: repr(raw)[:60],
)
def test_every_malformed_shape_is_a_miss(raw):
    assert Entry.read(raw) is None


def test_a_malformed_cached_entry_is_fetched_again_and_replaced(clopos_api):
    now = time.time()
    # Fresh by its fresh_until, but with no stale_until: another version's shape.
    cache.set(THING_KEY, {"payload": {"id": 1}, "fetched_at": now, "fresh_until": now + 600}, timeout=600)
    fetched = []

    loaded = store.load(thing_source(fetch=lambda: fetched.append(1) or {"id": 1, "new": True}))

    assert fetched == [1]
    assert loaded.freshness.source == "live"
    assert loaded.value == {"id": 1, "new": True}
    assert Entry.read(cache.get(THING_KEY)) is not None


def test_every_fetch_is_a_new_version_even_at_the_same_instant(clopos_api):
    """What is derived from an entry (rendered fragments) is keyed by its version: a refresh
    must never look like the copy it replaced, even when the clock has not moved."""
    with later(0):  # the clock frozen: both fetches at the same instant
        first = store.load(thing_source(fetch=lambda: {"id": 1}))
        again = store.load(thing_source(fetch=lambda: {"id": 1, "changed": True}), refresh=True)
        cached = store.load(thing_source())

    assert first.freshness.fetched_at == again.freshness.fetched_at
    assert first.freshness.version != again.freshness.version
    assert cached.freshness.version == again.freshness.version
    assert (cached.freshness.source, cached.value) == ("cached", {"id": 1, "changed": True})


# --- Parsed records kept per process, per fetch -------------------------------------------------


def counting_source(fetch=None) -> tuple[Source[dict], list[object]]:
    parsed: list[object] = []

    def parse(payload):
        parsed.append(payload)
        return parse_thing(payload)

    source = thing_source(fetch)
    return Source(key=source.key, fetch=source.fetch, parse=parse, ages=source.ages), parsed


def test_a_fetch_is_parsed_once_in_a_process(clopos_api):
    source, parsed = counting_source(fetch=lambda: {"id": 1})

    loads = [store.load(source) for _ in range(3)] + [store.load(source, seen=cache.get(THING_KEY))]

    assert len(parsed) == 1  # when it was fetched, before it was cached
    assert {loaded.freshness.source for loaded in loads[1:]} == {"cached"}
    assert all(loaded.value == {"id": 1} for loaded in loads)
    assert store.peek(source) == {"id": 1} and len(parsed) == 1


def test_a_new_fetch_is_parsed_anew_even_at_the_same_instant(clopos_api):
    with later(0):
        store.load(thing_source(fetch=lambda: {"id": 1}))
        source, parsed = counting_source(fetch=lambda: {"id": 1, "changed": True})
        store.load(source, refresh=True)
        cached = store.load(source)

    assert parsed == [{"id": 1, "changed": True}]
    assert cached.value == {"id": 1, "changed": True}


def test_an_entry_another_worker_stored_is_parsed_here_once():
    source, parsed = counting_source()
    now = time.time()
    cache.set(THING_KEY, Entry({"id": 7}, now, now + 60, now + 120, version="from-another-worker").as_cached())

    values = [store.load(source).value for _ in range(2)]

    assert values == [{"id": 7}, {"id": 7}]
    assert len(parsed) == 1
    cache.set(THING_KEY, Entry({"id": 8}, now, now + 60, now + 120, version="a-later-fetch").as_cached())
    assert store.load(source).value == {"id": 8}
    assert len(parsed) == 2


def test_a_payload_is_cached_serialised_and_unpacked_only_to_be_parsed(clopos_api, monkeypatch):
    """Reading a cached list page rebuilt every dict of its 50 orders on every warm request; the
    payload is cached as bytes, unpacked only when this process has not parsed that fetch."""
    store.load(thing_source(fetch=lambda: {"id": 1, "lines": [{"n": 1}] * 3}))
    assert isinstance(cache.get(THING_KEY)["payload"], bytes)
    unpacked: list[object] = []
    real_unpack = store.unpack
    monkeypatch.setattr(store, "unpack", lambda payload: unpacked.append(payload) or real_unpack(payload))

    assert store.load(thing_source()).value == {"id": 1, "lines": [{"n": 1}] * 3}
    assert unpacked == []  # parsed here when fetched: the bytes are never unpacked

    store.forget_parsed()  # another worker: never parsed this fetch
    assert store.load(thing_source()).value == {"id": 1, "lines": [{"n": 1}] * 3}
    assert len(unpacked) == 1


def test_an_entry_cached_before_packing_still_loads():
    now = time.time()
    cache.set(
        THING_KEY, GOOD | {"payload": {"id": 5}, "fetched_at": now, "fresh_until": now + 60, "stale_until": now + 120}
    )

    assert store.load(thing_source()).value == {"id": 5}


def test_the_parsed_records_are_bounded(monkeypatch):
    monkeypatch.setattr(store, "PARSED_MAX_ENTRIES", 3)
    now = time.time()
    for n in range(5):
        cache.set(THING_KEY, Entry({"id": n}, now, now + 60, now + 120, version=f"v{n}").as_cached())
        store.load(thing_source())

    assert len(store._parsed_records) == 3
    assert [version for _, version in store._parsed_records] == ["v2", "v3", "v4"]


# --- peek: whatever the cache holds, never a call ---------------------------------------------------


def test_peek_with_nothing_cached_is_none_and_calls_nothing():
    assert store.peek(thing_source()) is None
    assert cache.get(THING_KEY) is None


def test_peek_returns_a_copy_of_any_age():
    long_ago = time.time() - 10_000
    cache.set(
        THING_KEY,
        {"payload": {"id": 7}, "fetched_at": long_ago, "fresh_until": long_ago + 60, "stale_until": long_ago + 120},
    )

    assert store.peek(thing_source()) == {"id": 7}
    assert cache.get(THING_KEY)["fetched_at"] == long_ago  # nothing refreshed, nothing rewritten


@pytest.mark.parametrize("raw", [GOOD | {"payload": {"no_id": 1}}, {"payload": {"id": 1}}, "garbage"])
def test_peek_at_an_unreadable_entry_is_none(raw):
    cache.set(THING_KEY, raw)

    assert store.peek(thing_source()) is None
