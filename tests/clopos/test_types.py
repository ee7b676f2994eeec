"""Typed payloads: every order and receipt fixture parsed field by field, plus the leniency rules."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from clopos.errors import CloposResponseError
from clopos.types import (
    Customer,
    Discount,
    Order,
    OrderLine,
    OrderModifier,
    Payment,
    Product,
    Receipt,
    ReceiptLine,
    ReceiptModifier,
    ReceiptRef,
    SaleType,
    Venue,
    parse_list,
    parse_payload,
    read_bool,
    read_datetime,
    read_decimal,
    read_int,
    read_str,
)
from tests.conftest import PAYLOADS, load_payload

BAKU = ZoneInfo("Asia/Baku")
UTC = dt.UTC

ORDER_FIXTURES = sorted(p.name for p in PAYLOADS.glob("order_*.json"))
RECEIPT_FIXTURES = sorted(p.name for p in PAYLOADS.glob("receipt_*.json"))


def order(name: str) -> Order:
    return parse_payload(Order.from_payload, load_payload(name)["data"], BAKU)


def receipt(name: str) -> Receipt:
    return parse_payload(Receipt.from_payload, load_payload(name)["data"], BAKU)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def baku(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BAKU)


def minimal_order(**fields) -> dict:
    return {"id": 1, "status": "PENDING", **fields}


def line(**fields) -> OrderLine:
    defaults = {
        "product_id": 1,
        "name": "Item",
        "count": 1,
        "unit_price": Decimal("1"),
        "modifiers": (),
        "status": None,
        "note": None,
    }
    return OrderLine(**{**defaults, **fields})


# --- Every fixture ----------------------------------------------------------------------------


def test_fixtures_are_all_covered():
    assert ORDER_FIXTURES == [
        "order_4101_pending_delivery_receipt_null.json",
        "order_4102_received_takeaway_pct_discount_open_receipt.json",
        "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
        "order_4104_ignore_no_receipt_requested.json",
        "order_4104_update_status_ignore_200.json",
        "order_4105_received_dinein_service_charge_open_receipt.json",
        "order_4106_delivered_takeaway_external_ids_empty_product_quirk.json",
    ]
    assert len(RECEIPT_FIXTURES) == 4


@pytest.mark.parametrize("name", ORDER_FIXTURES)
def test_every_order_fixture_parses_the_same_with_decimal_decoding(name):
    """The client decodes floats as Decimal; the parse must not depend on it."""
    as_decimals = json.loads((PAYLOADS / name).read_text(encoding="utf-8"), parse_float=Decimal)
    assert Order.from_payload(as_decimals["data"], BAKU) == order(name)


@pytest.mark.parametrize("name", RECEIPT_FIXTURES)
def test_every_receipt_fixture_parses_the_same_with_decimal_decoding(name):
    as_decimals = json.loads((PAYLOADS / name).read_text(encoding="utf-8"), parse_float=Decimal)
    assert Receipt.from_payload(as_decimals["data"], BAKU) == receipt(name)


def test_orders_list_page_items_parse():
    orders = [Order.from_payload(item, BAKU) for item in load_payload("orders_list_page1.json")["data"]]

    assert [(o.id, o.status) for o in orders] == [
        (4101, "PENDING"),
        (4102, "RECEIVED"),
        (4105, "RECEIVED"),
        (4104, "IGNORE"),
        (4103, "DELIVERED"),
        (4106, "DELIVERED"),
    ]
    assert all(o.receipt is None and o.receipt_known is False for o in orders)  # list has no `with`


def test_order_4101_pending_delivery_receipt_null():
    assert order("order_4101_pending_delivery_receipt_null.json") == Order(
        id=4101,
        venue_id=3,
        sale_type_id=2,
        type="CALL_CENTER_ORDER",
        integration="call_center_new",
        integration_uuid=None,
        integration_id=None,
        integration_status="CREATED",
        customer_ref_id=None,
        status="PENDING",
        receive_user_id=None,
        receive_terminal_id=None,
        customer=Customer(
            id=512,
            name="Leyla Məmmədova",
            phone="+994503214567",
            address="Bakı, Nərimanov r., Təbriz küç. 71, m. 24",
        ),
        lines=(
            OrderLine(
                product_id=1205,
                name="Şah plov",
                count=1,
                unit_price=Decimal("18.5"),
                modifiers=(OrderModifier(modificator_id=3101, count=1, name=None, price=None),),
                status="completed",
                note=None,
            ),
            OrderLine(
                product_id=1311,
                name="Dövğa",
                count=2,
                unit_price=Decimal("4"),
                modifiers=(),
                status="completed",
                note=None,
            ),
        ),
        comment="Domofon işləmir, gələndə zəng edin",
        discount=Discount(type=0, value=Decimal("0")),
        apply_service_charge=False,
        service_charge_value=Decimal("0"),
        delivery_fee=Decimal("3"),
        order_total=Decimal("33.5000"),
        integration_response=None,
        created_at=utc(2026, 3, 14, 16, 42, 10),
        updated_at=utc(2026, 3, 14, 16, 42, 10),
        receipt=None,
        receipt_known=True,
    )


def test_order_4101_derived_values():
    parsed = order("order_4101_pending_delivery_receipt_null.json")

    assert parsed.is_final is False
    assert parsed.lines[0].total is None  # the modifier's price is unknown until the catalogue says
    assert parsed.lines[1].total == Decimal("8")
    assert parsed.lines_total is None
    assert not parsed.discount
    assert parsed.discount_amount == Decimal("0")
    assert parsed.integration_response_text is None
    assert parsed.created_at.utcoffset() == dt.timedelta(0)


def test_order_4102_received_takeaway_percent_discount_open_receipt():
    parsed = order("order_4102_received_takeaway_pct_discount_open_receipt.json")

    assert (parsed.id, parsed.status, parsed.venue_id, parsed.sale_type_id) == (4102, "RECEIVED", 3, 3)
    assert (parsed.receive_user_id, parsed.receive_terminal_id) == (14, 2)
    assert parsed.customer == Customer(id=377, name="Tural Həsənov", phone="+994552087713", address=None)
    assert [(ln.product_id, ln.name, ln.count, ln.unit_price) for ln in parsed.lines] == [
        (1402, "Lülə kabab (quzu)", 2, Decimal("9")),
        (1520, "Ət qutabı", 3, Decimal("2.2")),
        (1702, "Ayran 0.3 L", 2, Decimal("2")),
    ]
    assert [[m.modificator_id for m in ln.modifiers] for ln in parsed.lines] == [[3201, 3202], [3301], []]
    assert parsed.discount == Discount(type=1, value=Decimal("10"))
    assert parsed.discount.is_percentage and not parsed.discount.is_fixed
    assert parsed.comment == "Soğanı ayrıca qablaşdırın"
    assert parsed.order_total == Decimal("29.9700")
    assert parsed.delivery_fee == Decimal("0")
    assert parsed.receipt == ReceiptRef(id=20871, status=1)
    assert parsed.receipt.is_closed is False
    assert parsed.receipt_known is True
    assert parsed.created_at == utc(2026, 3, 14, 15, 5, 33)
    assert parsed.updated_at == utc(2026, 3, 14, 15, 7, 2)
    assert parsed.is_final is False


def test_order_4103_delivered_fixed_discount_closed_receipt():
    parsed = order("order_4103_delivered_delivery_fixed_discount_closed_receipt.json")

    assert (parsed.id, parsed.status, parsed.sale_type_id) == (4103, "DELIVERED", 2)
    assert parsed.customer_ref_id == "65f2a91cd4e7b03a1c9e2f47"
    assert parsed.customer == Customer(
        id=209, name="Nigar Əliyeva", phone="+994702409981", address="Bakı, Yasamal r., Şərifzadə küç. 12, m. 5"
    )
    assert len(parsed.lines) == 3
    assert [ln.total for ln in parsed.lines] == [Decimal("23"), Decimal("7.2"), Decimal("7")]
    assert parsed.lines_total == Decimal("37.2")
    assert parsed.discount == Discount(type=2, value=Decimal("2"))
    assert parsed.discount.is_fixed
    assert parsed.discount_amount == Decimal("2")
    assert parsed.delivery_fee == Decimal("3")
    # items − discount + delivery fee = the stored orderTotal
    assert parsed.lines_total - parsed.discount_amount + parsed.delivery_fee == parsed.order_total
    assert parsed.comment is None
    assert parsed.receipt == ReceiptRef(id=20855, status=2)
    assert parsed.receipt.is_closed
    assert parsed.is_final


def test_order_4104_ignore_without_receipt_key():
    parsed = order("order_4104_ignore_no_receipt_requested.json")

    assert (parsed.id, parsed.status) == (4104, "IGNORE")
    assert parsed.is_final
    assert parsed.receipt is None
    assert parsed.receipt_known is False  # Clopos was not asked, so it did not say
    assert (parsed.receive_user_id, parsed.receive_terminal_id) == (None, None)
    assert parsed.customer == Customer(id=601, name="Rauf Kərimov", phone="+994515550123", address=None)
    assert [(ln.product_id, ln.name) for ln in parsed.lines] == [
        (1408, "Tikə kabab (quzu)"),
        (1901, "Paxlava (2 ədəd)"),
    ]
    assert parsed.lines_total == Decimal("15.5")


def test_order_4104_update_response_without_payload():
    parsed = order("order_4104_update_status_ignore_200.json")

    assert (parsed.id, parsed.status, parsed.venue_id) == (4104, "IGNORE", 3)
    assert parsed.lines == ()
    assert parsed.lines_total == Decimal("0")
    assert parsed.customer == Customer(id=None, name=None, phone=None, address=None)
    assert parsed.sale_type_id is None
    assert parsed.discount == Discount(type=0, value=Decimal("0"))
    assert parsed.order_total is None
    assert parsed.receipt_known is False


def test_order_4105_dine_in_with_service_charge():
    parsed = order("order_4105_received_dinein_service_charge_open_receipt.json")

    assert (parsed.id, parsed.status, parsed.sale_type_id) == (4105, "RECEIVED", 1)
    assert parsed.customer == Customer(id=118, name="Elvin Quliyev", phone="+994504471290", address=None)
    assert parsed.apply_service_charge is True
    assert parsed.service_charge_value == Decimal("10")
    assert parsed.comment == "Saat 19:00-a 4 nəfərlik masa, pəncərə kənarı"
    assert [(ln.product_id, ln.count, ln.unit_price) for ln in parsed.lines] == [
        (1205, 2, Decimal("18.5")),
        (1408, 2, Decimal("12")),
        (1810, 1, Decimal("7")),
    ]
    assert parsed.lines[0].modifiers == (OrderModifier(modificator_id=3102, count=1),)
    assert parsed.receipt == ReceiptRef(id=20868, status=1)
    assert parsed.order_total == Decimal("78.1000")


def test_order_4106_external_ids_and_empty_product_quirk():
    parsed = order("order_4106_delivered_takeaway_external_ids_empty_product_quirk.json")

    assert (parsed.id, parsed.status, parsed.sale_type_id) == (4106, "DELIVERED", 3)
    assert parsed.integration_uuid == "8c1f4e2a-7b3d-4f6e-9a21-5d0c3b7e8f14"
    assert parsed.integration_id == "558213"
    assert parsed.customer_ref_id == "65f1d0a8b2c4e61f9d3a7b20"
    assert parsed.comment is None  # "" means no comment
    assert parsed.customer.name == "Səbinə Rzayeva"
    assert parsed.customer.address is None
    quirk, ayran = parsed.lines
    assert quirk == OrderLine(
        product_id=1402,
        name=None,  # meta.order_product.product == []: name unknown, looked up in the catalogue later
        count=1,
        unit_price=Decimal("9"),
        modifiers=(OrderModifier(modificator_id=3203, count=1),),
        status="completed",
        note=None,
    )
    assert (ayran.product_id, ayran.name, ayran.unit_price) == (1702, "Ayran 0.3 L", Decimal("2"))
    assert parsed.receipt == ReceiptRef(id=20850, status=2)
    assert parsed.created_at == utc(2026, 3, 13, 18, 2, 11)


def test_percent_discount_amount_once_modifier_prices_are_known():
    payload = copy.deepcopy(load_payload("order_4102_received_takeaway_pct_discount_open_receipt.json")["data"])
    prices = {3201: 0.5, 3202: 0.8, 3301: 0.7}
    for product in payload["payload"]["products"]:
        for modifier in product["product_modificators"]:
            modifier["price"] = prices[modifier["modificator_id"]]

    parsed = Order.from_payload(payload, BAKU)

    assert [ln.total for ln in parsed.lines] == [Decimal("20.6"), Decimal("8.7"), Decimal("4")]
    assert parsed.lines_total == Decimal("33.3")
    assert parsed.discount_amount == Decimal("3.33")
    assert parsed.lines_total - parsed.discount_amount == parsed.order_total


# --- Receipts ---------------------------------------------------------------------------------


def test_receipt_20871_open_for_order_4102():
    parsed = receipt("receipt_20871_open_for_order_4102.json")

    assert (parsed.id, parsed.venue_id, parsed.service_notification_id) == (20871, 3, 4102)
    assert parsed.status == 1
    assert parsed.is_open and not parsed.is_closed
    assert parsed.order_status == "IN_PROGRESS"
    assert parsed.sale_type_name == "Özü aparır"
    assert parsed.cashier_name == "Aysel Quliyeva"
    assert (parsed.subtotal, parsed.total, parsed.total_discount) == (
        Decimal("33.3"),
        Decimal("29.97"),
        Decimal("3.33"),
    )
    assert (parsed.discount_type, parsed.discount_value) == (1, Decimal("10"))
    assert parsed.remaining == Decimal("29.97")
    assert parsed.payments == ()
    assert parsed.is_split_payment is False
    assert (parsed.daily_number, parsed.monthly_number) == (37, 802)
    assert parsed.created_at == baku(2026, 3, 14, 19, 7, 2)
    assert parsed.created_at.astimezone(UTC) == utc(2026, 3, 14, 15, 7, 2)  # = the order's updated_at
    assert parsed.closed_at is None
    assert parsed.lines == (
        ReceiptLine(
            product_id=1402,
            name="Lülə kabab (quzu)",
            count=Decimal("2"),
            price=Decimal("9"),
            subtotal=Decimal("20.6"),
            discount=Decimal("2.06"),
            total=Decimal("18.54"),
            is_gift=False,
            modifiers=(
                ReceiptModifier(name="Sumaxlı soğan", count=1, price=Decimal("0.5")),
                ReceiptModifier(name="Əlavə lavaş", count=1, price=Decimal("0.8")),
            ),
        ),
        ReceiptLine(
            product_id=1520,
            name="Ət qutabı",
            count=Decimal("3"),
            price=Decimal("2.2"),
            subtotal=Decimal("8.7"),
            discount=Decimal("0.87"),
            total=Decimal("7.83"),
            is_gift=False,
            modifiers=(ReceiptModifier(name="Nar turşusu sousu", count=1, price=Decimal("0.7")),),
        ),
        ReceiptLine(
            product_id=1702,
            name="Ayran 0.3 L",
            count=Decimal("2"),
            price=Decimal("2"),
            subtotal=Decimal("4"),
            discount=Decimal("0.4"),
            total=Decimal("3.6"),
            is_gift=False,
            modifiers=(),
        ),
    )


def test_receipt_20855_closed_split_payment():
    parsed = receipt("receipt_20855_closed_split_payment_for_order_4103.json")

    assert (parsed.id, parsed.service_notification_id, parsed.status) == (20855, 4103, 2)
    assert parsed.is_closed
    assert parsed.payments == (
        Payment(id=2, name="Kart", amount=Decimal("20")),
        Payment(id=1, name="Nağd", amount=Decimal("18.2")),
    )
    assert parsed.is_split_payment
    assert sum(p.amount for p in parsed.payments) == parsed.total == Decimal("38.2")
    assert (parsed.by_card, parsed.by_cash, parsed.remaining) == (Decimal("20"), Decimal("18.2"), Decimal("0"))
    assert (parsed.discount_type, parsed.discount_value, parsed.total_discount) == (2, Decimal("2"), Decimal("2"))
    assert parsed.delivery_fee == Decimal("3")
    assert parsed.subtotal == Decimal("37.2")
    assert parsed.fiscal_id == "7Hk2sQ9mLx4Pw"
    assert parsed.order_status == "COMPLETED"
    assert parsed.sale_type_name == "Çatdırılma"
    assert (parsed.daily_number, parsed.monthly_number) == (21, 786)
    assert parsed.created_at == baku(2026, 3, 14, 14, 21, 5)
    assert parsed.closed_at == baku(2026, 3, 14, 15, 32, 15)
    assert parsed.closed_at.astimezone(UTC) == utc(2026, 3, 14, 11, 32, 15)  # = the order's updated_at
    assert parsed.closed_at.utcoffset() == dt.timedelta(hours=4)
    assert [(ln.product_id, ln.name, ln.count, ln.total) for ln in parsed.lines] == [
        (1601, "Piti", Decimal("2"), Decimal("21.76")),
        (1521, "Göyərti qutabı", Decimal("4"), Decimal("6.81")),
        (1810, "Çay dəsti (mürəbbə ilə)", Decimal("1"), Decimal("6.63")),
    ]
    assert all(ln.modifiers == () for ln in parsed.lines)


def test_receipt_20868_open_with_service_charge():
    parsed = receipt("receipt_20868_open_service_charge_for_order_4105.json")

    assert (parsed.id, parsed.service_notification_id, parsed.status) == (20868, 4105, 1)
    assert parsed.is_open
    assert parsed.service_charge_percent == Decimal("10")
    assert parsed.service_charge_value == Decimal("7.1")
    assert (parsed.subtotal, parsed.total, parsed.remaining) == (Decimal("71"), Decimal("78.1"), Decimal("78.1"))
    assert (parsed.table_id, parsed.hall_id, parsed.guests) == (12, 2, 4)
    assert parsed.sale_type_name == "Yerində"
    assert parsed.order_status == "NEW"
    assert (parsed.daily_number, parsed.monthly_number) == (33, 798)
    assert parsed.closed_at is None
    assert parsed.created_at == baku(2026, 3, 14, 18, 21, 30)
    assert len(parsed.lines) == 3
    assert parsed.lines[0].modifiers == (ReceiptModifier(name="Əlavə qazmaq", count=1, price=Decimal("1.5")),)


def test_receipt_20850_closed_card_only():
    parsed = receipt("receipt_20850_closed_card_for_order_4106.json")

    assert (parsed.id, parsed.service_notification_id, parsed.status) == (20850, 4106, 2)
    assert parsed.payments == (Payment(id=2, name="Kart", amount=Decimal("11")),)
    assert parsed.is_split_payment is False
    assert parsed.order_status == "PICKED_UP"
    assert parsed.fiscal_id is None
    assert (parsed.daily_number, parsed.monthly_number) == (58, 771)
    assert parsed.created_at.astimezone(UTC) == utc(2026, 3, 13, 18, 4, 11)
    assert parsed.closed_at.astimezone(UTC) == utc(2026, 3, 13, 18, 40, 55)
    assert parsed.lines[0].name == "Lülə kabab (quzu)"
    assert parsed.lines[0].modifiers == (ReceiptModifier(name="Acı bibər", count=1, price=Decimal("0")),)


def test_receipt_documented_modifier_field_and_missing_product():
    data = {
        "id": 1,
        "receipt_products": [
            {
                "product_id": 77,
                "count": "1.5",
                "price": "4.00",
                "product": [],
                "modificators": [],
                "receipt_product_modificators": [{"modificator_id": 9, "count": 2, "price": "0.25"}],
            }
        ],
    }

    (only,) = Receipt.from_payload(data, BAKU).lines

    assert only.name == "#77"  # no name from Clopos: the id, in no language
    assert only.count == Decimal("1.5")
    assert only.price == Decimal("4.00")
    assert only.modifiers == (ReceiptModifier(name="#9", count=2, price=Decimal("0.25")),)


# --- Leniency ---------------------------------------------------------------------------------


def test_unknown_keys_are_ignored():
    base = load_payload("order_4101_pending_delivery_receipt_null.json")["data"]
    noisy = copy.deepcopy(base)
    noisy["brand_new_field"] = {"nested": [1, 2]}
    noisy["payload"]["surprise"] = "x"
    noisy["payload"]["products"][0]["extra"] = None
    noisy["payload"]["customer"]["loyalty"] = {"points": 3}

    assert Order.from_payload(noisy, BAKU) == Order.from_payload(base, BAKU)


def test_integration_id_given_as_int_becomes_text():
    assert Order.from_payload(minimal_order(integration_id=558213), BAKU).integration_id == "558213"


@pytest.mark.parametrize(
    "value",
    ['{"status": "ok", "ref": 558213}', {"status": "ok", "ref": 558213}],
    ids=["json-string", "object"],
)
def test_integration_response_is_pretty_text(value):
    parsed = Order.from_payload(minimal_order(integration_response=value), BAKU)

    assert parsed.integration_response_text == '{\n  "ref": 558213,\n  "status": "ok"\n}'


@pytest.mark.parametrize(
    ("value", "expected"), [("accepted", "accepted"), (None, None), ("", None), ({}, None), ([], None)]
)
def test_integration_response_other_shapes(value, expected):
    assert Order.from_payload(minimal_order(integration_response=value), BAKU).integration_response_text == expected


def test_money_given_as_strings():
    payload = minimal_order(
        payload={
            "delivery_fee": "3.00",
            "products": [{"product_id": 5, "count": "2", "meta": {"price": "9.50"}}],
            "meta": {"orderTotal": "22.0000", "discount": {"discount_type": "2", "discount_value": "1.50"}},
        }
    )

    parsed = Order.from_payload(payload, BAKU)

    assert parsed.lines[0].unit_price == Decimal("9.50")
    assert parsed.lines[0].count == 2
    assert parsed.lines[0].total == Decimal("19.00")
    assert parsed.delivery_fee == Decimal("3.00")
    assert parsed.order_total == Decimal("22.0000")
    assert parsed.discount == Discount(type=2, value=Decimal("1.50"))
    assert parsed.discount_amount == Decimal("1.50")


def test_iso_timestamp_with_offset():
    parsed = Order.from_payload(minimal_order(created_at="2026-03-14T20:42:10+04:00"), BAKU)

    assert parsed.created_at == utc(2026, 3, 14, 16, 42, 10)
    assert parsed.created_at.utcoffset() == dt.timedelta(hours=4)


def test_epoch_milliseconds_and_seconds():
    moment = utc(2026, 3, 14, 16, 42, 10)
    millis = int(moment.timestamp() * 1000)

    parsed = Order.from_payload(minimal_order(created_at=millis, updated_at=int(moment.timestamp())), BAKU)

    assert parsed.created_at == moment
    assert parsed.created_at.tzinfo is not None
    assert parsed.updated_at == moment


def test_naive_order_timestamp_is_read_in_the_given_zone():
    parsed = Order.from_payload(minimal_order(created_at="2026-03-14 20:42:10"), BAKU)

    assert parsed.created_at == utc(2026, 3, 14, 16, 42, 10)


@pytest.mark.parametrize("garbage", ["not a date", "2026-13-45 99:00:00", "", True, {"date": 1}, [2026, 3, 14]])
def test_garbage_dates_are_none(garbage):
    assert Order.from_payload(minimal_order(created_at=garbage), BAKU).created_at is None
    assert read_datetime(garbage, BAKU) is None


def test_missing_payload_gives_an_order_without_lines():
    parsed = Order.from_payload({"id": "4107", "status": "received"}, BAKU)

    assert parsed.id == 4107
    assert parsed.status == "RECEIVED"
    assert parsed.lines == ()
    assert parsed.customer == Customer(id=None, name=None, phone=None, address=None)


def test_missing_status_is_unknown():
    assert Order.from_payload({"id": 1}, BAKU).status == "UNKNOWN"


@pytest.mark.parametrize("payload", [None, [], "4101", 4101, {"no_id": 1}, {"id": None}, {"id": "abc"}, {"id": True}])
@pytest.mark.parametrize("parser", [Order.from_payload, Receipt.from_payload], ids=["order", "receipt"])
def test_unreadable_payloads_raise_response_error(parser, payload):
    with pytest.raises(CloposResponseError):
        parse_payload(parser, payload, BAKU)


def test_parse_payload_wraps_parser_crashes():
    def crashes(payload, tz):
        return payload["missing"]

    with pytest.raises(CloposResponseError) as excinfo:
        parse_payload(crashes, {}, BAKU)

    assert isinstance(excinfo.value.__cause__, KeyError)


def test_v2_create_shape_line_with_inline_modifier_names_and_prices():
    payload = minimal_order(
        payload={
            "products": [
                {
                    "product_id": 1402,
                    "product_name": "Lülə kabab (quzu)",
                    "count": 2,
                    "price": 9,
                    "modifiers": [
                        {"modifier_id": 3201, "modifier_name": "Sumaxlı soğan", "price": 0.5, "count": 1},
                        {"modifier_id": 3202, "name": "Əlavə lavaş", "price": "0.80"},
                    ],
                }
            ]
        }
    )

    (only,) = Order.from_payload(payload, BAKU).lines

    assert only.product_id == 1402
    assert only.name == "Lülə kabab (quzu)"
    assert only.unit_price == Decimal("9")
    assert only.modifiers == (
        OrderModifier(modificator_id=3201, count=1, name="Sumaxlı soğan", price=Decimal("0.5")),
        OrderModifier(modificator_id=3202, count=1, name="Əlavə lavaş", price=Decimal("0.80")),
    )
    assert only.modifiers_unit_total == Decimal("1.3")
    assert only.total == Decimal("20.6")


def test_line_product_id_falls_back_to_the_snapshot():
    payload = {"meta": {"order_product": {"product": {"id": 9, "name": "Çay", "price": 1}, "count": 3}}}

    parsed = OrderLine.from_payload(payload)

    assert (parsed.product_id, parsed.name, parsed.count, parsed.unit_price) == (9, "Çay", 3, Decimal("1"))


# --- Totals -----------------------------------------------------------------------------------


def test_line_total_includes_modifier_prices_times_count():
    modifiers = (
        OrderModifier(modificator_id=1, count=1, price=Decimal("0.5")),
        OrderModifier(modificator_id=2, count=2, price=Decimal("0.25")),
    )

    assert line(count=3, unit_price=Decimal("2"), modifiers=modifiers).total == Decimal("9")


def test_line_total_is_none_while_a_price_is_unknown():
    assert line(unit_price=None).total is None
    assert line(modifiers=(OrderModifier(modificator_id=1, count=1, price=None),)).total is None
    assert line(modifiers=(OrderModifier(modificator_id=1, count=1, price=Decimal("0")),)).total == Decimal("1")


def test_order_discount_amounts():
    base = Order.from_payload(minimal_order(), BAKU)
    lines = (line(count=2, unit_price=Decimal("10")), line(count=1, unit_price=Decimal("5.55")))

    percent = copy.replace(base, lines=lines, discount=Discount(type=1, value=Decimal("10")))
    fixed = copy.replace(base, lines=lines, discount=Discount(type=2, value=Decimal("2")))
    unknown = copy.replace(base, lines=(line(unit_price=None),), discount=Discount(type=1, value=Decimal("10")))
    zero = copy.replace(base, lines=lines, discount=Discount(type=1, value=Decimal("0")))

    assert percent.lines_total == Decimal("25.55")
    assert percent.discount_amount == Decimal("2.56")  # 2.555 rounded to cents
    assert fixed.discount_amount == Decimal("2")
    assert unknown.lines_total is None
    assert unknown.discount_amount is None
    assert fixed.discount_amount is not None and unknown.discount.is_percentage
    assert zero.discount_amount == Decimal("0")


# --- Scalars and catalogue --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("9.50", Decimal("9.50")), (18.5, Decimal("18.5")), (3, Decimal("3")), (None, None), ("", None), ("abc", None)]
    + [(True, None), ("NaN", None), ("Infinity", None)],
)
def test_read_decimal(value, expected):
    assert read_decimal(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), ("3", 3), (" 42 ", 42), (3.0, 3), ("3.5", None), (None, None), (True, None), ("x", None)],
)
def test_read_int(value, expected):
    assert read_int(value) == expected


def test_read_str_and_bool():
    assert read_str(558213) == "558213"
    assert read_str("") is None
    assert read_str({"a": 1}) is None
    assert [read_bool(v) for v in (True, 1, "1", "true", "Yes")] == [True] * 5
    assert [read_bool(v) for v in (False, 0, "0", "false", "", None)] == [False] * 6


def test_catalogue_payloads():
    product = Product.from_payload(load_payload("product_1402_get_by_id_with_modificator_groups.json")["data"])
    venues = parse_list(Venue.from_payload, load_payload("venues_list.json")["data"])
    sale_types = parse_list(SaleType.from_payload, load_payload("sale_types_list.json")["data"])

    assert (product.id, product.name, product.price) == (1402, "Lülə kabab (quzu)", Decimal("9"))
    assert {i: (m.name, m.price) for i, m in product.modifiers.items()} == {
        3201: ("Sumaxlı soğan", Decimal("0.5")),
        3202: ("Əlavə lavaş", Decimal("0.8")),
        3203: ("Acı bibər", Decimal("0")),
    }
    assert venues == (Venue(id=1, name="Köhnə Şəhər — İçərişəhər"), Venue(id=3, name="Köhnə Şəhər — Nərimanov"))
    assert [(s.id, s.name, s.system_type) for s in sale_types] == [
        (1, "Yerində", "IN"),
        (2, "Çatdırılma", "DELIVERY"),
        (3, "Özü aparır", "TAKEAWAY"),
    ]
    with pytest.raises(CloposResponseError):
        parse_list(Venue.from_payload, {"id": 1})
