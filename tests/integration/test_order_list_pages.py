"""The orders list end to end: gunicorn + the sandbox's living dataset over loopback.

The sandbox clock is pinned to 27 Nov 2026, 14:00 Baku, and the lists asked for are explicit
business days (the app's own clock is the machine's). What each list must show is computed here
from the sandbox's generator (`sandbox.living`), independently of the app, and compared with the
rows of every page the app serves. The sandbox's `date_zone` decides how Clopos reads `date[]`:
each boundary test runs under both readings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import pytest
import requests

from sandbox import living
from tests.integration.conftest import SandboxControl
from tests.live import LiveApp, csrf_token

pytestmark = pytest.mark.integration

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 11, 27, 14, 0, tzinfo=BAKU)
DAY = dt.date(2026, 11, 26)
NEXT = DAY + dt.timedelta(days=1)
ZONES = ("UTC", "Asia/Baku")
LIST_AGES_ZERO = {f"CLOPOS_{age}_LIST_{kind}": "0" for age in ("TTL", "STALE") for kind in ("TODAY", "PAST")}


# --- What the sandbox holds (the expectation, computed without the app) -------------------------


def orders_around(day: dt.date) -> list[living.LivingOrder]:
    t = NOW.timestamp()
    days = (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1))
    return [o for d in days for o in living.living_day(d).orders if o.created <= t]


def in_business_day(order: living.LivingOrder, day: dt.date, cutoff: dt.time) -> bool:
    start = dt.datetime.combine(day, cutoff, tzinfo=BAKU).timestamp()
    end = dt.datetime.combine(day + dt.timedelta(days=1), cutoff, tzinfo=BAKU).timestamp()
    return start <= order.created < end


def expected_ids(day=DAY, cutoffs=None, venues=None, statuses=None, sale_types=None) -> set[int]:
    cutoffs = cutoffs or {}
    t = NOW.timestamp()
    return {
        o.id
        for o in orders_around(day)
        if in_business_day(o, day, cutoffs.get(o.venue_id, dt.time(6, 0)))
        and (venues is None or o.venue_id in venues)
        and (statuses is None or o.status_at(t) in statuses)
        and (sale_types is None or o.sale_type_id in sale_types)
    }


def clopos_matches(first: dt.date, last: dt.date, zone: str, venues=None) -> int:
    """How many orders the sandbox matches for date[0]=first, date[1]=last in its zone."""
    offset = dt.timedelta(hours=4) if zone == "Asia/Baku" else dt.timedelta(0)
    found = set()
    for o in orders_around(first) + orders_around(last):
        created = dt.datetime.fromtimestamp(o.created, dt.UTC) + offset
        if first <= created.date() <= last and (venues is None or o.venue_id in venues):
            found.add(o.id)
    return len(found)


# --- Talking to the app -------------------------------------------------------------------------


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-order-row="(\d+)"', html)]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def next_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next" hx-get="[^"]+" hx-target="#results"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def all_pages(session: requests.Session, app: LiveApp, params: dict) -> list[str]:
    """Every page of the list, following "Next →" as a user would."""
    pages = []
    response = session.get(f"{app.base_url}/orders/", params=params, timeout=15)
    assert response.status_code == 200, text_of(response.text)[:500]
    pages.append(response.text)
    while (link := next_link(pages[-1])) is not None:
        response = session.get(urljoin(f"{app.base_url}/orders/", link), timeout=15)
        assert response.status_code == 200
        pages.append(response.text)
        assert len(pages) < 20
    return pages


def listed(session, app, params) -> list[int]:
    ids = [i for page in all_pages(session, app, params) for i in row_ids(page)]
    assert len(ids) == len(set(ids)), "an order listed twice"
    return ids


@pytest.fixture
def pinned(sandbox):
    sandbox.config(now=NOW.isoformat(), date_zone="UTC")
    return sandbox


@pytest.fixture
def cutoff_of_venue_3(live_app):
    """Set venue 3's business-day start in the app's database (as an admin would in /admin/)."""

    def set_cutoff(value: str | None) -> None:
        code = "from orders.models import VenueSettings; VenueSettings.objects.all().delete()" + (
            "" if value is None else f"; VenueSettings.objects.create(venue_id=3, business_day_start={value!r})"
        )
        live_app.manage("shell", "--no-imports", "-c", code)

    yield set_cutoff
    set_cutoff(None)


# --- The cutoff boundaries, under both readings of date[] -----------------------------------------


@pytest.mark.parametrize("zone", ZONES)
def test_the_business_day_runs_from_0600_to_0600(live_app, pinned, zone):
    pinned.config(date_zone=zone)
    session = live_app.login("manager")

    ids = set(listed(session, live_app, {"day": DAY.isoformat(), "venue": "3"}))

    edges, after = living.boundary_orders(DAY), living.boundary_orders(NEXT)
    inside = {edges["06:00"], edges["06:01"], edges["23:59"]} | {
        after[t] for t in ("00:00", "00:01", "03:59", "04:00", "04:01", "05:59")
    }
    outside = {edges[t] for t in ("00:00", "00:01", "03:59", "04:00", "04:01", "05:59")} | {
        after["06:00"],
        after["06:01"],
    }
    assert inside <= ids
    assert not outside & ids
    assert ids == expected_ids(venues={3})


@pytest.mark.parametrize("zone", ZONES)
def test_a_cutoff_on_the_utc_day_boundary(live_app, pinned, cutoff_of_venue_3, zone):
    """04:00 Baku is 00:00 UTC: a Baku-dated query must still reach 27 Nov's 00:00–03:59."""
    pinned.config(date_zone=zone)
    cutoff_of_venue_3("04:00")
    session = live_app.login("manager")

    ids = set(listed(session, live_app, {"day": DAY.isoformat(), "venue": "3"}))

    edges, after = living.boundary_orders(DAY), living.boundary_orders(NEXT)
    assert {edges["04:00"], edges["04:01"], edges["05:59"], edges["23:59"]} <= ids
    assert {after["00:00"], after["00:01"], after["03:59"]} <= ids
    assert not {edges["03:59"], after["04:00"], after["04:01"]} & ids
    assert ids == expected_ids(cutoffs={3: dt.time(4, 0)}, venues={3})


