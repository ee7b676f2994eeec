"""The orders list on the wire (clopos/listing.py) and its typed page (clopos/types.py):
query building, the dates that cover a window, envelopes, embeds, and the client call.
No network: the client test uses `responses`."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from clopos import listing
from clopos.client import get_clopos_client
from clopos.errors import CloposResponseError
from clopos.listing import OrderQuery, dates_covering, embedded_receipt, envelope_total, query_params
from clopos.types import Order, OrderListPage, OrderSummary, parse_payload
from tests.conftest import api_url, load_payload

BAKU = ZoneInfo("Asia/Baku")


def list_body(**envelope) -> dict:
    """The shared fixture page (six orders, total 23) with receipts embedded as a list would."""
    body = copy.deepcopy(load_payload("orders_list_page1.json"))
    embeds = {
        4101: None,
        4102: {"id": 20871, "status": 1, "total": "21.06", "closed_at": None},
        4103: {"id": 20855, "status": 2, "total": 38.2, "closed_at": "2026-03-14 15:02:11"},
        4104: None,
        4105: {"id": 20868, "status": 1},  # only what the by-id embed documents
    }
    for order in body["data"]:
        if order["id"] in embeds:
            order["receipt"] = embeds[order["id"]]
    body.update(envelope)
    return body


# --- Query building ---------------------------------------------------------------------------


def test_a_query_is_spelled_with_indexed_brackets():
    query = OrderQuery.build(
        page=2,
        limit=50,
        date_from=dt.date(2026, 11, 26),
        date_to=dt.date(2026, 11, 27),
        statuses=["PENDING"],
        venue_ids=[3],
        sort="created_at",
        descending=True,
    )
    assert query_params(query) == [
        ("page", "2"),
        ("limit", "50"),
        ("with[0]", "receipt"),
        ("sort[0]", "created_at"),
        ("sort[1]", "-1"),
        ("date[0]", "2026-11-26"),
        ("date[1]", "2026-11-27"),
        ("status", "PENDING"),  # one status: the documented parameter
        ("filters[0][0]", "venue_id"),
        ("filters[0][1]", "3"),
    ]


def test_several_values_go_as_one_array_filter_each():
    query = OrderQuery.build(
        statuses=["RECEIVED", "PENDING", "PENDING"], venue_ids=[7, 1, 3], sale_type_ids=[2, 3], sort="updated_at"
    )
    params = query_params(query)
    assert ("sort[0]", "updated_at") in params
    assert [p for p in params if p[0].startswith("filters")] == [
        ("filters[0][0]", "status"),
        ("filters[0][1][0]", "PENDING"),
        ("filters[0][1][1]", "RECEIVED"),
        ("filters[1][0]", "venue_id"),
        ("filters[1][1][0]", "1"),
        ("filters[1][1][1]", "3"),
        ("filters[1][1][2]", "7"),
        ("filters[2][0]", "sale_type_id"),
        ("filters[2][1][0]", "2"),
        ("filters[2][1][1]", "3"),
    ]
    assert not any(key == "status" for key, _ in params)


def test_no_filter_means_no_filter_parameters():
    params = dict(query_params(OrderQuery.build(sort="created_at", descending=False)))
    assert params == {"page": "1", "limit": "50", "with[0]": "receipt", "sort[0]": "created_at", "sort[1]": "1"}


def test_equal_queries_share_a_fingerprint_and_different_ones_do_not():
    a = OrderQuery.build(venue_ids=[3, 1], statuses=["RECEIVED", "PENDING"])
    b = OrderQuery.build(venue_ids=(1, 3, 3), statuses=("PENDING", "RECEIVED"))
    assert a == b
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != OrderQuery.build(venue_ids=[1]).fingerprint()
    assert a.fingerprint() != OrderQuery.build(venue_ids=[1, 3], statuses=["PENDING", "RECEIVED"], page=2).fingerprint()


@pytest.mark.parametrize("values", [{"sort": "total"}, {"limit": 101}, {"limit": 0}, {"page": 0}])
def test_impossible_queries_are_refused(values):
    with pytest.raises(ValueError):
        OrderQuery.build(**values)


# --- The unknown zone of date[] -----------------------------------------------------------------


def baku(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hh, mm, tzinfo=BAKU)


@pytest.mark.parametrize(
    ("cutoff_hour", "expected"),
    [
        # 06:00 Baku = 02:00 UTC: both readings give 26–27 Nov.
        (6, (dt.date(2026, 11, 26), dt.date(2026, 11, 27))),
        # 04:00 Baku = 00:00 UTC: UTC reads 26 Nov only, Baku 26–27 Nov; ask for both.
        (4, (dt.date(2026, 11, 26), dt.date(2026, 11, 27))),
        # 00:00 Baku = 20:00 UTC the day before: UTC reads 25–26 Nov, Baku 26 Nov; ask for both.
        (0, (dt.date(2026, 11, 25), dt.date(2026, 11, 26))),
    ],
)
def test_dates_cover_the_window_whether_clopos_reads_them_in_utc_or_baku(cutoff_hour, expected):
    start, end = baku(26, cutoff_hour), baku(27, cutoff_hour)
    first, last = dates_covering(start, end, BAKU)
    assert (first, last) == expected
    # Every instant of the window has its calendar date within [first, last] in both zones.
    moment = start
    while moment < end:
        for zone in (dt.UTC, BAKU):
            assert first <= moment.astimezone(zone).date() <= last, (moment, zone)
        moment += dt.timedelta(minutes=1)


# --- Envelopes and embeds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": [], "total": 23}, 23),
        ({"data": [], "total": "23"}, 23),
        ({"data": [], "pagination": {"page": 1, "per_page": 20, "total": 41, "total_pages": 3}}, 41),
        ({"data": [], "total": 0}, 0),
        ({"data": []}, None),
        ({"data": [], "total": None, "pagination": None}, None),
        ({"data": [], "total": True}, None),
        ({"data": [], "total": -1}, None),
        ([], None),
    ],
)
def test_the_total_is_read_from_either_envelope(body, expected):
    assert envelope_total(body) == expected


def test_an_embedded_receipt_is_known_only_when_the_key_is_there():
    assert embedded_receipt({"id": 1}) == (False, None)
    assert embedded_receipt({"id": 1, "receipt": None}) == (True, None)
    assert embedded_receipt({"id": 1, "receipt": {"id": 5, "extra": 1}}) == (
        True,
        {"id": 5, "status": None, "total": None, "closed_at": None},
    )
    assert embedded_receipt({"id": 1, "receipt": []}) == (True, None)


# --- The typed page ----------------------------------------------------------------------------


def parse(body, page=1, limit=6) -> OrderListPage:
    return parse_payload(OrderListPage.from_payload, body, BAKU, page=page, limit=limit)


def test_a_page_is_parsed_into_summaries():
    page = parse(list_body())

    assert [row.id for row in page.rows] == [4101, 4102, 4105, 4104, 4103, 4106]
    assert (page.total, page.pages, page.received, page.unreadable) == (23, 4, 6, 0)
    assert page.has_next and not page.has_previous
    by_id = {row.id: row for row in page.rows}
    assert by_id[4101].status == "PENDING"
    assert by_id[4101].venue_id == 3
    assert by_id[4101].customer.name == "Leyla Məmmədova"
    assert by_id[4101].created_at == dt.datetime(2026, 3, 14, 16, 42, 10, tzinfo=dt.UTC)
    assert (by_id[4101].receipt, by_id[4101].receipt_known) == (None, True)
    closed = by_id[4103].receipt
    assert (closed.id, closed.is_closed, closed.total) == (20855, True, Decimal("38.2"))
    assert closed.closed_at == dt.datetime(2026, 3, 14, 15, 2, 11, tzinfo=BAKU)
    assert by_id[4102].receipt.total == Decimal("21.06") and not by_id[4102].receipt.is_closed
    # Only id and status embedded: the total is unknown, not zero.
    assert by_id[4105].receipt.total is None and not by_id[4105].receipt.is_closed
    # No embed at all: unknown.
    assert (by_id[4106].receipt, by_id[4106].receipt_known) == (None, False)
    assert by_id[4103].items_count == sum(
        line["count"] for line in next(o for o in list_body()["data"] if o["id"] == 4103)["payload"]["products"]
    )


@pytest.mark.parametrize(
    "name",
    [
        "order_4101_pending_delivery_receipt_null.json",
        "order_4102_received_takeaway_pct_discount_open_receipt.json",
        "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
        "order_4104_ignore_no_receipt_requested.json",
        "order_4105_received_dinein_service_charge_open_receipt.json",
        "order_4106_delivered_takeaway_external_ids_empty_product_quirk.json",
    ],
)
def test_a_summary_reads_its_fields_exactly_as_the_order_parser_does(name):
    payload = load_payload(name)["data"]
    order = Order.from_payload(payload, BAKU)
    summary = OrderSummary.from_payload(payload, BAKU)
    for field in ("id", "venue_id", "sale_type_id", "status", "customer", "created_at", "updated_at", "order_total"):
        assert getattr(summary, field) == getattr(order, field), field
    assert summary.items_count == sum(line.count for line in order.lines)
    assert summary.receipt_known == order.receipt_known
    assert (summary.receipt.id if summary.receipt else None) == (order.receipt.id if order.receipt else None)


def test_without_a_total_the_page_says_whether_more_may_follow():
    body = list_body()
    del body["total"]
    full = parse(body, limit=6)
    assert (full.total, full.pages, full.has_next) == (None, None, True)
    short = parse(body, limit=50)
    assert short.has_next is False


def test_a_row_that_is_not_an_order_is_skipped_and_counted():
    body = list_body()
    body["data"] += [{"no": "id"}, "text", {"id": "x"}]
    page = parse(body)
    assert (len(page.rows), page.received, page.unreadable) == (6, 9, 3)


@pytest.mark.parametrize("body", [{"success": True, "data": "unexpected"}, {"success": True}, [], None])
def test_a_page_without_a_data_list_is_unreadable(body):
    with pytest.raises(CloposResponseError):
        parse(body)


# --- The client call ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_client_sends_one_get_with_the_query_and_returns_the_whole_body(clopos_api):
    clopos_api.get(api_url("orders"), json=list_body())
    query = OrderQuery.build(
        date_from=dt.date(2026, 3, 13), date_to=dt.date(2026, 3, 14), venue_ids=[1, 3], statuses=["PENDING"]
    )

    body = get_clopos_client().list_orders(query)

    assert body["total"] == 23 and len(body["data"]) == 6
    calls = [c for c in clopos_api.calls if urlsplit(c.request.url).path.endswith("/v2/orders")]
    assert len(calls) == 1
    sent = parse_qsl(urlsplit(calls[0].request.url).query)
    assert [(unquote(k), v) for k, v in sent] == query_params(query)
    assert calls[0].request.headers["x-token"]


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"success": True, "data": "unexpected"}, {"success": True, "data": {"id": 1}}])
def test_the_client_refuses_a_list_without_rows(clopos_api, body):
    clopos_api.get(api_url("orders"), json=body)
    with pytest.raises(CloposResponseError):
        get_clopos_client().list_orders(OrderQuery.build())


def test_every_assumption_is_named_in_the_module_docstring():
    doc = listing.__doc__
    for name in (
        "query_params",
        "dates_covering",
        "RECEIPT_EMBED",
        "RECEIPT_SUMMARY_KEYS",
        "embedded_receipt",
        "envelope_total",
        "envelope_rows",
        "MAX_LIMIT",
        "SORT_FIELDS",
    ):
        assert name in doc
