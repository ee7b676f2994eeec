"""Receipts through the Django test client, Clopos mocked with `responses` (no network): the
receipt page (any receipt, with or without an order, per role), the receipts list (filters in the
URL, 400s without upstream calls, scope, htmx, totals of the page, cache, refresh, stale copies),
the lookup box's receipt syntax and the order page's way to a receipt.

The clock is frozen on 14 Mar 2026, 21:30 Baku: the fixture receipts are of the shifts of
13–14 Mar; 20901 is a dine-in sale with no order.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from django.test import Client

from audit.models import AuditEntry
from console.ids import LOOKUP_HELP
from orders.receipts import payment_details_visible
from staff.services import staff_user_upsert
from tests.conftest import PASSWORD, UNKNOWN_ORDER, api_url, calls, later, load_payload
from tests.console.test_access_matrix import normalized
from tests.pages import count_fragment_renders, htmx_headers, normalised, text_of

pytestmark = pytest.mark.django_db

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 3, 14, 21, 30, tzinfo=BAKU)
# Shift 14 Mar, newest first (20850 is of 13 Mar: Clopos' mock sends it anyway, we drop it).
SHIFT_14 = [20901, 20871, 20868, 20855]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def receipts_body(total: int | None = 5, **changes) -> dict:
    body = copy.deepcopy(load_payload("receipts_list_page1.json"))
    if total is None:
        del body["total"]
    else:
        body["total"] = total
    for receipt in body["data"]:
        receipt.update(changes.get(receipt["id"], {}))
    return body


def receipt_calls(mock_api) -> list[dict[str, str]]:
    return [
        {unquote(k): v for k, v in parse_qsl(urlsplit(call.request.url).query)}
        for call in mock_api.calls
        if urlsplit(call.request.url).path.endswith("/v2/receipts")
    ]


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-receipt-row="(\d+)"', response.content.decode())]


def filters_of(query: dict[str, str]) -> dict[str, list[str]]:
    """{field: values} from a sent query's filters[N][...] keys."""
    found: dict[str, list[str]] = {}
    for key, value in query.items():
        match = re.fullmatch(r"filters\[(\d+)\]\[0\]", key)
        if match:
            n = match.group(1)
            found[value] = [v for k, v in query.items() if re.fullmatch(rf"filters\[{n}\]\[1\](\[\d+\])?", k)]
    return found


@pytest.fixture
def pos_receipt(api):
    """20901, the dine-in sale with no order, by id."""
    receipt = copy.deepcopy(load_payload("receipts_list_page1.json")["data"][0])
    receipt["receipt_products"] = []
    api.get(api_url("receipts/20901"), json={"success": True, "data": receipt})
    return api


# --- The receipt page -----------------------------------------------------------------------------


def test_a_manager_sees_the_whole_receipt(api, client_for):
    response = client_for("manager").get("/receipts/20855/")

    assert response.status_code == 200
    text = text_of(response.content)
    for expected in (
        "Receipt 20855",
        "Closed",
        "Order status COMPLETED",
        "Shift date 14 Mar 2026",
        "Daily / monthly number 21 /",
        "Çatdırılma",
        "Cashier",
        "user #14",
        "Lines and payments",
        "Payments",
        "Fiscal id",
        "Total 38.20 AZN",
        "Remaining 0.00 AZN",
    ):
        assert expected in text, expected
    assert 'href="/orders/4103/"' in response.content.decode()  # its order
    assert "documents no lookup of staff users" in text


def test_support_sees_a_summary_without_lines_or_payments(api, client_for):
    response = client_for("support").get("/receipts/20855/")

    text = text_of(response.content)
    assert response.status_code == 200
    assert "Total 38.20 AZN" in text
    assert "Lines and payment details are visible to managers." in text
    assert "Payments" not in text and "Fiscal id" not in text and "Kart" not in text


def test_the_payment_rule_lives_in_one_place(users):
    assert payment_details_visible(users["manager"]) and payment_details_visible(users["admin"])
    assert not payment_details_visible(users["support"])


def test_a_receipt_without_an_order(pos_receipt, client_for):
    response = client_for("manager").get("/receipts/20901/")

    text = text_of(response.content)
    assert response.status_code == 200
    assert "none: a sale rung up on the POS" in text
    assert "table #9 · hall #1" in text
    assert "data-order-link" not in response.content.decode()


