"""Typed, frozen views of Clopos payloads, parsed leniently.

Clopos' documentation disagrees with itself in places (see ../shared/clopos/API.md §12), so the
parsers ignore unknown keys, accept documented nullables, accept both an object and `[]` for
`meta.order_product.product`, read money as Decimal, and read timestamps given as ISO-8601,
naive local "YYYY-MM-DD HH:MM:SS" or epoch milliseconds. A payload that cannot be read at all
(not an object, no id) raises CloposResponseError, never a bare KeyError/TypeError.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from . import listing
from .errors import CloposResponseError

ORDER_STATUSES = ("PENDING", "RECEIVED", "DELIVERED", "IGNORE")
RECEIPT_OPEN, RECEIPT_CLOSED = 1, 2
DISCOUNT_NONE, DISCOUNT_PERCENT, DISCOUNT_FIXED = 0, 1, 2


# --- Lenient scalar readers -------------------------------------------------------------------


def read_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def read_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def read_str(value: Any) -> str | None:
    """Strings stay strings; numbers become their text (ids are typed both ways upstream)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value)
    return text if text != "" else None


def read_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def read_datetime(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    """ISO-8601 (with Z or offset), naive "YYYY-MM-DD HH:MM:SS" in `tz`, or epoch ms/s."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, (int, float, Decimal)):
        seconds = float(value) / 1000 if value > 10**11 else float(value)
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def read_date(value: Any) -> dt.date | None:
    """A calendar date, "YYYY-MM-DD"; anything else is unknown."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _require_object(payload: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping) or read_int(payload.get("id")) is None:
        raise CloposResponseError(f"{what} payload is not an object with an id")
    return payload


def parse_payload[T](parser: Callable[..., T], payload: Any, *args: Any, **kwargs: Any) -> T:
    """Run a parser; anything it trips over becomes a CloposResponseError."""
    try:
        return parser(payload, *args, **kwargs)
    except CloposResponseError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, InvalidOperation, ArithmeticError) as exc:
        raise CloposResponseError(f"Unreadable payload: {type(exc).__name__}") from exc


# --- Catalogue --------------------------------------------------------------------------------


# A record Clopos sends without a name is named by its id ("#3"): a code, the same in every
# language, which pages show in place of the missing name.
@dataclass(frozen=True, slots=True)
class Venue:
    id: int
    name: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Venue:
        data = _require_object(payload, "Venue")
        return cls(id=read_int(data["id"]) or 0, name=read_str(data.get("name")) or f"#{data['id']}")


@dataclass(frozen=True, slots=True)
class SaleType:
    id: int
    name: str
    system_type: str | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SaleType:
        data = _require_object(payload, "Sale type")
        return cls(
            id=read_int(data["id"]) or 0,
            name=read_str(data.get("name")) or f"#{data['id']}",
            system_type=read_str(data.get("system_type")),
        )


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """A product or a modifier: just what the order page needs to name and price a line."""

    id: int
    name: str
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    name: str
    price: Decimal | None
    modifiers: Mapping[int, CatalogueItem]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Product:
        data = _require_object(payload, "Product")
        modifiers: dict[int, CatalogueItem] = {}
        for group in items(data.get("modificator_groups")):
            for modifier in items(group.get("modificators")):
                modifier_id = read_int(modifier.get("id"))
                if modifier_id is not None:
                    modifiers[modifier_id] = CatalogueItem(
                        id=modifier_id,
                        name=read_str(modifier.get("name")) or f"#{modifier_id}",
                        price=read_decimal(modifier.get("price")),
                    )
        return cls(
            id=read_int(data["id"]) or 0,
            name=read_str(data.get("name")) or read_str(data.get("full_name")) or f"#{data['id']}",
            price=read_decimal(data.get("price")),
            modifiers=modifiers,
        )


def parse_list[T](parser: Callable[[Mapping[str, Any]], T], payload: Any) -> tuple[T, ...]:
    if not isinstance(payload, list):
        raise CloposResponseError("Expected a list payload")
    return tuple(parser(item) for item in items(payload))


