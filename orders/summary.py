"""What a manager asks first about an order, computed from what Clopos sent: was it paid, and how;
is it overdue; do the receipt's lines differ from what was ordered.

Pure functions over `clopos.types` values (no cache, no Clopos call), used by the views and the
orders list's selectors.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.conf import settings

from clopos.types import Order, Payment, Receipt


class PaidState(StrEnum):
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    UNPAID = "unpaid"
    # No receipt yet: the POS opens one when it accepts the order.
    NO_RECEIPT = "no_receipt"
    # An ignored order never gets a receipt.
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class PaidSummary:
    """The paid state with the amounts behind it. Payment method names and amounts are not
    customer data: every role that can see the order sees them."""

    state: PaidState
    total: Decimal | None
    paid: Decimal
    remaining: Decimal | None
    payments: tuple[Payment, ...]

    @property
    def has_receipt(self) -> bool:
        return self.state not in {PaidState.NO_RECEIPT, PaidState.NEVER}


def paid_summary(*, order: Order | None, receipt: Receipt | None) -> PaidSummary:
    """Paid, partly paid or unpaid from the receipt's amounts; without a receipt, "no receipt
    yet", or "never" for an ignored order.

    The amounts decide: fully paid when nothing remains (Clopos' `remaining`, else the total
    less the payments); partly when something was paid or less than the total remains. When the
    total is unknown or zero, a closed receipt counts as paid (the POS closes a receipt once it
    is settled) and an open one as unpaid unless a payment is recorded.
    """
    if receipt is None:
        state = PaidState.NEVER if order is not None and order.status == "IGNORE" else PaidState.NO_RECEIPT
        return PaidSummary(state=state, total=None, paid=Decimal(0), remaining=None, payments=())
    paid = sum((payment.amount for payment in receipt.payments), Decimal(0))
    total = receipt.total
    remaining = receipt.remaining
    if remaining is None and total is not None:
        remaining = max(total - paid, Decimal(0))
    if (total is None or total <= 0) and receipt.is_closed:
        state = PaidState.PAID
    elif total is None or total <= 0:
        state = PaidState.PARTLY_PAID if paid > 0 else PaidState.UNPAID
    elif remaining is not None and remaining <= 0:
        state = PaidState.PAID
    elif paid > 0 or (remaining is not None and remaining < total):
        state = PaidState.PARTLY_PAID
    else:
        state = PaidState.UNPAID
    return PaidSummary(state=state, total=total, paid=paid, remaining=remaining, payments=receipt.payments)


def overdue_minutes(status: str) -> int | None:
    """How long an order may stay in `status` before it is overdue; None when it never is."""
    if status == "PENDING":
        return int(settings.CLOPOS_OVERDUE_MINUTES)
    if status == "RECEIVED":
        return int(settings.CLOPOS_OVERDUE_RECEIVED_MINUTES)
    return None


def is_overdue(status: str, created_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A PENDING order not accepted within CLOPOS_OVERDUE_MINUTES, or a RECEIVED one not
    delivered within CLOPOS_OVERDUE_RECEIVED_MINUTES, of its creation."""
    minutes = overdue_minutes(status)
    if minutes is None or created_at is None:
        return False
    return created_at < now - dt.timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class LineDifference:
    """One product whose quantity on the receipt is not what was ordered (0: not there)."""

    name: str
    ordered: Decimal
    on_receipt: Decimal

    @property
    def kind(self) -> str:
        if not self.ordered:
            return "added"
        if not self.on_receipt:
            return "removed"
        return "changed"


def line_differences(order: Order, receipt: Receipt) -> tuple[LineDifference, ...]:
    """Products whose quantity differs between the order and its receipt (matched by product
    id; lines without one are left out), in the order's order, then the receipt's additions."""
    ordered: defaultdict[int, Decimal] = defaultdict(Decimal)
    on_receipt: defaultdict[int, Decimal] = defaultdict(Decimal)
    names: dict[int, str] = {}
    for line in order.lines:
        if line.product_id is not None:
            ordered[line.product_id] += Decimal(line.count)
            names.setdefault(line.product_id, line.name or f"#{line.product_id}")
    for receipt_line in receipt.lines:
        if receipt_line.product_id is not None:
            on_receipt[receipt_line.product_id] += receipt_line.count
            names.setdefault(receipt_line.product_id, receipt_line.name)
    product_ids = list(dict.fromkeys([*ordered, *on_receipt]))
    return tuple(
        LineDifference(name=names[product_id], ordered=ordered[product_id], on_receipt=on_receipt[product_id])
        for product_id in product_ids
        if ordered[product_id] != on_receipt[product_id]
    )