@pytest.mark.parametrize("zone", ZONES)
def test_a_midnight_cutoff(live_app, pinned, cutoff_of_venue_3, zone):
    """00:00 Baku is 20:00 UTC the day before: a UTC-dated query must reach back to 25 Nov."""
    pinned.config(date_zone=zone)
    cutoff_of_venue_3("00:00")
    session = live_app.login("manager")

    ids = set(listed(session, live_app, {"day": DAY.isoformat(), "venue": "3"}))

    edges, after = living.boundary_orders(DAY), living.boundary_orders(NEXT)
    assert {edges[t] for t in ("00:00", "00:01", "03:59", "04:00", "05:59", "23:59")} <= ids
    assert after["00:00"] not in ids
    assert ids == expected_ids(cutoffs={3: dt.time(0, 0)}, venues={3})


# --- Filters, sort, pagination ---------------------------------------------------------------


def test_every_venue_every_page(live_app, pinned):
    session = live_app.login("manager")
    pages = all_pages(session, live_app, {"day": DAY.isoformat()})

    ids = [i for page in pages for i in row_ids(page)]
    assert set(ids) == expected_ids()
    matched = clopos_matches(DAY, NEXT, "UTC")
    assert f"Clopos matched {matched} orders created 26 Nov–27 Nov" in text_of(pages[0])
    assert len(pages) == math.ceil(matched / 50) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text_of(page)


@pytest.mark.parametrize(
    ("params", "expectation"),
    [
        ({"status": "PENDING"}, {"statuses": {"PENDING"}}),
        ({"status": ["DELIVERED", "IGNORE"]}, {"statuses": {"DELIVERED", "IGNORE"}}),
        ({"sale_type": "2"}, {"sale_types": {2}}),
        ({"venue": ["1", "7"]}, {"venues": {1, 7}}),
        (
            {"venue": "1", "status": "RECEIVED", "sale_type": ["1", "3"]},
            {"venues": {1}, "statuses": {"RECEIVED"}, "sale_types": {1, 3}},
        ),
    ],
)
def test_each_filter(live_app, pinned, params, expectation):
    # Today (27 Nov at 14:00) still has PENDING and RECEIVED orders; 26 Nov is settled.
    session = live_app.login("manager")
    day = NEXT if expectation.get("statuses", set()) & {"PENDING", "RECEIVED"} else DAY

    ids = set(listed(session, live_app, {"day": day.isoformat(), **params}))

    expected = expected_ids(day=day, **expectation)
    assert expected, "the dataset has orders for this filter"
    assert ids == expected


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("newest", lambda o: -o.created),
        ("oldest", lambda o: o.created),
        ("updated", lambda o: -o.updated(NOW.timestamp())),
    ],
)
def test_sort(live_app, pinned, sort, key):
    session = live_app.login("manager")
    ids = listed(session, live_app, {"day": NEXT.isoformat(), "venue": "3", "sort": sort})
    by_id = {o.id: o for o in orders_around(NEXT)}
    assert ids == sorted(ids, key=lambda i: (key(by_id[i]), i if sort == "oldest" else -i))


def test_a_range(live_app, pinned):
    session = live_app.login("manager")
    ids = set(listed(session, live_app, {"from": "2026-11-24", "to": "2026-11-26", "venue": "3"}))
    expected = set()
    for day in (dt.date(2026, 11, 24), dt.date(2026, 11, 25), DAY):
        expected |= expected_ids(day=day, venues={3})
    assert ids == expected


# --- Scope -------------------------------------------------------------------------------------


def test_support_of_venue_3_never_sees_venue_1_or_7(live_app, pinned):
    session = live_app.login("support")

    pages = all_pages(session, live_app, {"day": DAY.isoformat()})
    ids = {i for page in pages for i in row_ids(page)}

    assert ids == expected_ids(venues={3})
    for page in pages:
        assert "Gənclik" not in page and "İçərişəhər" not in page.split("<main", 1)[1]
    # The scope went to Clopos as a filter: Clopos matched venue 3's orders only.
    assert f"Clopos matched {clopos_matches(DAY, NEXT, 'UTC', venues={3})} orders" in text_of(pages[0])