# --- Orders -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderModifier:
    modificator_id: int
    count: int
    name: str | None = None
    price: Decimal | None = None

    @property
    def total(self) -> Decimal | None:
        return None if self.price is None else self.price * self.count


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: int | None
    name: str | None
    count: int
    unit_price: Decimal | None
    modifiers: tuple[OrderModifier, ...]
    status: str | None
    note: str | None

    @property
    def modifiers_unit_total(self) -> Decimal | None:
        prices = [m.total for m in self.modifiers]
        return None if any(p is None for p in prices) else sum(cast(list[Decimal], prices), Decimal(0))

    @property
    def total(self) -> Decimal | None:
        """(unit price + modifier prices) x count; None while any price is unknown."""
        modifiers = self.modifiers_unit_total
        if self.unit_price is None or modifiers is None:
            return None
        return (self.unit_price + modifiers) * self.count

    @staticmethod
    def count_of(payload: Mapping[str, Any]) -> int:
        """The quantity of a line: `count`, else `meta.order_product.count`."""
        order_product = mapping(mapping(payload.get("meta")).get("order_product"))
        return read_int(payload.get("count")) or read_int(order_product.get("count")) or 0

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> OrderLine:
        meta = mapping(payload.get("meta"))
        order_product = mapping(meta.get("order_product"))
        # `product` is an object, or `[]` when Clopos has no snapshot: then the name is unknown
        # here and the service looks it up in the catalogue.
        snapshot = mapping(order_product.get("product"))
        product_id = read_int(payload.get("product_id")) or read_int(snapshot.get("id"))
        # v1-stored lines use product_modificators/modificator_id; v2-created ones may use
        # modifiers/modifier_id with names and prices inline. Accept both.
        raw_modifiers = items(payload.get("product_modificators")) or items(payload.get("modifiers"))
        modifiers = tuple(
            OrderModifier(
                modificator_id=read_int(m.get("modificator_id", m.get("modifier_id"))) or 0,
                count=read_int(m.get("count")) or 1,
                name=read_str(m.get("modifier_name", m.get("name"))),
                price=read_decimal(m.get("price")),
            )
            for m in raw_modifiers
        )
        return cls(
            product_id=product_id,
            name=read_str(snapshot.get("name")) or read_str(payload.get("product_name")),
            count=cls.count_of(payload),
            unit_price=read_decimal(meta.get("price"))
            if meta.get("price") is not None
            else read_decimal(payload.get("price", snapshot.get("price"))),
            modifiers=modifiers,
            status=read_str(order_product.get("status")) or read_str(payload.get("status")),
            note=read_str(payload.get("note")),
        )


@dataclass(frozen=True, slots=True)
class Customer:
    id: int | None
    name: str | None
    phone: str | None
    address: str | None


def _customer(body: Mapping[str, Any]) -> Customer:
    customer = mapping(body.get("customer"))
    return Customer(
        id=read_int(customer.get("id")),
        name=read_str(customer.get("name")),
        phone=read_str(customer.get("phone")),
        address=read_str(customer.get("address")),
    )


@dataclass(frozen=True, slots=True)
class Discount:
    type: int
    value: Decimal

    @property
    def is_percentage(self) -> bool:
        return self.type == DISCOUNT_PERCENT

    @property
    def is_fixed(self) -> bool:
        return self.type == DISCOUNT_FIXED

    def __bool__(self) -> bool:
        return self.type != DISCOUNT_NONE and bool(self.value)