def test_viewing_a_receipt_is_audited(api, client_for):
    client_for("support").get("/receipts/20855/")

    assert list(AuditEntry.objects.values_list("action", "venue_id", "detail")) == [
        (AuditEntry.Action.VIEW_RECEIPT, 3, "receipt=20855")
    ]


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "20855x"])
def test_a_bad_receipt_id_is_a_400_without_upstream_call(api, client_for, raw):
    response = client_for("manager").get(f"/receipts/{raw}/")

    assert response.status_code == 400
    assert "Enter a receipt id: a whole number, e.g. 20855." in text_of(response.content)
    assert not api.calls


@pytest.mark.parametrize("username", ["support1", "manager1"])
def test_a_receipt_of_another_venue_answers_exactly_like_an_unknown_one(api, client_for, username):
    client = client_for(username)

    hidden = client.get("/receipts/20855/")
    unknown = client.get(f"/receipts/{UNKNOWN_ORDER}/")

    assert hidden.status_code == unknown.status_code == 404
    assert normalized(hidden, 20855) == normalized(unknown, UNKNOWN_ORDER)
    assert sorted(hidden.headers) == sorted(unknown.headers)
    assert "38.20" not in hidden.content.decode() and "4103" not in hidden.content.decode()
    assert list(AuditEntry.objects.order_by("id").values_list("action", "venue_id", "detail")) == [
        (AuditEntry.Action.RECEIPT_NOT_FOUND, None, "receipt=20855"),
        (AuditEntry.Action.RECEIPT_NOT_FOUND, None, f"receipt={UNKNOWN_ORDER}"),
    ]
    # Repeated probes answer from the cache either way (one upstream call each, ever).
    client.get("/receipts/20855/")
    client.get(f"/receipts/{UNKNOWN_ORDER}/")
    assert calls(api, "receipts/20855") == calls(api, f"receipts/{UNKNOWN_ORDER}") == 1


def test_the_order_pages_receipt_slot_links_to_the_receipt(api, client_for):
    for username in ("support", "manager"):
        response = client_for(username).get("/orders/4103/receipt/", headers=htmx_headers(4103))
        assert 'href="/receipts/20855/"' in response.content.decode()


# --- The lookup box -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["r20855", "R20855", " r 20855 ", "r#20855", "/receipts/20855/"])
def test_the_lookup_box_opens_a_receipt(api, client_for, typed):
    response = client_for("support").get("/", {"order_id": typed})

    assert response.status_code == 302
    assert response["Location"] == "/receipts/20855/"
    assert not api.calls


def test_the_lookup_box_explains_the_receipt_syntax(api, client_for):
    assert "r20855" in LOOKUP_HELP
    response = client_for("support").get("/", {"order_id": "table 12"})
    assert response.status_code == 400
    assert LOOKUP_HELP in text_of(response.content)
    assert "type r and its number (r20855)" in text_of(client_for("support").get("/").content)


def test_a_number_that_is_no_order_offers_the_receipt_without_asking_for_it(api, client_for):
    response = client_for("manager").get(f"/orders/{UNKNOWN_ORDER}/")

    assert response.status_code == 404
    assert f"No order {UNKNOWN_ORDER} — open receipt {UNKNOWN_ORDER}?" in text_of(response.content)
    assert f'href="/receipts/{UNKNOWN_ORDER}/"' in response.content.decode()
    assert calls(api, f"receipts/{UNKNOWN_ORDER}") == 0  # one more call only when followed


# --- The list ---------------------------------------------------------------------------------------


def test_todays_shift_by_default_in_the_users_scope(api, client_for):
    response = client_for("support").get("/receipts/")

    assert response.status_code == 200
    assert row_ids(response) == SHIFT_14
    (sent,) = receipt_calls(api)
    assert filters_of(sent) == {"shift_date": ["2026-03-14"], "venue_id": ["3"]}
    assert (sent["date[0]"], sent["date[1]"], sent["sort[0]"], sent["sort[1]"]) == (
        "2026-03-13",
        "2026-03-15",
        "created_at",
        "-1",
    )
    text = text_of(response.content)
    assert "Shift 14 Mar 2026 today" in text
    assert "Clopos matched 5 receipts; 4 on this page." in text
    assert "1 more that Clopos sent did not match the filters and is left out." in text