def test_a_forged_venue_is_a_400_and_never_reaches_clopos(live_app, pinned):
    session = live_app.login("support")
    response = session.get(f"{live_app.base_url}/orders/", params={"venue": "7"}, timeout=10)
    assert response.status_code == 400
    assert "Venue 7 is not one of your venues." in text_of(response.text)
    assert pinned.calls("orders") == 0


# --- Cost: one upstream call per page -------------------------------------------------------------


def test_one_cold_list_page_is_exactly_one_upstream_list_call(live_app, pinned):
    session = live_app.login("manager")

    session.get(f"{live_app.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)
    cold = pinned.stats()["requests"]
    session.get(f"{live_app.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)
    warm = pinned.stats()["requests"]

    assert {k: v for k, v in cold.items() if v} == {"auth": 1, "orders": 1, "venues": 1, "sale_types": 1}
    assert warm == cold, "a warm list page makes no upstream call"
    print(f"\nupstream calls: cold list page {sum(cold.values())} (orders: {cold['orders']}), warm 0")


def test_previous_and_next_come_from_the_cached_page(live_app, pinned):
    session = live_app.login("manager")
    page = session.get(f"{live_app.base_url}/orders/", params={"day": DAY.isoformat(), "venue": "3"}, timeout=10)
    ids = row_ids(page.text)
    before = pinned.calls("orders")

    detail = session.get(f"{live_app.base_url}/orders/{ids[1]}/", params={"list": f"day={DAY}&venue=3"}, timeout=10)

    assert detail.status_code == 200
    assert f'/orders/{ids[0]}/?list=day%3D{DAY}%26venue%3D3" rel="prev"' in detail.text
    assert f'/orders/{ids[2]}/?list=day%3D{DAY}%26venue%3D3" rel="next"' in detail.text
    assert f'href="/orders/?day={DAY}&amp;venue=3" data-list-back' in detail.text
    assert pinned.calls("orders") == before


def test_manager_refresh_fetches_the_page_again(live_app, pinned):
    session = live_app.login("manager")
    session.get(f"{live_app.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)

    response = session.post(
        f"{live_app.base_url}/orders/refresh/?day={DAY}",
        headers={"X-CSRFToken": csrf_token(session), "HX-Request": "true", "Referer": f"{live_app.base_url}/orders/"},
        timeout=10,
    )

    assert response.status_code == 200
    assert 'data-source="live"' in response.text
    assert pinned.calls("orders") == 2


# --- Budget and stale-if-error (deployments of their own) --------------------------------------------


@pytest.fixture(scope="module")
def list_apps(sandbox_handle, live_app, tmp_path_factory):
    """Two instances of one deployment (one database, one cache), with list pages never fresh:
    `primer` has the normal budget; `busy` a budget of one call per window, while every call
    reserves two (itself and its retry), so it is always refused."""
    tmp = tmp_path_factory.mktemp("lists")
    primer = LiveApp(sandbox_url=sandbox_handle.base_url, tmp_dir=tmp, name="lists", extra_env=dict(LIST_AGES_ZERO))
    primer.prepare_like(live_app)
    busy = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp,
        name="lists",
        extra_env=primer.extra_env | {"CLOPOS_RATE_BUDGET_PER_MINUTE": "1"},
    )
    primer.start()
    busy.start()
    yield primer, busy
    primer.stop()
    busy.stop()


@pytest.fixture
def list_sandbox(sandbox_handle, list_apps):
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600, now=NOW.isoformat(), date_zone="UTC")
    list_apps[0].clear_cache()
    yield control
    control.clear_faults()


def test_stale_if_error_on_the_list(list_apps, list_sandbox):
    primer, _ = list_apps
    session = primer.login("manager")
    good = session.get(f"{primer.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)
    list_sandbox.fault("orders", "status", status=500)

    stale = session.get(f"{primer.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)

    assert stale.status_code == 200
    assert "Clopos is unreachable right now. Showing the copy from" in text_of(stale.text)
    assert row_ids(stale.text) == row_ids(good.text)
    assert list_sandbox.calls("orders") == 2


def test_a_spent_budget_serves_the_previous_copy_or_says_clopos_is_busy(list_apps, list_sandbox):
    primer, busy = list_apps
    primer.login("manager").get(f"{primer.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)
    calls = list_sandbox.calls("orders")
    session = busy.login("manager")

    stale = session.get(f"{busy.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=10)
    cold = session.get(f"{busy.base_url}/orders/", params={"day": "2026-11-20"}, timeout=10)

    assert list_sandbox.calls("orders") == calls, "the budget refused before any request"
    assert stale.status_code == 200
    assert re.search(r"Clopos is busy\. Showing the copy from \d\d:\d\d .*Try again in \d+ s\.", text_of(stale.text))
    assert row_ids(stale.text)
    assert cold.status_code == 503
    assert re.search(r"Clopos is busy\. Try again in \d+ s\.", text_of(cold.text))
    assert int(cold.headers["Retry-After"]) >= 1
