"""Customers through the Django test client, Clopos mocked with `responses` (no network): the
search (one call per search with every phone form, scope, masking per role, the audit row with
the query masked, the per-user limit, 400s without upstream calls) and the customer page (scope
answered like an unknown id, the bounded window and page cap, masking, audit)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine

from audit.models import AuditEntry
from audit.services import AuditWriteError
from clopos.listing import phone_stored_forms
from tests.conftest import UNKNOWN_ORDER, api_url, calls, load_payload
from tests.console.test_access_matrix import normalized
from tests.pages import text_of

pytestmark = pytest.mark.django_db

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 3, 14, 21, 30, tzinfo=BAKU)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def sent(mock_api, path: str) -> list[dict[str, str]]:
    return [
        {unquote(k): v for k, v in parse_qsl(urlsplit(call.request.url).query)}
        for call in mock_api.calls
        if urlsplit(call.request.url).path.endswith(f"/v2/{path}")
    ]


def filters_of(query: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in query.items():
        match = re.fullmatch(r"filters\[(\d+)\]\[0\]", key)
        if match:
            n = match.group(1)
            found[value] = [v for k, v in query.items() if re.fullmatch(rf"filters\[{n}\]\[1\](\[\d+\])?", k)]
    return found


def hit_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-customer-row="(\d+)"', response.content.decode())]


# --- The search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["050 333 22 11", "+994503332211", "994 50 333-22-11", "(050) 333 22 11", "0503332211", "50 333 22 11"]
)
def test_a_phone_search_is_one_call_carrying_every_stored_form(api, client_for, typed):
    response = client_for("manager").get("/customers/", {"q": typed})

    assert response.status_code == 200
    (query,) = sent(api, "customers")
    assert filters_of(query) == {"phones": list(phone_stored_forms("503332211"))}
    assert query["limit"] == "21"  # one more than shown: a full page says there are more
    # 1000 and 1005 store the number in two formats; 512 has another number (Clopos' mock sent
    # it anyway: the number is checked again here).
    assert hit_ids(response) == [1000, 1005]
    text = text_of(response.content)
    assert "+994503332211" in text and "(050) 333 22 11" in text  # in full for a manager
    assert "2 customers found." in text
    assert "looked up as it may be stored, 8 ways, in one request." in text


def test_support_sees_only_their_venues_with_phones_masked(api, client_for):
    response = client_for("support").get("/customers/", {"q": "050 333 22 11"})

    (query,) = sent(api, "customers")
    assert filters_of(query)["venue_id"] == ["3"]
    assert hit_ids(response) == [1000]  # 1005 is of venue 1
    content = response.content.decode()
    table = re.search(r"<table.*?</table>", content, re.S).group(0)
    assert "+994 50 *** ** 11" in table
    assert not re.search(r"3332211|333 22 11|333-22-11", table)
    assert "Phone numbers are masked for your role." in text_of(content)


def test_a_name_search_passes_the_text_to_clopos(api, client_for):
    response = client_for("support").get("/customers/", {"q": "  Məmm "})

    (query,) = sent(api, "customers")
    assert filters_of(query) == {"name": ["Məmm"], "venue_id": ["3"]}
    assert hit_ids(response) == [512, 1000]  # 1005 is out of scope
    assert "Customers named like “Məmm”" in text_of(response.content)


def test_every_search_is_audited_with_the_query_masked(api, client_for):
    client = client_for("support")
    client.get("/customers/", {"q": "050 333 22 11"})
    client.get("/customers/", {"q": "Leyla"})

    rows = list(AuditEntry.objects.order_by("id").values_list("action", "detail", "venue_id"))
    assert rows == [
        (AuditEntry.Action.SEARCH_CUSTOMERS, "phone +994 50 *** ** 11", None),
        (AuditEntry.Action.SEARCH_CUSTOMERS, "name Leyla", None),
    ]
    assert not any(re.search(r"3332211|333 22 11|333-22-11", detail) for _, detail, _ in rows)


def test_more_than_a_page_says_narrow_the_search(api, client_for, settings):
    settings.CLOPOS_CUSTOMER_SEARCH_RESULTS = 2

    response = client_for("manager").get("/customers/", {"q": "Məmm"})

    assert sent(api, "customers")[0]["limit"] == "3"
    assert hit_ids(response) == [512, 1000]
    assert "More than 2 customers found: the first 2 are shown. Narrow the search" in text_of(response.content)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("333 22 11", "Type the whole phone number with its code, e.g. 050 333 22 11."),
        ("Ə", "Type at least two letters of the name, or a phone number."),
        ("", "This field is required."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_a_query_that_cannot_be_searched_is_a_400_without_call_or_audit(api, client_for, typed, message):
    response = client_for("support").get("/customers/", {"q": typed})

    assert response.status_code == 400
    assert message in text_of(response.content)
    assert not api.calls
    assert not AuditEntry.objects.exists()


def test_the_search_page_alone_asks_nothing(api, client_for):
    response = client_for("support").get("/customers/")

    assert response.status_code == 200
    assert "Find a customer" in text_of(response.content)
    assert not api.calls and not AuditEntry.objects.exists()


def test_one_user_may_search_only_so_often(api, client_for, settings):
    settings.CUSTOMER_SEARCH_RATE_PER_USER = "3/m"
    client = client_for("support")
    for name in ("Leyla", "Əli", "Anna"):
        assert client.get("/customers/", {"q": name}).status_code == 200

    refused = client.get("/customers/", {"q": "Vüqar"})

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "You have searched customers many times in a short time." in text_of(refused.content)
    assert len(sent(api, "customers")) == 3  # the refused search asked Clopos nothing
    assert AuditEntry.objects.count() == 3
    # Another user goes on.
    assert client_for("manager").get("/customers/", {"q": "Vüqar"}).status_code == 200


def test_a_search_that_cannot_be_audited_shows_nothing(api, client_for, monkeypatch):
    def refuse(*args, **kwargs):
        raise AuditWriteError("search_customers")

    monkeypatch.setattr("orders.views.customers.audit_write_now", refuse)

    response = client_for("manager").get("/customers/", {"q": "050 333 22 11"})

    assert response.status_code == 503
    assert "could not be recorded in the audit log, so no customer data is shown" in text_of(response.content)
    assert not api.calls


def test_clopos_failing_is_said_on_the_search_page(api, client_for):
    api.replace(responses.GET, api_url("customers"), status=503, json={"success": False})

    response = client_for("support").get("/customers/", {"q": "Leyla"})

    assert response.status_code == 503
    assert "Clopos" in text_of(response.content)


# --- The customer page ------------------------------------------------------------------------------


@pytest.fixture
def history_api(api):
    """The customer 512's receipts (one in the window, one older) and orders in the lists."""
    receipts = copy.deepcopy(load_payload("receipts_list_page1.json"))
    receipts["data"][0].update(customer_id=512)  # 20901, 14 Mar
    receipts["data"][4].update(customer_id=512, created_at="2026-01-02 12:00:00")  # 20850, too old
    api.replace(responses.GET, api_url("receipts"), json=receipts)
    orders = copy.deepcopy(load_payload("orders_list_page1.json"))
    for order in orders["data"]:
        if order["id"] == 4101:
            order["payload"]["customer"]["id"] = 512
    api.replace(responses.GET, api_url("orders"), json=orders)
    return api