def test_every_filter_goes_to_clopos_and_is_checked_again_here(api, client_for):
    response = client_for("manager").get(
        "/receipts/",
        {"day": "2026-03-14", "status": "open", "venue": "3", "sale_type": "3", "payment_method": "2", "sort": "total"},
    )

    assert response.status_code == 200
    (sent,) = receipt_calls(api)
    assert filters_of(sent) == {
        "shift_date": ["2026-03-14"],
        "status": ["1"],
        "venue_id": ["3"],
        "sale_type_id": ["3"],
        "payment_method_id": ["2"],
    }
    assert sent["sort[0]"] == "total"
    # Open receipts have no payments yet: none is left once every filter is applied here.
    assert row_ids(response) == []


def test_the_venue_and_sale_type_filters_name_them_as_clopos_does(api, client_for):
    """The same filter markup as the orders list: each venue by its name and id, each sale type
    by its name, both marked with Clopos' language."""
    markup = client_for("manager").get("/receipts/", {"day": "2026-03-14"}).content.decode()

    venues = re.search(r'<fieldset class="filter choices" id="id_venue".*?</fieldset>', markup, re.S).group(0)
    sale_types = re.search(r'<fieldset class="filter choices" id="id_sale_type".*?</fieldset>', markup, re.S).group(0)
    assert '<span lang="az">Köhnə Şəhər — Nərimanov</span> (#3)' in venues
    assert '<span lang="az">Çatdırılma</span>' in sale_types


def test_a_status_filter_keeps_only_those_rows(api, client_for):
    response = client_for("manager").get("/receipts/", {"day": "2026-03-14", "status": "closed"})
    assert row_ids(response) == [20901, 20855]


def test_a_range_of_shifts_goes_as_one_array_filter(api, client_for):
    response = client_for("manager").get("/receipts/", {"from": "2026-03-13", "to": "2026-03-14"})

    (sent,) = receipt_calls(api)
    assert filters_of(sent) == {"shift_date": ["2026-03-13", "2026-03-14"]}
    assert row_ids(response) == [*SHIFT_14, 20850]
    assert "Shifts 13 Mar – 14 Mar 2026" in text_of(response.content)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "paid"}, "Choose open or closed."),
        ({"day": "14.03.2026"}, "Enter a date as YYYY-MM-DD."),
        ({"from": "2026-01-01", "to": "2026-03-14"}, "A range can cover at most 31 days."),
        ({"venue": "7"}, "Venue 7 is not one of your venues."),
        ({"payment_method": "cash"}, "Choose payment methods from the list."),
        ({"sort": "updated"}, "Sort by newest, oldest, recently closed or highest total."),
        ({"page": "0"}, "Enter a page number from 1."),
    ],
)
def test_an_invalid_filter_is_a_400_without_upstream_call(api, client_for, query, message):
    response = client_for("support").get("/receipts/", query)

    assert response.status_code == 400
    assert message in text_of(response.content)
    assert not api.calls


def test_rows_of_other_venues_are_never_shown_even_if_clopos_sends_them(api, client_for):
    response = client_for("support1").get("/receipts/", {"day": "2026-03-14"})

    (sent,) = receipt_calls(api)
    assert filters_of(sent)["venue_id"] == ["1"]
    assert row_ids(response) == []
    assert "20855" not in response.content.decode()


def test_the_totals_are_of_this_page_and_payments_follow_the_role(api, client_for):
    manager = client_for("manager").get("/receipts/", {"day": "2026-03-14"})
    support = client_for("support").get("/receipts/", {"day": "2026-03-14"})

    manager_text, support_text = text_of(manager.content), text_of(support.content)
    assert "This page: 4 receipts" in manager_text and "This page: 4 receipts" in support_text
    assert "cash" in manager_text and "card" in manager_text and "Payments" in manager_text
    assert '<th scope="col">Payments</th>' in manager.content.decode()
    assert '<th scope="col">Payments</th>' not in support.content.decode()
    assert "Kart 20.00" in manager_text and "Kart 20.00" not in support_text

    def totals_row(response) -> str:
        return text_of(re.search(r'<tr class="page-totals">.*?</tr>', response.content.decode(), re.S).group(0))

    assert "cash" in totals_row(manager) and "card" in totals_row(manager)
    assert "cash" not in totals_row(support) and "card" not in totals_row(support)


