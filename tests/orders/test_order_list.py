"""The orders list, the lookup box and previous/next through the Django test client, with Clopos
mocked by `responses` (no network): the filters form, 400s that never reach Clopos, scope,
masking, htmx fragments and history restores, the cache, refresh, stale copies and the budget.

The clock is frozen on 14 Mar 2026, 21:30 Baku: the fixture orders were created on 13–14 Mar.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from clopos.listing import OrderQuery
from console.ids import LOOKUP_HELP, parse_lookup
from orders import selectors
from orders.forms import OrderListForm
from orders.models import VenueSettings
from orders.selectors import ListFilters
from staff.services import staff_user_upsert
from tests.conftest import api_url, load_payload
from tests.pages import count_fragment_renders, normalised

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 3, 14, 21, 30, tzinfo=BAKU)
PASSWORD = "list-test-Passw0rd!"
RAW_PHONE_4101 = "+994503214567"
MASKED_PHONE_4101 = "+994 50 *** ** 67"
# Fixture orders in the business day of 14 Mar (06:00 14 Mar to 06:00 15 Mar Baku), newest first;
# 4106 was created at 22:02 on 13 Mar, so it belongs to the day before.
IN_14_MAR = [4101, 4102, 4105, 4104, 4103]

# --- Helpers ----------------------------------------------------------------------------------


def list_body(total: int | None = 23, venue_of: dict[int, int] | None = None) -> dict:
    """The shared fixture page (all venue 3, total 23) with receipts embedded."""
    body = copy.deepcopy(load_payload("orders_list_page1.json"))
    embeds = {
        4101: None,
        4102: {"id": 20871, "status": 1, "total": 21.06, "closed_at": None},
        4103: {"id": 20855, "status": 2, "total": 38.2, "closed_at": "2026-03-14 15:02:11"},
        4104: None,
        4105: {"id": 20868, "status": 1, "total": 30.8, "closed_at": None},
        4106: {"id": 20850, "status": 2, "total": 12.5, "closed_at": "2026-03-13 23:10:00"},
    }
    for order in body["data"]:
        order["receipt"] = embeds[order["id"]]
        if venue_of and order["id"] in venue_of:
            order["venue_id"] = venue_of[order["id"]]
            order["payload"]["service"]["venue_id"] = venue_of[order["id"]]
    if total is None:
        del body["total"]
    else:
        body["total"] = total
    return body


def list_calls(mock_api) -> list[dict[str, str]]:
    """The query of every GET /v2/orders made, keys decoded."""
    return [
        {unquote(k): v for k, v in parse_qsl(urlsplit(call.request.url).query)}
        for call in mock_api.calls
        if urlsplit(call.request.url).path.endswith("/v2/orders")
    ]


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-order-row="(\d+)"', response.content.decode())]


def text_of(response) -> str:
    import html

    raw = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw))).strip()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(clopos_api):
    clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))
    clopos_api.get(api_url("sale-types"), json=load_payload("sale_types_list.json"))
    clopos_api.get(api_url("orders"), json=list_body())
    for order_id, name in {
        4101: "order_4101_pending_delivery_receipt_null.json",
        4102: "order_4102_received_takeaway_pct_discount_open_receipt.json",
        4105: "order_4105_received_dinein_service_charge_open_receipt.json",
        4103: "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
    }.items():
        clopos_api.get(api_url(f"orders/{order_id}"), json=load_payload(name))
    clopos_api.get(api_url("products/1402"), json=load_payload("product_1402_get_by_id_with_modificator_groups.json"))
    return clopos_api


@pytest.fixture
def client_for(db):
    users = {
        "support": ("support", [3], False),
        "support1": ("support", [1], False),
        "support13": ("support", [1, 3], False),
        "manager": ("manager", [], True),
    }

    def make(username: str) -> Client:
        role, venues, all_venues = users[username]
        user = staff_user_upsert(
            username=username, role=role, password=PASSWORD, venue_ids=venues, all_venues=all_venues
        )
        client = Client()
        client.force_login(user)
        return client

    return make


# --- The filters form (no database, no network) ----------------------------------------------


def form(query: str, scope=None) -> OrderListForm:
    bound = OrderListForm(QueryDict(query), venue_scope=scope)
    bound.is_valid()
    return bound


def test_no_filter_is_today_in_the_whole_scope():
    f = form("")
    assert f.is_valid(), f.errors
    assert f.filters() == ListFilters()


def test_every_filter_is_read():
    f = form(
        "from=2026-03-01&to=2026-03-31&venue=3&venue=1&status=PENDING&status=received&status=READY"
        "&sale_type=2&sort=updated&page=3",
        scope={1, 3},
    )
    assert f.is_valid(), f.errors
    assert f.filters() == ListFilters(
        first=dt.date(2026, 3, 1),
        last=dt.date(2026, 3, 31),
        venue_ids=(1, 3),
        statuses=("PENDING", "RECEIVED", "READY"),  # an unknown status Clopos may add is kept as it is
        sale_type_ids=(2,),
        sort="updated",
        page=3,
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("day=14.03.2026", "day", "Enter a date as YYYY-MM-DD."),
        ("day=2026-02-30", "day", "Enter a date as YYYY-MM-DD."),
        ("day=2026-03-14&from=2026-03-01&to=2026-03-02", "__all__", "Choose one business day or a range, not both."),
        ("from=2026-03-01", "to", "A range needs a start and an end."),
        ("to=2026-03-01", "from", "A range needs a start and an end."),
        ("from=2026-03-10&to=2026-03-01", "to", "The range ends before it starts."),
        ("from=2026-03-01&to=2026-04-01", "to", "A range can cover at most 31 days."),
        ("venue=7", "venue", "Venue 7 is not one of your venues."),
        ("venue=abc", "venue", "Choose venues from the list."),
        ("venue=0", "venue", "Choose venues from the list."),
        ("status=PEND1NG", "status", "Choose statuses from the list."),
        ("status=<b>", "status", "Choose statuses from the list."),
        ("sale_type=-2", "sale_type", "Choose sale types from the list."),
        ("sort=total", "sort", "Sort by newest, oldest or updated."),
        ("page=0", "page", "Enter a page number from 1."),
        ("page=two", "page", "Enter a page number from 1."),
    ],
)
def test_invalid_filters_are_form_errors(query, field, message):
    f = form(query, scope={3})
    assert not f.is_valid()
    assert message in f.errors[field]


def test_a_range_of_31_days_is_allowed():
    assert form("from=2026-03-01&to=2026-03-31").is_valid()


def test_the_canonical_query_reads_back_to_the_same_filters():
    filters = form("venue=3&status=PENDING&sort=oldest&page=2&day=2026-03-14", scope={3}).filters()
    pairs = filters.query_pairs()
    assert pairs == [("day", "2026-03-14"), ("venue", "3"), ("status", "PENDING"), ("sort", "oldest"), ("page", "2")]
    assert form(urlencode(pairs), scope={3}).filters() == filters
    assert ("page", "5") in filters.query_pairs(page=5)
    assert not any(key == "page" for key, _ in filters.query_pairs(page=1))


# --- The lookup box ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "4103",
        " 4103 ",
        "#4103",
        "4103.",
        "# 4103",
        "/orders/4103/",
        "http://127.0.0.1:8000/orders/4103/?list=day%3D2026-03-14",
        "https://orders.example.az/orders/4103/receipt/",
        "orders.example.az/orders/4103",
        "https://integrations.clopos.com/open-api/v2/orders/4103?with[0]=receipt",
        "https://back.clopos.example/kohnesheher/orders/4103/edit",
        "https://back.clopos.example/order?order_id=4103",
    ],
)
def test_the_lookup_box_finds_the_order_id(typed):
    assert parse_lookup(typed) == 4103


@pytest.mark.parametrize(
    "typed",
    ["", "abc", "41 03", "4103abc", "#", "0", "-4103", "9007199254740992", "٤١٠٣", "https://example.az/a/b", "1e3"],
)
def test_the_lookup_box_refuses_anything_else(typed):
    assert parse_lookup(typed) is None


@pytest.mark.parametrize("typed", ["#4103", "4103.", "/orders/4103/"])
def test_lookup_redirects_to_the_order(api, client_for, typed):
    response = client_for("support").get("/", {"order_id": typed})
    assert response.status_code == 302
    assert response["Location"] == "/orders/4103/"
    assert not api.calls


def test_lookup_error_is_short_and_human(api, client_for):
    response = client_for("support").get("/", {"order_id": "order four"})
    assert response.status_code == 400
    assert LOOKUP_HELP in text_of(response)
    assert "9007199254740991" not in response.content.decode()
    assert "2^53" not in response.content.decode()
    assert not api.calls


def test_an_invalid_id_in_the_url_never_mentions_the_upper_bound(api, client_for):
    response = client_for("support").get("/orders/abc/")
    assert response.status_code == 400
    assert "9007199254740991" not in response.content.decode()


# --- The list page ----------------------------------------------------------------------------


def test_the_home_lists_todays_business_day(api, client_for):
    response = client_for("manager").get("/orders/")

    assert response.status_code == 200
    text = text_of(response)
    assert "Business day 14 Mar 2026" in text
    assert "06:00–06:00" in text
    assert row_ids(response) == IN_14_MAR  # 4106 (22:02 on 13 Mar) is the day before
    assert "Clopos matched 23 orders created 14 Mar–15 Mar; those in the business day are shown: 5 on this page." in (
        text
    )
    assert list_calls(api) == [
        {
            "page": "1",
            "limit": "50",
            "with[0]": "receipt",
            "sort[0]": "created_at",
            "sort[1]": "-1",
            "date[0]": "2026-03-14",
            "date[1]": "2026-03-15",
        }
    ]


def test_columns_show_status_receipt_total_items_and_a_masked_phone(api, client_for):
    response = client_for("manager").get("/orders/", {"day": "2026-03-14"})
    content = response.content.decode()
    text = text_of(response)

    assert MASKED_PHONE_4101 in text
    assert RAW_PHONE_4101 not in content and "503214567" not in content
    assert "◷ Pending" in text and "✔ Delivered" in text and "✕ Ignored" in text
    assert "■ Closed 38.20 AZN" in text
    assert "□ Open 21.06 AZN" in text
    assert 'href="/orders/4103/?list=day%3D2026-03-14"' in content
    # Receipt totals of the rows shown, labelled as this page's.
    assert "Receipts total, this page: 90.06 AZN (3 receipts)." in text


def test_a_pending_order_older_than_the_threshold_is_overdue(api, client_for, settings):
    settings.CLOPOS_OVERDUE_MINUTES = 30
    overdue = client_for("manager").get("/orders/", {"day": "2026-03-14"})  # 4101 created 20:42, now 21:30
    assert re.search(r'data-order-row="4101"[^>]*>', overdue.content.decode())
    assert 'class="order-row is-overdue" data-order-row="4101"' in overdue.content.decode()
    assert "Overdue: pending over 30 min" in text_of(overdue)

    settings.CLOPOS_OVERDUE_MINUTES = 60
    fine = client_for("manager").get("/orders/", {"day": "2026-03-14"})
    assert 'class="order-row" data-order-row="4101"' in fine.content.decode()
    assert "Overdue: pending" not in text_of(fine)


def test_a_received_order_older_than_its_own_threshold_is_overdue(api, client_for, settings):
    """Accepted but not delivered in time: RECEIVED has its own, longer threshold."""
    settings.CLOPOS_OVERDUE_RECEIVED_MINUTES = 60  # 4102 RECEIVED, created 19:05; the list's now is 21:30
    late = client_for("manager").get("/orders/", {"day": "2026-03-14"})
    assert 'class="order-row is-overdue" data-order-row="4102"' in late.content.decode()
    assert "Overdue: received over 60 min" in text_of(late)

    settings.CLOPOS_OVERDUE_RECEIVED_MINUTES = 24 * 60
    fine = client_for("manager").get("/orders/", {"day": "2026-03-14"})
    assert 'class="order-row" data-order-row="4102"' in fine.content.decode()


def test_a_warm_page_makes_no_upstream_call(api, client_for):
    client = client_for("manager")
    client.get("/orders/")
    before = len(api.calls)

    second = client.get("/orders/")

    assert second.status_code == 200
    assert len(api.calls) == before
    assert 'data-source="cached"' in second.content.decode()
    assert len(list_calls(api)) == 1


def test_each_filter_reaches_clopos_and_is_applied_on_our_side(api, client_for):
    response = client_for("manager").get(
        "/orders/", {"day": "2026-03-14", "status": ["DELIVERED", "RECEIVED"], "sale_type": "2", "sort": "oldest"}
    )

    sent = list_calls(api)[-1]
    assert (sent["sort[0]"], sent["sort[1]"]) == ("created_at", "1")
    assert sent["filters[0][0]"] == "status"
    assert (sent["filters[0][1][0]"], sent["filters[0][1][1]"]) == ("DELIVERED", "RECEIVED")
    assert (sent["filters[1][0]"], sent["filters[1][1]"]) == ("sale_type_id", "2")
    # Whatever Clopos sent back, only DELIVERED/RECEIVED delivery orders are shown.
    assert row_ids(response) == [4103]


def test_sort_by_updated(api, client_for):
    client_for("manager").get("/orders/", {"day": "2026-03-14", "sort": "updated"})
    assert list_calls(api)[-1]["sort[0]"] == "updated_at"


def test_a_range_lists_several_business_days(api, client_for):
    response = client_for("manager").get("/orders/", {"from": "2026-03-13", "to": "2026-03-14"})
    assert row_ids(response) == [4101, 4102, 4105, 4104, 4103, 4106]
    assert "Business days 13 Mar – 14 Mar 2026" in text_of(response)
    sent = list_calls(api)[-1]
    assert (sent["date[0]"], sent["date[1]"]) == ("2026-03-13", "2026-03-15")


def test_pages_follow_clopos_and_say_n_of_m(api, client_for, settings):
    settings.CLOPOS_LIST_PAGE_SIZE = 6
    response = client_for("manager").get("/orders/", {"day": "2026-03-14", "page": "2"})
    text = text_of(response)
    assert "Page 2 of 4" in text
    assert list_calls(api)[-1]["page"] == "2" and list_calls(api)[-1]["limit"] == "6"
    content = response.content.decode()
    assert 'href="/orders/?day=2026-03-14"' in content  # previous: page 1, no page parameter
    assert 'href="/orders/?day=2026-03-14&amp;page=3"' in content


def test_without_a_total_pages_offer_previous_and_next_only(api, client_for, settings):
    settings.CLOPOS_LIST_PAGE_SIZE = 6
    api.replace("GET", api_url("orders"), json=list_body(total=None))
    response = client_for("manager").get("/orders/", {"day": "2026-03-14", "page": "2"})
    text = text_of(response)
    assert "Page 2" in text and " of " not in text.split("Page 2", 1)[1][:5]
    assert "Clopos sent 6 orders created 14 Mar–15 Mar on this page" in text
    assert "Next →" in text and "← Previous" in text


# --- Invalid input: a 400 with the form, and no upstream call at all -------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"day": "yesterday"},
        {"from": "2026-03-01", "to": "2026-04-15"},
        {"from": "2026-03-14", "to": "2026-03-01"},
        {"status": "pending!"},
        {"page": "-1"},
        {"venue": "7"},
    ],
)
def test_invalid_filters_answer_400_without_calling_clopos(api, client_for, query):
    response = client_for("support").get("/orders/", query)

    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()
    assert "Nothing was asked of Clopos" in text_of(response)
    assert not api.calls  # not even the token or the catalogue


def test_invalid_filters_under_htmx_replace_the_form_too(api, client_for):
    response = client_for("manager").get("/orders/", {"day": "nope"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#order-list"
    assert response.content.decode().lstrip().startswith('<div id="order-list"')
    # What was typed stays on screen (as text: a date input cannot hold it), next to its error.
    assert re.search(
        r'<input type="text" name="day" id="id_day" value="nope"\s+aria-invalid="true"', response.content.decode()
    )
    assert not api.calls


# --- Scope ------------------------------------------------------------------------------------


def test_a_support_user_sends_their_venues_as_a_filter(api, client_for):
    client_for("support13").get("/orders/", {"day": "2026-03-14"})
    sent = list_calls(api)[-1]
    assert sent["filters[0][0]"] == "venue_id"
    assert (sent["filters[0][1][0]"], sent["filters[0][1][1]"]) == ("1", "3")


def test_an_all_venues_user_sends_no_venue_filter_unless_they_pick_some(api, client_for):
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14"})
    assert not any(k.startswith("filters") for k in list_calls(api)[-1])
    client.get("/orders/", {"day": "2026-03-14", "venue": "7"})
    assert list_calls(api)[-1]["filters[0][1]"] == "7"


def test_rows_of_other_venues_are_never_shown_even_if_clopos_sends_them(api, client_for):
    """A Clopos that ignored the venue filter: venue 1's user still sees none of venue 3's orders."""
    api.replace("GET", api_url("orders"), json=list_body(venue_of={4102: 1}))
    response = client_for("support1").get("/orders/", {"day": "2026-03-14"})

    assert row_ids(response) == [4102]
    for hidden in ("4101", "4103", "Leyla", "Nigar"):
        assert hidden not in text_of(response).replace("4102", "")


def test_a_forged_venue_is_a_400_not_a_wider_list(api, client_for):
    response = client_for("support").get("/orders/", {"venue": ["3", "7"]})
    assert response.status_code == 400
    assert "Venue 7 is not one of your venues." in text_of(response)
    assert not api.calls


def test_support_sees_the_same_masking_as_on_the_order_page(api, client_for):
    client = client_for("support")
    listed = client.get("/orders/", {"day": "2026-03-14"})
    page = client.get("/orders/4101/")
    assert MASKED_PHONE_4101 in text_of(listed) and MASKED_PHONE_4101 in text_of(page)
    assert RAW_PHONE_4101 not in listed.content.decode()
    assert "Refresh from Clopos" not in text_of(listed)


# --- htmx -------------------------------------------------------------------------------------


def test_htmx_gets_the_results_alone(api, client_for):
    response = client_for("manager").get("/orders/", {"day": "2026-03-14"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="results"')
    assert "<html" not in content and 'id="list-filters"' not in content
    assert row_ids(response) == IN_14_MAR
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(api, client_for):
    """htmx runs with historyCacheSize 0: the back button re-fetches the URL with these headers."""
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = client_for("manager").get("/orders/", {"day": "2026-03-14", "status": "PENDING"}, headers=headers)
    content = response.content.decode()
    assert "<html" in content and 'id="list-filters"' in content
    assert re.search(r'<input type="checkbox" name="status" value="PENDING"[^>]*checked', content)
    assert row_ids(response) == [4101]


def test_a_filter_link_targeting_the_whole_list_gets_form_and_results(api, client_for):
    headers = {"HX-Request": "true", "HX-Target": "order-list"}
    response = client_for("manager").get("/orders/", {"day": "2026-03-13"}, headers=headers)
    assert response.content.decode().lstrip().startswith('<div id="order-list"')
    assert 'value="2026-03-13"' in response.content.decode()


def test_only_todays_list_refreshes_itself_and_never_faster_than_its_cache_age(api, client_for, settings):
    client = client_for("manager")
    today = client.get("/orders/").content.decode()
    past = client.get("/orders/", {"day": "2026-03-10"}).content.decode()
    assert 'data-auto-refresh="60"' in today and 'data-refresh-url="/orders/"' in today
    assert "data-auto-refresh" not in past
    settings.CLOPOS_TTL_LIST_TODAY = 90
    assert 'data-auto-refresh="90"' in client.get("/orders/").content.decode()


# --- Cache ages, refresh, stale copies, the budget -------------------------------------------


def test_today_is_cached_briefly_and_a_past_day_long(api, client_for, settings):
    settings.CLOPOS_TTL_LIST_TODAY, settings.CLOPOS_TTL_LIST_PAST = 30, 600
    client = client_for("manager")
    client.get("/orders/")
    client.get("/orders/", {"day": "2026-03-10"})
    assert len(list_calls(api)) == 2
    with time_machine.travel(NOW + dt.timedelta(seconds=31), tick=False):
        assert "cached, refreshing" in text_of(client.get("/orders/"))
        assert 'data-source="cached"' in client.get("/orders/", {"day": "2026-03-10"}).content.decode()


def test_manager_refresh_bypasses_the_cache_and_is_audited(api, client_for):
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14", "status": "PENDING"})
    assert len(list_calls(api)) == 1

    response = client.post("/orders/refresh/?day=2026-03-14&status=PENDING", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="results"')
    assert 'data-source="live"' in response.content.decode()
    assert len(list_calls(api)) == 2
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REFRESH_ORDER_LIST)
    assert (entry.username, entry.order_id, entry.venue_id) == ("manager", None, None)
    assert entry.detail == "day=2026-03-14&status=PENDING"


def test_refresh_without_htmx_goes_back_to_the_list(api, client_for):
    response = client_for("manager").post("/orders/refresh/?day=2026-03-14")
    assert response.status_code == 302
    assert response["Location"] == "/orders/?day=2026-03-14"


def test_support_cannot_refresh_a_list(api, client_for):
    response = client_for("support").post("/orders/refresh/?day=2026-03-14")
    assert response.status_code == 403
    assert not api.calls
    assert not AuditEntry.objects.exists()


def test_a_previous_copy_is_served_when_clopos_fails(api, client_for, settings):
    settings.CLOPOS_TTL_LIST_TODAY = settings.CLOPOS_STALE_LIST_TODAY = 0
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14"})
    api.replace("GET", api_url("orders"), status=500, json=load_payload("error_500_internal.json"))

    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        response = client.get("/orders/", {"day": "2026-03-14"})

    assert response.status_code == 200
    assert "Clopos is unreachable right now. Showing the copy from 21:30" in text_of(response)
    assert row_ids(response) == IN_14_MAR


def test_clopos_down_and_nothing_cached_is_a_503_on_the_list_page(api, client_for):
    api.replace("GET", api_url("orders"), status=503, json={"success": False, "error": "service_unavailable"})
    response = client_for("manager").get("/orders/", {"day": "2026-03-14"})
    assert response.status_code == 503
    assert "Clopos is unreachable right now. Try again in a moment." in text_of(response)
    assert 'id="list-filters"' in response.content.decode()


def test_a_spent_budget_says_so_and_serves_the_previous_copy(api, client_for, settings):
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14"})  # a good copy
    settings.CLOPOS_TTL_LIST_TODAY = settings.CLOPOS_STALE_LIST_TODAY = 0
    settings.CLOPOS_RATE_BUDGET_PER_MINUTE = 1  # one call per window, and a call reserves two
    from clopos.client import get_clopos_client

    get_clopos_client.cache_clear()
    calls_before = len(list_calls(api))

    with time_machine.travel(NOW + dt.timedelta(seconds=700), tick=False):
        stale = client.get("/orders/", {"day": "2026-03-14"})
        cold = client.get("/orders/", {"day": "2026-03-12"})

    assert len(list_calls(api)) == calls_before  # the budget refused both before any request
    assert stale.status_code == 200
    assert re.search(r"Clopos is busy\. Showing the copy from \d\d:\d\d .*Try again in \d+ s\.", text_of(stale))
    assert row_ids(stale) == IN_14_MAR
    assert cold.status_code == 503
    assert re.search(r"Clopos is busy\. Try again in \d+ s\.", text_of(cold))
    assert int(cold["Retry-After"]) >= 1


# --- Business-day cutoff per venue ------------------------------------------------------------


def test_a_venue_override_moves_its_window_and_the_dates_asked(api, client_for):
    VenueSettings.objects.create(venue_id=3, business_day_start=dt.time(20, 0))
    response = client_for("support").get("/orders/", {"day": "2026-03-13"})

    # 13 Mar 20:00 to 14 Mar 20:00 Baku: 4106 (22:02 on 13 Mar) and 4104/4105/4103, not 4101 (20:42).
    assert row_ids(response) == [4102, 4105, 4104, 4103, 4106]
    assert "20:00–20:00" in text_of(response)
    sent = list_calls(api)[-1]
    assert (sent["date[0]"], sent["date[1]"]) == ("2026-03-13", "2026-03-14")


def test_a_changed_or_removed_override_applies_on_the_next_list_page(api, client_for):
    """The overrides are read from the shared cache (every worker's); saving or deleting one
    clears it, so the next page of any worker uses the new cutoff."""
    client = client_for("support")
    setting = VenueSettings.objects.create(venue_id=3, business_day_start=dt.time(20, 0))
    assert "20:00–20:00" in text_of(client.get("/orders/", {"day": "2026-03-13"}))

    setting.business_day_start = dt.time(5, 0)
    setting.save()
    assert "05:00–05:00" in text_of(client.get("/orders/", {"day": "2026-03-13"}))

    setting.delete()
    assert "06:00–06:00" in text_of(client.get("/orders/", {"day": "2026-03-13"}))


def test_the_overrides_are_queried_once_then_read_from_the_cache(db):
    VenueSettings.objects.create(venue_id=3, business_day_start=dt.time(20, 0))
    with CaptureQueriesContext(connection) as first:
        selectors.venue_cutoffs()
    with CaptureQueriesContext(connection) as second:
        cutoffs = selectors.venue_cutoffs()

    def venue_queries(captured):
        return [q for q in captured.captured_queries if "orders_venuesettings" in q["sql"]]

    assert len(venue_queries(first)) == 1
    assert venue_queries(second) == []  # the embedded cache is a table too: only this one is spared
    assert cutoffs.overrides == {3: dt.time(20, 0)}


def test_a_warm_list_reads_the_cutoffs_with_its_page_in_one_round_trip(api, monkeypatch):
    from clopos import keys
    from orders.models import VENUE_CUTOFFS_KEY
    from tests.orders.test_services import _cache_reads

    filters = ListFilters(day=dt.date(2026, 3, 14))
    selectors.order_list_get(filters=filters, venue_scope={3}, now=NOW)  # cached, and the cutoffs known
    reads = _cache_reads(monkeypatch)

    page = selectors.order_list_get(filters=filters, venue_scope={3}, now=NOW)

    assert page.freshness.source == "cached"
    assert [method for method, _ in reads] == ["get_many"]
    assert list(reads[0][1])[:2] == [VENUE_CUTOFFS_KEY, keys.order_list_key(page.plan.query.fingerprint())]


def test_a_list_is_never_planned_with_cutoffs_this_worker_read_before_a_change(api, monkeypatch):
    filters = ListFilters(day=dt.date(2026, 3, 13))
    assert selectors.order_list_get(filters=filters, venue_scope=None, now=NOW).plan.cutoffs.overrides == {}
    VenueSettings.objects.create(venue_id=3, business_day_start=dt.time(20, 0))  # clears the shared entry

    page = selectors.order_list_get(filters=filters, venue_scope=None, now=NOW)
    assert page.plan.cutoffs.overrides == {3: dt.time(20, 0)}
    assert page.plan.window_of(3).start == dt.datetime(2026, 3, 13, 20, 0, tzinfo=BAKU)

    monkeypatch.setattr(selectors, "_overrides_hint", {3: dt.time(5, 0)})  # as another worker's
    again = selectors.order_list_get(filters=filters, venue_scope=None, now=NOW)
    assert again.plan.cutoffs.overrides == {3: dt.time(20, 0)}
    assert again.plan == page.plan
    assert again.rows == page.rows


def test_with_overrides_an_all_venues_list_covers_every_window(db):
    VenueSettings.objects.create(venue_id=7, business_day_start=dt.time(0, 0))
    plan = selectors.plan_list(filters=ListFilters(day=dt.date(2026, 3, 14)), venue_scope=None, now=NOW)
    # Venue 7's day starts at 00:00 Baku = 20:00 UTC on 13 Mar: the UTC reading needs 13 Mar.
    assert (plan.query.date_from, plan.query.date_to) == (dt.date(2026, 3, 13), dt.date(2026, 3, 15))
    assert plan.window_of(7).start == dt.datetime(2026, 3, 14, 0, 0, tzinfo=BAKU)
    assert plan.window_of(3).start == dt.datetime(2026, 3, 14, 6, 0, tzinfo=BAKU)
    assert [c.strftime("%H:%M") for c, _ in plan.cutoffs_in_play] == ["06:00", "00:00"]


def test_today_follows_the_cutoff(db):
    before_cutoff = dt.datetime(2026, 3, 15, 5, 59, tzinfo=BAKU)
    plan = selectors.plan_list(filters=ListFilters(), venue_scope=None, now=before_cutoff)
    assert plan.first_day == dt.date(2026, 3, 14) and plan.today
    after = selectors.plan_list(filters=ListFilters(), venue_scope=None, now=before_cutoff + dt.timedelta(minutes=1))
    assert after.first_day == dt.date(2026, 3, 15)


def test_the_list_query_is_built_in_the_clopos_package():
    plan_query = OrderQuery.build(date_from=dt.date(2026, 3, 14), date_to=dt.date(2026, 3, 15))
    assert plan_query.limit == 50


# --- Previous / next --------------------------------------------------------------------------


def nav_links(response) -> dict[str, str]:
    content = response.content.decode()
    return {
        name: re.search(rf'href="([^"]+)"[^>]*data-list-{name}', content).group(1).replace("&amp;", "&")
        for name in ("back", "previous", "next")
        if f"data-list-{name}" in content
    }


def test_an_order_opened_from_the_list_links_to_its_neighbours(api, client_for):
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14", "status": ["PENDING", "RECEIVED"]})
    list_query = "day=2026-03-14&status=PENDING&status=RECEIVED"
    calls_before = len(list_calls(api))

    response = client.get("/orders/4102/", {"list": list_query})

    assert response.status_code == 200
    in_list = urlencode({"list": list_query})
    assert nav_links(response) == {
        "back": f"/orders/?{list_query}",
        "previous": f"/orders/4101/?{in_list}",
        "next": f"/orders/4105/?{in_list}",
    }
    assert len(list_calls(api)) == calls_before  # computed from the cached page


def test_the_first_and_last_rows_link_to_the_neighbouring_pages(api, client_for, settings):
    settings.CLOPOS_LIST_PAGE_SIZE = 6
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14", "page": "2"})

    first = client.get("/orders/4101/", {"list": "day=2026-03-14&page=2"})
    last = client.get("/orders/4103/", {"list": "day=2026-03-14&page=2"})

    assert nav_links(first)["previous"] == "/orders/?day=2026-03-14"
    assert nav_links(first)["next"].startswith("/orders/4102/?list=")
    assert nav_links(last)["next"] == "/orders/?day=2026-03-14&page=3"


@pytest.mark.parametrize("value", [None, "day=garbage", "venue=7", "page=0&day=x", "day=%ZZ", "status=a b", "x" * 3000])
def test_without_a_valid_list_context_the_links_are_absent(api, client_for, value):
    client = client_for("support")
    client.get("/orders/", {"day": "2026-03-14"})
    response = client.get("/orders/4102/", {} if value is None else {"list": value})
    assert response.status_code == 200
    assert nav_links(response) == {}


def test_an_uncached_list_gives_back_to_list_only(api, client_for):
    response = client_for("manager").get("/orders/4102/", {"list": "day=2026-03-14"})
    assert nav_links(response) == {"back": "/orders/?day=2026-03-14"}
    assert not list_calls(api)


# --- Admin: the per-venue business-day start ---------------------------------------------------


def test_admins_edit_the_business_day_start_in_the_admin_site(api, client_for):
    admin = staff_user_upsert(username="boss", role="admin", password=PASSWORD, venue_ids=[], all_venues=True)
    client = Client()
    client.force_login(admin)
    client_for("support").get("/orders/")  # the console loads the venue names once

    assert "Nərimanov (#3)" in client.get("/admin/orders/venuesettings/add/").content.decode()
    response = client.post("/admin/orders/venuesettings/add/", {"venue_id": "3", "business_day_start": "05:00"})

    assert response.status_code == 302
    assert VenueSettings.objects.get().business_day_start == dt.time(5, 0)
    listing = client.get("/admin/orders/venuesettings/").content.decode()
    assert "05:00" in listing
    # The list of venue 3 now runs 05:00–05:00.
    assert "05:00–05:00" in text_of(client_for("support").get("/orders/", {"day": "2026-03-13"}))


def test_before_the_venues_are_known_the_admin_types_a_venue_id(db):
    admin = staff_user_upsert(username="boss", role="admin", password=PASSWORD, venue_ids=[], all_venues=True)
    client = Client()
    client.force_login(admin)

    assert client.post("/admin/orders/venuesettings/add/", {"venue_id": "0"}).status_code == 200
    assert (
        client.post("/admin/orders/venuesettings/add/", {"venue_id": "7", "business_day_start": ""}).status_code == 302
    )
    assert VenueSettings.objects.get().business_day_start is None


def test_managers_cannot_edit_venue_settings(db):
    manager = staff_user_upsert(username="boss2", role="manager", password=PASSWORD, venue_ids=[], all_venues=True)
    client = Client()
    client.force_login(manager)
    assert client.get("/admin/orders/venuesettings/").status_code == 403  # not staff: the console's 403


# --- Display helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "in the future"),
        (10, "just now"),
        (60, "1 minute ago"),
        (59 * 60, "59 minutes ago"),
        (3600, "1 hour ago"),
        (5 * 3600 + 59 * 60, "5 hours ago"),
        (2 * 86400 + 5, "2 days ago"),
    ],
)
def test_ago_says_how_long_before_now(seconds, text):
    from console.templatetags.console_format import ago

    assert ago(NOW - dt.timedelta(seconds=seconds), NOW) == text
    assert ago(None, NOW) == ""


@pytest.mark.parametrize(
    ("status", "html"),
    [
        ("PENDING", '<span class="status status-pending" title="PENDING">'),
        ("READY", '<span class="status status-unknown" title="READY"><span class="status-symbol" aria-hidden="true">?'),
        ("<b>", '<span class="status status-unknown" title="&lt;b&gt;">'),
    ],
)
def test_a_status_is_text_and_a_symbol_and_an_unknown_one_is_shown_as_it_is(status, html):
    from console.templatetags.console_format import order_status

    rendered = order_status(status)
    assert rendered.startswith(html)
    assert "<b>" not in rendered


def test_upstream_strings_in_rows_are_escaped(api, client_for):
    body = list_body()
    body["data"][0]["payload"]["customer"]["name"] = '<script>alert("x")</script>Eli'
    body["data"][0]["status"] = "<b>NEW</b>"
    api.replace("GET", api_url("orders"), json=body)

    content = client_for("manager").get("/orders/", {"day": "2026-03-14"}).content.decode()

    assert "<script>alert" not in content and "<b>NEW" not in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Eli" in content


# --- The rows kept rendered per process (console/fragments.py) ---------------------------------


def tbody(response) -> str:
    return re.search(r"<tbody>(.*)</tbody>", response.content.decode(), re.S)[1]


@pytest.fixture
def row_renders(monkeypatch):
    from orders.templatetags import order_list

    rendered: list[int] = []
    real = order_list._rows

    def counting(rows, *args):
        rendered.append(len(rows))
        return real(rows, *args)

    monkeypatch.setattr(order_list, "_rows", counting)
    return rendered


def test_kept_rows_are_the_rows_a_fresh_render_gives(api, client_for, row_renders):
    from console import fragments

    client = client_for("manager")
    first = client.get("/orders/", {"day": "2026-03-14"})
    hit = client.get("/orders/", {"day": "2026-03-14"})
    assert row_renders == [5]  # the second page did not render its rows again
    fragments.clear()
    fresh = client.get("/orders/", {"day": "2026-03-14"})

    assert row_renders == [5, 5]
    assert tbody(first) == tbody(hit) == tbody(fresh)
    assert row_ids(hit) == IN_14_MAR


def test_kept_rows_never_cross_scopes_or_filters(api, client_for):
    """The same Clopos page, a wider user first: a narrower user, another filter, another day's
    links each get rows of their own."""
    api.replace("GET", api_url("orders"), json=list_body(venue_of={4102: 1}))
    assert row_ids(client_for("manager").get("/orders/", {"day": "2026-03-14"})) == IN_14_MAR

    assert row_ids(client_for("support1").get("/orders/", {"day": "2026-03-14"})) == [4102]
    pending = client_for("manager").get("/orders/", {"day": "2026-03-14", "status": "PENDING"})
    assert row_ids(pending) == [4101]
    assert 'href="/orders/4101/?list=day%3D2026-03-14%26status%3DPENDING"' in tbody(pending)


# --- The whole list (form and results) kept rendered per process -------------------------------


@pytest.fixture
def list_renders(monkeypatch):
    return count_fragment_renders(monkeypatch, "orders/order_list.html")


@pytest.mark.parametrize("username", ["manager", "support13"])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_kept_list_is_the_list_a_fresh_render_gives(api, client_for, list_renders, username, htmx):
    from console import fragments

    client = client_for(username)
    headers = {"HX-Request": "true", "HX-Target": "results"} if htmx else {}
    query = {"day": "2026-03-14", "status": ["PENDING", "RECEIVED"]}
    client.get("/orders/", query, headers=headers)  # fetched live: says so, a rendering of its own
    first = client.get("/orders/", query, headers=headers)
    hit = client.get("/orders/", query, headers=headers)
    per_render = 1 if htmx else 2  # the results alone; or the whole page and its list
    assert len(list_renders) == 2 * per_render  # the third page rendered nothing again

    fragments.clear()
    fresh = client.get("/orders/", query, headers=headers)

    assert len(list_renders) == 3 * per_render
    assert first.status_code == hit.status_code == fresh.status_code == 200
    assert normalised(hit) == normalised(first) == normalised(fresh)


def test_a_kept_list_never_gives_one_users_rights_to_another(api, client_for):
    """A manager's list (with its refresh button) rendered first; a support user with the same
    venues asking the same URL gets their own, without it."""
    manager = Client()
    manager.force_login(
        staff_user_upsert(username="manager13", role="manager", password=PASSWORD, venue_ids=[1, 3], all_venues=False)
    )
    for _ in range(2):  # live, then from the cache, as support's will be
        managers = text_of(manager.get("/orders/", {"day": "2026-03-14"}))
    supports = text_of(client_for("support13").get("/orders/", {"day": "2026-03-14"}))

    assert "Refresh from Clopos" in managers
    assert "Refresh from Clopos" not in supports


def test_a_list_refresh_shows_what_it_fetched(api, client_for):
    client = client_for("manager")
    assert "Leyla" in tbody(client.get("/orders/", {"day": "2026-03-14"}))
    renamed = list_body()
    next(o for o in renamed["data"] if o["id"] == 4101)["payload"]["customer"]["name"] = "Renamed Customer"
    api.replace("GET", api_url("orders"), json=renamed)

    client.post("/orders/refresh/?day=2026-03-14")
    rows = tbody(client.get("/orders/", {"day": "2026-03-14"}))

    assert "Renamed Customer" in rows and "Leyla" not in rows


def test_kept_rows_follow_the_language(api, client_for):
    client = client_for("manager")
    english = tbody(client.get("/orders/", {"day": "2026-03-14"}))
    azerbaijani = tbody(client.get("/orders/", {"day": "2026-03-14"}, headers={"accept-language": "az"}))

    assert 'data-label="Customer"' in english
    assert 'data-label="Müştəri"' in azerbaijani


def test_a_row_whose_receipt_clopos_did_not_report_shows_a_dash(api, client_for):
    """The fixture page as Clopos sent it, without the receipts embedded: the receipt state is
    unknown, shown as a dash (this row once raised a TypeError, a 500 for the whole list)."""
    api.replace(responses.GET, api_url("orders"), json=load_payload("orders_list_page1.json"))
    response = client_for("manager").get("/orders/", {"day": "2026-03-14"})

    assert response.status_code == 200
    assert row_ids(response) == IN_14_MAR
    assert response.content.decode().count('<span class="muted">—</span>') == len(IN_14_MAR)