@dataclass(frozen=True, slots=True)
class ReceiptRef:
    id: int
    status: int | None

    @property
    def is_closed(self) -> bool:
        return self.status == RECEIPT_CLOSED


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    venue_id: int | None
    sale_type_id: int | None
    type: str | None
    integration: str | None
    integration_uuid: str | None
    integration_id: str | None
    integration_status: str | None
    customer_ref_id: str | None
    status: str
    receive_user_id: int | None
    receive_terminal_id: int | None
    customer: Customer
    lines: tuple[OrderLine, ...]
    comment: str | None
    discount: Discount
    apply_service_charge: bool
    service_charge_value: Decimal | None
    delivery_fee: Decimal | None
    order_total: Decimal | None
    integration_response: Any
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    # None when the order has no receipt; `receipt_known` is False when Clopos did not say.
    receipt: ReceiptRef | None
    receipt_known: bool = field(default=True)

    @property
    def is_final(self) -> bool:
        return self.status in {"DELIVERED", "IGNORE"}

    @property
    def lines_total(self) -> Decimal | None:
        totals = [line.total for line in self.lines]
        return None if any(t is None for t in totals) else sum(cast(list[Decimal], totals), Decimal(0))

    @property
    def discount_amount(self) -> Decimal | None:
        if not self.discount:
            return Decimal(0)
        if self.discount.is_fixed:
            return self.discount.value
        base = self.lines_total
        if base is None:
            return None
        return (base * self.discount.value / 100).quantize(Decimal("0.01"))

    @property
    def integration_response_text(self) -> str | None:
        """integration_response is an object in the docs and a string in the SDKs."""
        value: object = self.integration_response
        if value is None or value == "" or value == {} or value == []:
            return None
        if isinstance(value, str):
            text = value
            try:
                value = json.loads(text)
            except ValueError:
                return text
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)

    @classmethod
    def from_payload(cls, payload: Any, tz: dt.tzinfo) -> Order:
        data = _require_object(payload, "Order")
        body = mapping(data.get("payload"))
        service = mapping(body.get("service"))
        meta = mapping(body.get("meta"))
        discount = mapping(meta.get("discount"))
        receipt = data.get("receipt")
        receipt_ref = None
        if isinstance(receipt, Mapping) and read_int(receipt.get("id")) is not None:
            receipt_ref = ReceiptRef(id=read_int(receipt.get("id")) or 0, status=read_int(receipt.get("status")))
        status = (read_str(data.get("status")) or "UNKNOWN").upper()
        return cls(
            id=read_int(data["id"]) or 0,
            venue_id=read_int(data.get("venue_id")) or read_int(service.get("venue_id")),
            sale_type_id=read_int(service.get("sale_type_id")) or read_int(body.get("sale_type_id")),
            type=read_str(data.get("type")),
            integration=read_str(data.get("integration")),
            integration_uuid=read_str(data.get("integration_uuid")),
            integration_id=read_str(data.get("integration_id")),
            integration_status=read_str(data.get("integration_status")),
            customer_ref_id=read_str(data.get("customer_ref_id")),
            status=status,
            receive_user_id=read_int(data.get("receive_user_id")),
            receive_terminal_id=read_int(data.get("receive_terminal_id")),
            customer=_customer(body),
            lines=tuple(OrderLine.from_payload(line) for line in items(body.get("products"))),
            comment=read_str(meta.get("comment")),
            discount=Discount(
                type=read_int(discount.get("discount_type")) or DISCOUNT_NONE,
                value=read_decimal(discount.get("discount_value")) or Decimal(0),
            ),
            apply_service_charge=read_bool(meta.get("apply_service_charge")),
            service_charge_value=read_decimal(meta.get("service_charge_value")),
            delivery_fee=read_decimal(body.get("delivery_fee")),
            order_total=read_decimal(meta.get("orderTotal")),
            integration_response=data.get("integration_response"),
            created_at=read_datetime(data.get("created_at"), tz),
            updated_at=read_datetime(data.get("updated_at"), tz),
            receipt=receipt_ref,
            receipt_known="receipt" in data,
        )


# --- Receipts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptModifier:
    name: str
    count: int
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    product_id: int | None
    name: str
    count: Decimal
    price: Decimal | None
    subtotal: Decimal | None
    discount: Decimal | None
    total: Decimal | None
    is_gift: bool
    modifiers: tuple[ReceiptModifier, ...]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ReceiptLine:
        product = mapping(payload.get("product"))
        product_id = read_int(payload.get("product_id")) or read_int(product.get("id"))
        raw_modifiers = items(payload.get("modificators")) or items(payload.get("receipt_product_modificators"))
        return cls(
            product_id=product_id,
            name=read_str(product.get("name")) or read_str(product.get("full_name")) or f"#{product_id}",
            count=read_decimal(payload.get("count")) or Decimal(0),
            price=read_decimal(payload.get("price")),
            subtotal=read_decimal(payload.get("subtotal")),
            discount=read_decimal(payload.get("receipt_discount")),
            total=read_decimal(payload.get("total")),
            is_gift=read_bool(payload.get("is_gift")),
            modifiers=tuple(
                ReceiptModifier(
                    name=read_str(m.get("name")) or f"#{read_int(m.get('modificator_id'))}",
                    count=read_int(m.get("count")) or 1,
                    price=read_decimal(m.get("price")),
                )
                for m in raw_modifiers
            ),
        )