def test_kept_receipt_rows_are_the_rows_a_fresh_render_gives(api, client_for, monkeypatch):
    """The rows are kept rendered per process (console/fragments.py), as the orders list's are."""
    from console import fragments
    from orders.templatetags import receipt_list

    built: list[int] = []
    real = receipt_list._rows
    monkeypatch.setattr(receipt_list, "_rows", lambda rows, *args: built.append(len(rows)) or real(rows, *args))

    def tbody(response) -> str:
        return re.search(r"<tbody>(.*)</tbody>", response.content.decode(), re.S)[1]

    client = client_for("manager")
    first = client.get("/receipts/", {"day": "2026-03-14"})
    hit = client.get("/receipts/", {"day": "2026-03-14"})
    assert built == [4]  # the second page did not build its rows again
    fragments.clear()
    fresh = client.get("/receipts/", {"day": "2026-03-14"})

    assert built == [4, 4]
    assert tbody(first) == tbody(hit) == tbody(fresh)
    assert "Kart 20.00, Nağd 18.20" in tbody(hit)


def test_kept_receipt_rows_never_show_payments_to_a_role_without_them(api, client_for):
    """A manager and a support user of the same venue see the same Clopos page and rows; the
    manager's rows (with payments), kept first, are never what support receives."""
    manager = Client()
    manager.force_login(
        staff_user_upsert(username="manager3", role="manager", password=PASSWORD, venue_ids=[3], all_venues=False)
    )
    managers = manager.get("/receipts/", {"day": "2026-03-14"})
    supports = client_for("support").get("/receipts/", {"day": "2026-03-14"})

    assert row_ids(managers) == row_ids(supports) != []
    assert "Kart 20.00" in text_of(managers.content)
    assert "Kart 20.00" not in text_of(supports.content)


# --- The whole receipts list (form and results) kept rendered per process ----------------------


@pytest.fixture
def list_renders(monkeypatch):
    return count_fragment_renders(monkeypatch, "orders/receipt_list.html")


@pytest.mark.parametrize("username", ["manager", "support"])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_kept_receipts_list_is_the_list_a_fresh_render_gives(api, client_for, list_renders, username, htmx):
    from console import fragments

    client = client_for(username)
    headers = {"HX-Request": "true", "HX-Target": "results"} if htmx else {}
    query = {"day": "2026-03-14", "status": ["open", "closed"]}
    client.get("/receipts/", query, headers=headers)  # fetched live: says so, a rendering of its own
    first = client.get("/receipts/", query, headers=headers)
    hit = client.get("/receipts/", query, headers=headers)
    per_render = 1 if htmx else 2  # the results alone; or the whole page and its list
    assert len(list_renders) == 2 * per_render  # the third page rendered nothing again

    fragments.clear()
    fresh = client.get("/receipts/", query, headers=headers)

    assert len(list_renders) == 3 * per_render
    assert first.status_code == hit.status_code == fresh.status_code == 200
    assert normalised(hit) == normalised(first) == normalised(fresh)
    assert row_ids(hit) != []


def test_a_kept_receipts_list_never_gives_one_users_rights_to_another(api, client_for):
    """A manager's list (payments, the refresh button) rendered and kept first; a support user of
    the same venue asking the same URL gets their own, without either."""
    manager = Client()
    manager.force_login(
        staff_user_upsert(username="manager3", role="manager", password=PASSWORD, venue_ids=[3], all_venues=False)
    )
    for _ in range(2):  # live, then from the cache, as support's will be
        managers = text_of(manager.get("/receipts/", {"day": "2026-03-14"}).content)
    supports = text_of(client_for("support").get("/receipts/", {"day": "2026-03-14"}).content)

    assert "Refresh from Clopos" in managers and "Kart 20.00" in managers
    assert "Refresh from Clopos" not in supports and "Kart 20.00" not in supports


def test_a_kept_receipts_list_shows_what_a_refresh_fetched(api, client_for):
    client = client_for("manager")
    assert "20855" in text_of(client.get("/receipts/", {"day": "2026-03-14"}).content)
    body = receipts_body()
    next(r for r in body["data"] if r["id"] == 20855)["total"] = 99.5
    api.replace(responses.GET, api_url("receipts"), json=body)

    client.post("/receipts/refresh/?day=2026-03-14")
    page = text_of(client.get("/receipts/", {"day": "2026-03-14"}).content)

    assert "99.50" in page


