"""The order's paid state, overdue cue and the receipt-versus-order line differences."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from clopos.types import Order, Receipt
from orders.summary import PaidState, is_overdue, line_differences, paid_summary
from tests.conftest import ORDERS, RECEIPTS, load_payload

BAKU = ZoneInfo("Asia/Baku")


def order(order_id: int, **changes) -> Order:
    data = load_payload(ORDERS[order_id])["data"]
    data.update(changes)
    return Order.from_payload(data, BAKU)


def receipt(receipt_id: int = 20855, **changes) -> Receipt:
    data = copy.deepcopy(load_payload(RECEIPTS[receipt_id])["data"])
    data.update(changes)
    return Receipt.from_payload(data, BAKU)


def test_a_closed_split_payment_is_paid_with_both_methods():
    summary = paid_summary(order=order(4103), receipt=receipt(20855))

    assert summary.state == PaidState.PAID
    assert summary.total == Decimal("38.2")
    assert summary.paid == Decimal("38.2")
    assert [(p.name, p.amount) for p in summary.payments] == [("Kart", Decimal("20")), ("Nağd", Decimal("18.2"))]


def test_an_open_receipt_with_nothing_paid_is_unpaid():
    summary = paid_summary(order=order(4102), receipt=receipt(20871))

    assert summary.state == PaidState.UNPAID
    assert summary.remaining == Decimal("29.97")


def test_a_receipt_with_part_of_the_total_paid_is_partly_paid():
    partly = receipt(20871, payment_methods=[{"id": 1, "name": "Nağd", "amount": 10}], remaining=19.97)

    summary = paid_summary(order=order(4102), receipt=partly)

    assert summary.state == PaidState.PARTLY_PAID
    assert summary.paid == Decimal("10")
    assert summary.remaining == Decimal("19.97")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # Clopos' remaining missing: the total less the payments decides.
        ({"remaining": None, "payment_methods": [{"id": 2, "name": "Kart", "amount": 38.2}]}, PaidState.PAID),
        ({"remaining": None, "payment_methods": [{"id": 2, "name": "Kart", "amount": 5}]}, PaidState.PARTLY_PAID),
        ({"remaining": None, "payment_methods": [], "status": 1}, PaidState.UNPAID),
        # Nothing remains though no method is listed (paid by deposit, say): paid.
        ({"remaining": 0, "payment_methods": []}, PaidState.PAID),
        # No total: a closed receipt is settled; an open one is not.
        ({"total": None, "remaining": None}, PaidState.PAID),
        ({"total": None, "remaining": None, "status": 1, "payment_methods": []}, PaidState.UNPAID),
        ({"total": 0, "remaining": 0, "status": 1, "payment_methods": []}, PaidState.UNPAID),
    ],
)
def test_the_amounts_decide(changes, expected):
    assert paid_summary(order=order(4103), receipt=receipt(20855, **changes)).state == expected


def test_an_order_without_a_receipt_has_none_yet():
    summary = paid_summary(order=order(4101), receipt=None)

    assert summary.state == PaidState.NO_RECEIPT
    assert not summary.has_receipt
    assert summary.payments == ()


def test_an_ignored_order_will_never_have_a_receipt():
    assert paid_summary(order=order(4104), receipt=None).state == PaidState.NEVER


def test_overdue_pending_and_received_have_their_own_thresholds(settings):
    settings.CLOPOS_OVERDUE_MINUTES = 30
    settings.CLOPOS_OVERDUE_RECEIVED_MINUTES = 120
    now = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC)

    assert is_overdue("PENDING", now - dt.timedelta(minutes=31), now)
    assert not is_overdue("PENDING", now - dt.timedelta(minutes=29), now)
    assert is_overdue("RECEIVED", now - dt.timedelta(minutes=121), now)
    assert not is_overdue("RECEIVED", now - dt.timedelta(minutes=31), now)
    assert not is_overdue("DELIVERED", now - dt.timedelta(days=240), now)
    assert not is_overdue("IGNORE", now - dt.timedelta(days=240), now)
    assert not is_overdue("PENDING", None, now)


def test_receipt_lines_that_match_the_order_show_no_difference():
    data = load_payload(ORDERS[4103])["data"]
    products = [(line.product_id, line.count) for line in Order.from_payload(data, BAKU).lines]
    matching = receipt(
        20855,
        receipt_products=[
            {"product_id": product_id, "count": count, "product": {"id": product_id, "name": f"P{product_id}"}}
            for product_id, count in products
        ],
    )

    assert line_differences(order(4103), matching) == ()


def test_receipt_lines_that_differ_are_named():
    the_order = order(4103)
    first = the_order.lines[0]
    changed = receipt(
        20855,
        receipt_products=[
            {"product_id": first.product_id, "count": first.count + 1, "product": {"name": "Piti"}},
            {"product_id": 999, "count": 2, "product": {"id": 999, "name": "Çay"}},
        ],
    )

    differences = {d.name: (d.kind, d.ordered, d.on_receipt) for d in line_differences(the_order, changed)}

    assert differences["Piti"] == ("changed", Decimal(first.count), Decimal(first.count + 1))
    assert differences["Çay"] == ("added", Decimal(0), Decimal(2))
    removed = [d for d in line_differences(the_order, changed) if d.kind == "removed"]
    assert len(removed) == len({line.product_id for line in the_order.lines[1:]} - {first.product_id})