@dataclass(frozen=True, slots=True)
class Payment:
    id: int | None
    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Receipt:
    id: int
    venue_id: int | None
    service_notification_id: int | None
    status: int | None
    order_status: str | None
    sale_type_name: str | None
    cashier_name: str | None
    subtotal: Decimal | None
    total: Decimal | None
    discount_type: int | None
    discount_value: Decimal | None
    total_discount: Decimal | None
    service_charge_percent: Decimal | None
    service_charge_value: Decimal | None
    delivery_fee: Decimal | None
    included_tax: Decimal | None
    excluded_tax: Decimal | None
    total_tax: Decimal | None
    remaining: Decimal | None
    by_cash: Decimal | None
    by_card: Decimal | None
    payments: tuple[Payment, ...]
    fiscal_id: str | None
    table_id: int | None
    hall_id: int | None
    guests: int | None
    daily_number: int | None
    monthly_number: int | None
    order_number: str | None
    created_at: dt.datetime | None
    closed_at: dt.datetime | None
    lines: tuple[ReceiptLine, ...]
    # Clopos' own reporting day of the receipt (its "shift").
    shift_date: dt.date | None = None
    sale_type_id: int | None = None
    customer_id: int | None = None
    source: str | None = None
    is_returns: bool = False
    # Staff and terminals, as ids: the Open API documents no lookup for them (only `meta.user`,
    # the cashier's name, comes with the receipt).
    user_id: int | None = None
    open_by_user_id: int | None = None
    close_by_user_id: int | None = None
    seller_id: int | None = None
    courier_id: int | None = None
    terminal_id: int | None = None
    closed_terminal_id: int | None = None

    @property
    def is_closed(self) -> bool:
        return self.status == RECEIPT_CLOSED

    @property
    def paid_by_other(self) -> Decimal | None:
        """Paid by methods other than cash and card: the payments beyond `by_cash` + `by_card`."""
        if not self.payments:
            return Decimal(0) if self.by_cash is not None or self.by_card is not None else None
        paid = sum((p.amount for p in self.payments), Decimal(0))
        return max(Decimal(0), paid - (self.by_cash or Decimal(0)) - (self.by_card or Decimal(0)))

    @property
    def is_open(self) -> bool:
        return not self.is_closed

    @property
    def is_split_payment(self) -> bool:
        return len(self.payments) > 1

    @classmethod
    def from_payload(cls, payload: Any, tz: dt.tzinfo) -> Receipt:
        data = _require_object(payload, "Receipt")
        meta = mapping(data.get("meta"))
        properties = mapping(data.get("properties"))
        return cls(
            id=read_int(data["id"]) or 0,
            venue_id=read_int(data.get("venue_id")),
            service_notification_id=read_int(data.get("service_notification_id")),
            status=read_int(data.get("status")),
            order_status=read_str(data.get("order_status")),
            sale_type_name=read_str(mapping(meta.get("sale_type")).get("name")),
            cashier_name=read_str(mapping(meta.get("user")).get("name")),
            subtotal=read_decimal(data.get("subtotal")),
            total=read_decimal(data.get("total")),
            discount_type=read_int(data.get("discount_type")),
            discount_value=read_decimal(data.get("discount_value")),
            total_discount=read_decimal(data.get("total_discount")),
            service_charge_percent=read_decimal(data.get("service_charge")),
            service_charge_value=read_decimal(data.get("service_charge_value")),
            delivery_fee=read_decimal(data.get("delivery_fee")),
            included_tax=read_decimal(data.get("i_tax")),
            excluded_tax=read_decimal(data.get("e_tax")),
            total_tax=read_decimal(data.get("total_tax")),
            remaining=read_decimal(data.get("remaining")),
            by_cash=read_decimal(data.get("by_cash")),
            by_card=read_decimal(data.get("by_card")),
            payments=tuple(
                Payment(
                    id=read_int(p.get("id")),
                    name=read_str(p.get("name")) or "Payment",
                    amount=read_decimal(p.get("amount")) or Decimal(0),
                )
                for p in items(data.get("payment_methods"))
            ),
            fiscal_id=read_str(data.get("fiscal_id")),
            table_id=read_int(data.get("table_id")),
            hall_id=read_int(data.get("hall_id")),
            guests=read_int(data.get("guests")),
            daily_number=read_int(properties.get("daily_id")),
            monthly_number=read_int(properties.get("monthly_id")),
            order_number=read_str(data.get("order_number")),
            created_at=read_datetime(data.get("created_at"), tz),
            closed_at=read_datetime(data.get("closed_at"), tz),
            lines=tuple(ReceiptLine.from_payload(line) for line in items(data.get("receipt_products"))),
            shift_date=read_date(data.get("shift_date")),
            sale_type_id=read_int(data.get("sale_type_id")),
            customer_id=read_int(data.get("customer_id")),
            source=read_str(data.get("source")),
            is_returns=read_bool(data.get("is_returns")),
            user_id=read_int(data.get("user_id")),
            open_by_user_id=read_int(data.get("open_by_user_id")),
            close_by_user_id=read_int(data.get("close_by_user_id")),
            seller_id=read_int(data.get("seller_id")),
            courier_id=read_int(data.get("courier_id")),
            terminal_id=read_int(data.get("terminal_id")),
            closed_terminal_id=read_int(data.get("closed_terminal_id")),
        )