def test_a_customer_with_their_recent_receipts_and_orders(history_api, client_for):
    response = client_for("manager").get("/customers/512/")

    assert response.status_code == 200
    content = response.content.decode()
    assert re.findall(r'data-history-receipt="(\d+)"', content) == ["20901"]
    assert re.findall(r'data-history-order="(\d+)"', content) == ["4101"]
    text = text_of(content)
    assert "Leyla Məmmədova #512" in text
    assert "+994503214567" in text  # a manager sees it in full; the view is on record
    assert "Searched 30 days (13 Feb 2026 – 14 Mar 2026, venue time)" in text
    assert "5 receipt records read in 1 page(s)" in text
    # Both lists were asked for this customer only, over the window (a day either side for UTC).
    (receipts,) = sent(history_api, "receipts")
    assert filters_of(receipts) == {"customer_id": ["512"]}
    assert (receipts["date[0]"], receipts["date[1]"]) == ("2026-02-12", "2026-03-15")
    (orders,) = sent(history_api, "orders")
    assert filters_of(orders) == {"customer_id": ["512"]}
    assert (orders["date[0]"], orders["date[1]"]) == ("2026-02-12", "2026-03-14")


def test_support_sees_the_customer_masked_and_in_scope(history_api, client_for):
    response = client_for("support").get("/customers/512/", {"days": "7"})

    text = text_of(response.content)
    assert response.status_code == 200
    assert "+994 50 *** ** 67" in text and "+994503214567" not in text
    assert "Bakı, Nərimanov r., ***" in text and "Təbriz" not in text
    assert "Searched 7 days (8 Mar 2026 – 14 Mar 2026, venue time)" in text
    (receipts,) = sent(history_api, "receipts")
    assert filters_of(receipts) == {"customer_id": ["512"], "venue_id": ["3"]}