def test_an_htmx_request_gets_the_results_alone(api, client_for):
    response = client_for("support").get("/receipts/", {"day": "2026-03-14"}, headers=htmx_headers("/receipts/"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and content.lstrip().startswith('<section id="results"')
    assert "HX-Request" in response["Vary"]
    assert row_ids(response) == SHIFT_14


def test_a_cached_page_costs_no_call_and_pages_follow_clopos(api, client_for):
    api.replace(responses.GET, api_url("receipts"), json=receipts_body(total=250))
    client = client_for("manager")

    first = client.get("/receipts/", {"day": "2026-03-14"})
    client.get("/receipts/", {"day": "2026-03-14"})

    assert len(receipt_calls(api)) == 1
    assert "Page 1 of 3" in text_of(first.content)
    assert 'href="/receipts/?day=2026-03-14&amp;page=2" rel="next"' in first.content.decode()
    client.get("/receipts/", {"day": "2026-03-14", "page": "2"})
    assert receipt_calls(api)[-1]["page"] == "2"


def test_the_export_links_carry_the_filters(api, client_for):
    response = client_for("manager").get("/receipts/", {"day": "2026-03-14", "status": "closed", "page": "1"})

    content = response.content.decode()
    assert 'href="/receipts/export.csv?day=2026-03-14&amp;status=closed"' in content
    assert 'href="/receipts/export.xlsx?day=2026-03-14&amp;status=closed"' in content


def test_a_refresh_skips_the_cache_and_is_audited(api, client_for):
    client = client_for("manager")
    client.get("/receipts/", {"day": "2026-03-14"})

    response = client.post("/receipts/refresh/?day=2026-03-14")

    assert response.status_code == 302 and response["Location"] == "/receipts/?day=2026-03-14"
    assert len(receipt_calls(api)) == 2
    assert list(AuditEntry.objects.values_list("action", "detail")) == [
        (AuditEntry.Action.REFRESH_RECEIPT_LIST, "day=2026-03-14")
    ]


def test_a_failing_clopos_shows_the_previous_copy(api, client_for):
    client = client_for("manager")
    client.get("/receipts/", {"day": "2026-03-14"})
    api.replace(responses.GET, api_url("receipts"), status=500, json={"success": False, "error": "internal_error"})

    with later(200):  # past the stale age of today's list (120 s)
        response = client.get("/receipts/", {"day": "2026-03-14"})

    assert response.status_code == 200
    assert row_ids(response) == SHIFT_14
    assert 'data-source="stale"' in response.content.decode()


def test_with_no_copy_a_failure_is_the_list_page_with_the_reason(api, client_for):
    api.replace(responses.GET, api_url("receipts"), status=503, json={"success": False, "error": "service_unavailable"})

    response = client_for("manager").get("/receipts/", {"day": "2026-03-14"})

    assert response.status_code == 503
    assert "Receipts cannot be shown right now" in text_of(response.content)


def test_every_value_in_a_row_is_escaped(api, client_for):
    """Rows are built in Python (orders/templatetags/receipt_list.py): hostile text stays text."""
    hostile = '<img src=x onerror="alert(1)">'
    body = receipts_body()
    pos = body["data"][0]
    pos["order_status"] = hostile
    pos["meta"]["sale_type"]["name"] = hostile
    pos["payment_methods"] = [{"id": 1, "name": hostile, "amount": pos["total"]}]
    api.replace(responses.GET, api_url("receipts"), json=body)

    response = client_for("manager").get("/receipts/", {"day": "2026-03-14"})

    content = response.content.decode()
    assert hostile not in content
    assert content.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") == 3


def test_a_warm_receipts_list_reads_the_cutoffs_with_its_page_in_one_round_trip(api, monkeypatch):
    from orders.models import VENUE_CUTOFFS_KEY
    from orders.receipts import ReceiptFilters, receipt_list_get, receipt_list_source
    from tests.orders.test_services import _cache_reads

    filters = ReceiptFilters(day=dt.date(2026, 3, 14))
    receipt_list_get(filters=filters, venue_scope={3})  # cached, and the cutoffs known
    reads = _cache_reads(monkeypatch)

    page = receipt_list_get(filters=filters, venue_scope={3})

    assert page.freshness.source == "cached"
    assert [method for method, _ in reads] == ["get_many"]
    assert list(reads[0][1])[:2] == [VENUE_CUTOFFS_KEY, receipt_list_source(page.plan).key]