# --- Order lists ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptSummary:
    """The receipt an order of a list embeds (`clopos.listing.embedded_receipt`): what Clopos
    said, with None for anything it left out."""

    id: int
    status: int | None
    total: Decimal | None
    closed_at: dt.datetime | None

    @property
    def is_closed(self) -> bool:
        return self.status == RECEIPT_CLOSED or (self.status is None and self.closed_at is not None)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], tz: dt.tzinfo) -> ReceiptSummary | None:
        receipt_id = read_int(payload.get("id"))
        if receipt_id is None:
            return None
        return cls(
            id=receipt_id,
            status=read_int(payload.get("status")),
            total=read_decimal(payload.get("total")),
            closed_at=read_datetime(payload.get("closed_at"), tz),
        )


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """One row of an orders list: what the list shows of an order."""

    id: int
    venue_id: int | None
    sale_type_id: int | None
    status: str
    customer: Customer
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    items_count: int
    order_total: Decimal | None
    receipt: ReceiptSummary | None
    # False when Clopos said nothing about the receipt (the embed was missing).
    receipt_known: bool

    @classmethod
    def from_payload(cls, payload: Any, tz: dt.tzinfo) -> OrderSummary:
        """The fields a list shows, read as Order.from_payload reads them, without building the
        lines (a page holds 50 orders and is parsed on every view)."""
        data = _require_object(payload, "Order")
        body = mapping(data.get("payload"))
        service = mapping(body.get("service"))
        # The embed's wire shape is one of the list's assumptions (clopos/listing.py).
        known, receipt = listing.embedded_receipt(data)
        return cls(
            id=read_int(data["id"]) or 0,
            venue_id=read_int(data.get("venue_id")) or read_int(service.get("venue_id")),
            sale_type_id=read_int(service.get("sale_type_id")) or read_int(body.get("sale_type_id")),
            status=(read_str(data.get("status")) or "UNKNOWN").upper(),
            customer=_customer(body),
            created_at=read_datetime(data.get("created_at"), tz),
            updated_at=read_datetime(data.get("updated_at"), tz),
            items_count=sum(max(0, OrderLine.count_of(line)) for line in items(body.get("products"))),
            order_total=read_decimal(mapping(body.get("meta")).get("orderTotal")),
            receipt=ReceiptSummary.from_payload(receipt, tz) if receipt is not None else None,
            receipt_known=known,
        )


