"""The receipts and customers lists on the wire (clopos/listing.py), their typed pages
(clopos/types.py) and the client calls. No network: the client tests use `responses`."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from clopos.client import get_clopos_client
from clopos.errors import CloposNotFoundError, CloposResponseError
from clopos.listing import (
    CustomerQuery,
    OrderQuery,
    ReceiptQuery,
    customer_query_params,
    query_params,
    receipt_dates_covering,
    receipt_query_params,
)
from clopos.types import CustomerListPage, CustomerRecord, PaymentMethod, Receipt, ReceiptListPage, parse_payload
from tests.conftest import api_url, load_payload

BAKU = ZoneInfo("Asia/Baku")
# The shared cache is database-backed (the client keeps its token there).
client_test = pytest.mark.django_db


def sent(mock_api, path: str) -> list[dict[str, str]]:
    return [
        {unquote(k): v for k, v in parse_qsl(urlsplit(call.request.url).query)}
        for call in mock_api.calls
        if urlsplit(call.request.url).path.endswith(f"/v2/{path}")
    ]


# --- Receipts -----------------------------------------------------------------------------------


def test_a_receipts_query_filters_the_shift_exactly_with_a_date_safety_net():
    query = ReceiptQuery.build(page=2, limit=200, shift_dates=[dt.date(2026, 11, 26)], venue_ids=[3])
    assert receipt_query_params(query) == [
        ("page", "2"),
        ("limit", "200"),
        ("sort[0]", "created_at"),
        ("sort[1]", "-1"),
        # created_at calendar dates: the shift's day and the next night, a day either side (UTC).
        ("date[0]", "2026-11-25"),
        ("date[1]", "2026-11-27"),
        ("filters[0][0]", "shift_date"),
        ("filters[0][1]", "2026-11-26"),
        ("filters[1][0]", "venue_id"),
        ("filters[1][1]", "3"),
    ]


def test_a_range_of_shifts_and_several_values_go_as_array_filters():
    days = [dt.date(2026, 11, 3), dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
    query = ReceiptQuery.build(
        shift_dates=days,
        statuses=[2, 1],
        venue_ids=[7, 1],
        sale_type_ids=[1],
        payment_method_ids=[2, 1],
        customer_ids=[1000],
        sort="total",
        descending=False,
    )
    params = receipt_query_params(query)
    assert ("sort[0]", "total") in params and ("sort[1]", "1") in params
    assert [p for p in params if p[0].startswith("filters")] == [
        ("filters[0][0]", "shift_date"),
        ("filters[0][1][0]", "2026-11-01"),
        ("filters[0][1][1]", "2026-11-02"),
        ("filters[0][1][2]", "2026-11-03"),
        ("filters[1][0]", "status"),
        ("filters[1][1][0]", "1"),
        ("filters[1][1][1]", "2"),
        ("filters[2][0]", "venue_id"),
        ("filters[2][1][0]", "1"),
        ("filters[2][1][1]", "7"),
        ("filters[3][0]", "sale_type_id"),
        ("filters[3][1]", "1"),
        ("filters[4][0]", "payment_method_id"),
        ("filters[4][1][0]", "1"),
        ("filters[4][1][1]", "2"),
        ("filters[5][0]", "customer_id"),
        ("filters[5][1]", "1000"),
    ]
    assert receipt_dates_covering(days) == (dt.date(2026, 10, 31), dt.date(2026, 11, 4))


def test_equal_receipt_queries_share_a_fingerprint():
    one = ReceiptQuery.build(shift_dates=[dt.date(2026, 11, 26)], venue_ids=[3, 1], statuses=[1])
    other = ReceiptQuery.build(shift_dates=[dt.date(2026, 11, 26)], venue_ids=[1, 3, 3], statuses=[1])
    assert one == other and one.fingerprint() == other.fingerprint()
    assert one.fingerprint() != ReceiptQuery.build(shift_dates=[dt.date(2026, 11, 25)]).fingerprint()


@pytest.mark.parametrize(
    "values", [{"limit": 201}, {"limit": 0}, {"page": 0}, {"sort": "updated_at"}, {"statuses": [3]}]
)
def test_a_receipts_query_outside_the_documented_bounds_is_refused(values):
    with pytest.raises(ValueError):
        ReceiptQuery.build(**values)


def test_orders_of_one_customer():
    params = query_params(OrderQuery.build(customer_ids=[1000], venue_ids=[3]))
    assert [p for p in params if p[0].startswith("filters")] == [
        ("filters[0][0]", "venue_id"),
        ("filters[0][1]", "3"),
        ("filters[1][0]", "customer_id"),
        ("filters[1][1]", "1000"),
    ]


def receipts_body(**envelope) -> dict:
    body = copy.deepcopy(load_payload("receipts_list_page1.json"))
    body.update(envelope)
    return body


def test_a_receipts_page_reads_every_row_and_the_total():
    page = parse_payload(ReceiptListPage.from_payload, receipts_body(), BAKU, page=1, limit=100)
    assert [r.id for r in page.rows] == [20901, 20871, 20868, 20855, 20850]
    assert page.total == 5 and not page.has_next and page.pages == 1
    pos = page.rows[0]
    assert pos.service_notification_id is None and pos.table_id == 9 and pos.guests == 3
    assert pos.shift_date == dt.date(2026, 3, 14)
    assert pos.created_at == dt.datetime(2026, 3, 14, 13, 5, tzinfo=BAKU)
    split = page.rows[3]
    assert (split.sale_type_id, split.customer_id, split.user_id, split.service_notification_id) == (2, 209, 14, 4103)
    assert split.is_split_payment and split.paid_by_other == Decimal(0)


def test_an_unreadable_receipt_row_is_skipped_and_counted():
    body = receipts_body()
    body["data"][1] = {"no": "id"}
    page = parse_payload(ReceiptListPage.from_payload, body, BAKU, page=1, limit=100)
    assert page.received == 5 and page.unreadable == 1 and len(page.rows) == 4


def test_other_payments_are_what_cash_and_card_leave():
    payload = copy.deepcopy(load_payload("receipt_20855_closed_split_payment_for_order_4103.json"))["data"]
    payload["payment_methods"].append({"id": 9, "name": "Bonus", "amount": 5})
    receipt = Receipt.from_payload(payload, BAKU)
    assert receipt.paid_by_other == Decimal(5)


@client_test
def test_list_receipts_sends_the_query(clopos_api):
    clopos_api.get(api_url("receipts"), json=receipts_body())
    query = ReceiptQuery.build(shift_dates=[dt.date(2026, 3, 14)], statuses=[2])

    body = get_clopos_client().list_receipts(query)

    assert len(body["data"]) == 5
    assert sent(clopos_api, "receipts") == [dict(receipt_query_params(query))]


@client_test
def test_list_receipts_refuses_a_body_without_a_list(clopos_api):
    clopos_api.get(api_url("receipts"), json={"success": True, "data": "unexpected"})
    with pytest.raises(CloposResponseError):
        get_clopos_client().list_receipts(ReceiptQuery.build())


# --- Customers ----------------------------------------------------------------------------------


def test_a_phone_search_is_one_request_with_every_stored_form():
    forms = ("+994503332211", "(050) 333 22 11", "050-333-22-11")
    params = customer_query_params(CustomerQuery.build(limit=21, phones=forms, venue_ids=[3, 1]))
    assert params == [
        ("page", "1"),
        ("limit", "21"),
        ("filters[0][0]", "phones"),
        ("filters[0][1][0]", "+994503332211"),
        ("filters[0][1][1]", "(050) 333 22 11"),
        ("filters[0][1][2]", "050-333-22-11"),
        ("filters[1][0]", "venue_id"),
        ("filters[1][1][0]", "1"),
        ("filters[1][1][1]", "3"),
    ]


def test_a_name_search_passes_the_text():
    params = customer_query_params(CustomerQuery.build(name="Əli Məmm"))
    assert params[2:] == [("filters[0][0]", "name"), ("filters[0][1]", "Əli Məmm")]


@client_test
def test_a_plus_sign_is_percent_encoded_on_the_wire(clopos_api):
    """`+` in a query string is a space: requests must send %2B for "+994…"."""
    clopos_api.get(api_url("customers"), json=load_payload("customers_list_page1.json"))
    get_clopos_client().list_customers(CustomerQuery.build(phones=["+994503332211"]))
    assert "filters%5B0%5D%5B1%5D=%2B994503332211" in clopos_api.calls[-1].request.url


def test_customers_page_and_record():
    page = parse_payload(
        CustomerListPage.from_payload, load_payload("customers_list_page1.json"), BAKU, page=1, limit=21
    )
    assert [(c.id, c.venue_id, c.name) for c in page.rows] == [
        (512, 3, "Leyla Məmmədova"),
        (1000, 3, "Əli Məmmədov"),
        (1005, 1, "Анна Петрова"),
    ]
    assert page.rows[2].phones == ("(050) 333 22 11",)
    assert page.rows[1].address.startswith("Bakı")


@client_test
def test_get_customer_accepts_the_bare_object(clopos_api):
    clopos_api.get(api_url("customers/512"), json=load_payload("customer_512_get_by_id_bare_object.json"))
    raw = get_clopos_client().get_customer(512)
    customer = CustomerRecord.from_payload(raw, BAKU)
    assert (customer.id, customer.venue_id, customer.phone) == (512, 3, "+994503214567")


@client_test
def test_get_customer_accepts_an_envelope_too(clopos_api):
    clopos_api.get(api_url("customers/512"), json={"success": True, "data": {"id": 512, "name": "X", "venue_id": 3}})
    assert get_clopos_client().get_customer(512)["name"] == "X"


@client_test
def test_an_unknown_customer_is_not_found(clopos_api):
    clopos_api.get(api_url("customers/7"), status=404, json={"success": False, "error": "not_found"})
    with pytest.raises(CloposNotFoundError):
        get_clopos_client().get_customer(7)


@client_test
def test_payment_methods(clopos_api):
    clopos_api.get(api_url("payment-methods"), json=load_payload("payment_methods_list.json"))
    methods = [PaymentMethod.from_payload(m) for m in get_clopos_client().get_payment_methods()]
    assert [(m.id, m.name) for m in methods] == [(1, "Nağd"), (2, "Kart")]