def test_viewing_a_customer_is_audited_before_it_is_shown(history_api, client_for, monkeypatch):
    client_for("support").get("/customers/512/")
    assert list(AuditEntry.objects.values_list("action", "venue_id", "detail")) == [
        (AuditEntry.Action.VIEW_CUSTOMER, 3, "customer=512 days=30")
    ]

    def refuse(*args, **kwargs):
        raise AuditWriteError("view_customer")

    monkeypatch.setattr("orders.views.customers.audit_write_now", refuse)
    response = client_for("support").get("/customers/512/")
    assert response.status_code == 503
    assert "Leyla" not in response.content.decode()


@pytest.mark.parametrize("days", ["0", "91", "abc", "-1", "7.5"])
def test_a_window_out_of_bounds_is_a_400_without_upstream_call(api, client_for, days):
    response = client_for("manager").get("/customers/512/", {"days": days})

    assert response.status_code == 400
    assert "Choose from 1 to 90 days." in text_of(response.content)
    assert not api.calls


def test_the_history_reads_at_most_the_cap_of_pages(api, client_for, settings):
    settings.CLOPOS_CUSTOMER_HISTORY_MAX_PAGES = 2
    receipts = copy.deepcopy(load_payload("receipts_list_page1.json"))
    receipts["total"] = 5000  # 25 pages of 200
    api.replace(responses.GET, api_url("receipts"), json=receipts)

    response = client_for("manager").get("/customers/512/", {"days": "90"})

    assert [q["page"] for q in sent(api, "receipts")] == ["1", "2"]
    text = text_of(response.content)
    assert "10 receipt records read in 2 page(s)" in text
    assert "Clopos has more receipts than the pages read" in text


def test_a_failing_list_leaves_the_rest_of_the_page(history_api, client_for):
    history_api.replace(responses.GET, api_url("orders"), status=500, json={"success": False})

    response = client_for("manager").get("/customers/512/")

    assert response.status_code == 200
    text = text_of(response.content)
    assert "Orders cannot be listed right now." in text
    assert re.findall(r'data-history-receipt="(\d+)"', response.content.decode()) == ["20901"]


@pytest.mark.parametrize("username", ["support1", "manager1"])
def test_a_customer_of_another_venue_answers_exactly_like_an_unknown_one(api, client_for, username):
    client = client_for(username)

    hidden = client.get("/customers/512/")
    unknown = client.get(f"/customers/{UNKNOWN_ORDER}/")

    assert hidden.status_code == unknown.status_code == 404
    assert normalized(hidden, 512) == normalized(unknown, UNKNOWN_ORDER)
    assert sorted(hidden.headers) == sorted(unknown.headers)
    assert "Leyla" not in hidden.content.decode()
    assert list(AuditEntry.objects.order_by("id").values_list("action", "venue_id", "detail")) == [
        (AuditEntry.Action.CUSTOMER_NOT_FOUND, None, "customer=512"),
        (AuditEntry.Action.CUSTOMER_NOT_FOUND, None, f"customer={UNKNOWN_ORDER}"),
    ]
    # No history list was asked for either.
    assert calls(api, "receipts") == calls(api, "orders") == 0


@pytest.mark.parametrize("raw", ["abc", "0", "-1"])
def test_a_bad_customer_id_is_a_400_without_upstream_call(api, client_for, raw):
    response = client_for("support").get(f"/customers/{raw}/")

    assert response.status_code == 400
    assert not api.calls


def test_a_receipts_customer_links_to_the_customer_for_those_who_may_search(api, client_for, users):
    from django.contrib.auth.models import Permission

    body = copy.deepcopy(load_payload("receipt_20855_closed_split_payment_for_order_4103.json"))
    body["data"]["customer_id"] = 512
    api.replace(responses.GET, api_url("receipts/20855"), json=body)

    assert 'href="/customers/512/"' in client_for("support").get("/receipts/20855/").content.decode()
    users["support"].groups.first().permissions.remove(Permission.objects.get(codename="search_customers"))
    response = client_for("support").get("/receipts/20855/")
    assert 'href="/customers/512/"' not in response.content.decode() and "#512" in text_of(response.content)