@dataclass(frozen=True, slots=True)
class ListPage[T]:
    """One page of a Clopos list as Clopos sent it (nothing filtered out yet)."""

    rows: tuple[T, ...]
    # How many records matched in all, when Clopos said; None when it did not.
    total: int | None
    page: int
    limit: int
    # Rows on the page, including any we could not read.
    received: int
    unreadable: int

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.limit))

    @property
    def has_next(self) -> bool:
        if self.total is not None:
            return self.page * self.limit < self.total
        return self.received >= self.limit

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @classmethod
    def read(cls, body: Any, row: Callable[[Any], T], *, page: int, limit: int, what: str) -> Any:
        """Lenient: rows `row` cannot read are skipped and counted. Returns an instance of `cls`."""
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise CloposResponseError(f"{what} list payload has no `data` list")
        raw_rows = listing.envelope_rows(body)
        rows = []
        unreadable = 0
        for raw in raw_rows:
            try:
                rows.append(row(raw))
            except (CloposResponseError, AttributeError, KeyError, TypeError, ValueError, ArithmeticError):
                unreadable += 1
        return cls(
            rows=tuple(rows),
            total=listing.envelope_total(body),
            page=page,
            limit=limit,
            received=len(raw_rows),
            unreadable=unreadable,
        )


@dataclass(frozen=True, slots=True)
class OrderListPage(ListPage[OrderSummary]):
    """One page of `GET /v2/orders`."""

    @classmethod
    def from_payload(cls, body: Any, tz: dt.tzinfo, *, page: int, limit: int) -> OrderListPage:
        page_read: OrderListPage = cls.read(
            body, lambda raw: OrderSummary.from_payload(raw, tz), page=page, limit=limit, what="Order"
        )
        return page_read


@dataclass(frozen=True, slots=True)
class ReceiptListPage(ListPage[Receipt]):
    """One page of `GET /v2/receipts` (receipts without lines)."""

    @classmethod
    def from_payload(cls, body: Any, tz: dt.tzinfo, *, page: int, limit: int) -> ReceiptListPage:
        page_read: ReceiptListPage = cls.read(
            body, lambda raw: Receipt.from_payload(raw, tz), page=page, limit=limit, what="Receipt"
        )
        return page_read


# --- Customers and payment methods -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer of `GET /v2/customers` (or by id): what the console shows of one."""

    id: int
    venue_id: int | None
    name: str | None
    phones: tuple[str, ...]
    address: str | None
    group_name: str | None
    receipt_count: int | None
    spent: Decimal | None
    created_at: dt.datetime | None

    @property
    def phone(self) -> str | None:
        return self.phones[0] if self.phones else None

    @classmethod
    def from_payload(cls, payload: Any, tz: dt.tzinfo) -> CustomerRecord:
        data = _require_object(payload, "Customer")
        raw_phones = data.get("phones")
        phones = [read_str(p) for p in raw_phones] if isinstance(raw_phones, list) else []
        main = read_str(data.get("phone"))
        ordered = ([main] if main else []) + [p for p in phones if p]
        raw_addresses = data.get("addresses")
        addresses = [read_str(a) for a in raw_addresses] if isinstance(raw_addresses, list) else []
        return cls(
            id=read_int(data["id"]) or 0,
            venue_id=read_int(data.get("venue_id")),
            name=read_str(data.get("name")),
            phones=tuple(dict.fromkeys(ordered)),
            address=read_str(data.get("address")) or next((a for a in addresses if a), None),
            group_name=read_str(mapping(data.get("group")).get("name")),
            receipt_count=read_int(data.get("receipt_count")),
            spent=read_decimal(data.get("spent")),
            created_at=read_datetime(data.get("created_at"), tz),
        )


@dataclass(frozen=True, slots=True)
class CustomerListPage(ListPage[CustomerRecord]):
    """One page of `GET /v2/customers`."""

    @classmethod
    def from_payload(cls, body: Any, tz: dt.tzinfo, *, page: int, limit: int) -> CustomerListPage:
        page_read: CustomerListPage = cls.read(
            body, lambda raw: CustomerRecord.from_payload(raw, tz), page=page, limit=limit, what="Customer"
        )
        return page_read


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: int
    name: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> PaymentMethod:
        data = _require_object(payload, "Payment method")
        return cls(id=read_int(data["id"]) or 0, name=read_str(data.get("name")) or f"Payment method {data['id']}")
