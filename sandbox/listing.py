"""Query parsing, filtering, sorting and paging for the sandbox's list and by-id endpoints.

Rows come from two places: the fixed dataset (``state.orders``/``state.receipts``, editable
in-process) and the living dataset (:mod:`sandbox.living`), seen as it stands at the sandbox
clock. Lists filter and sort on cheap fields first and render JSON only for the page served.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sandbox import data, living

if TYPE_CHECKING:
    from sandbox.server import SandboxState

ORDER_SORTS = ("created_at", "updated_at", "id")
RECEIPT_SORTS = ("created_at", "closed_at", "id", "total")
ORDER_FILTERS = ("venue_id", "status", "sale_type_id", "id", "customer_id")
RECEIPT_FILTERS = (
    "status",
    "sale_type_id",
    "venue_id",
    "shift_date",
    "customer_id",
    "payment_method_id",
    "terminal_id",
    "id",
)
CUSTOMER_FILTERS = ("name", "phones", "group_id", "venue_id", "id")
_INT_FILTERS = {"venue_id", "sale_type_id", "id", "customer_id", "payment_method_id", "terminal_id", "group_id"}
# The receipt summary that orders embed with with[]=receipt. An assumption: the docs do not say.
RECEIPT_SUMMARY = ("id", "service_notification_id", "status", "total", "remaining", "closed_at", "payment_methods")
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
_TERMINALS = {venue: staff[2] for venue, staff in data._STAFF.items()}


class BadParam(ValueError):
    """400 invalid_parameter."""


class InvalidStatus(BadParam):
    """The orders list's ``status`` is not a known status (Clopos has its own error body for it)."""


# --------------------------------------------------------------------------- parameters


def one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def int_param(query: dict[str, list[str]], key: str, default: int, low: int, high: int) -> int:
    raw = one(query, key)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]+", raw) or not low <= int(raw) <= high:
        raise BadParam(f"{key} must be an integer between {low} and {high}")
    return int(raw)


def with_values(query: dict[str, list[str]]) -> list[str]:
    # Accept with[]=, with[0]=, with= — parse_qs has already percent-decoded the keys.
    return [v for key, values in query.items() if re.fullmatch(r"with(\[\d*\])?", key) for v in values]


def receipt_projection(query: dict[str, list[str]]) -> tuple[str, ...] | None:
    """Columns of the receipt summary asked for by ``with[]=receipt[:col,col]``; None when not asked for."""
    for value in with_values(query):
        name, _, cols = value.partition(":")
        if name.strip() == "receipt":
            picked = tuple(c for c in (c.strip() for c in cols.split(",")) if c in RECEIPT_SUMMARY)
            return picked or RECEIPT_SUMMARY
    return None


def receipt_parts(query: dict[str, list[str]]) -> tuple[bool, bool, bool]:
    """(lines, lines' product, lines' modificators) as asked for with ``with[]=receipt_products...``."""
    values = [v.strip() for v in with_values(query)]
    lines = any(v.startswith("receipt_products") for v in values)
    product = any(v.startswith("receipt_products.product") for v in values)
    modificators = any(v.startswith("receipt_products.modificators") for v in values)
    return lines, product, modificators


def parse_page(query: dict[str, list[str]], max_limit: int) -> tuple[int, int]:
    return int_param(query, "page", 1, 1, 10**6), int_param(query, "limit", 50, 1, max_limit)


def parse_sort(query: dict[str, list[str]], allowed: tuple[str, ...]) -> tuple[str, bool]:
    """(field, descending). Defaults: created_at, -1."""
    field = one(query, "sort[0]") or "created_at"
    direction = one(query, "sort[1]") or "-1"
    if field not in allowed or direction not in ("1", "-1"):
        raise BadParam(f"sort[0] must be one of {', '.join(allowed)} and sort[1] one of 1, -1")
    return field, direction == "-1"


def _day(value: str, key: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise BadParam(f"{key} must be YYYY-MM-DD") from None


def parse_dates(query: dict[str, list[str]]) -> tuple[date | None, date | None]:
    first, last = one(query, "date[0]"), one(query, "date[1]")
    return (
        _day(first, "date[0] and date[1]") if first else None,
        _day(last, "date[0] and date[1]") if last else None,
    )


def parse_filters(query: dict[str, list[str]], allowed: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """``filters[N][0]=field`` with ``filters[N][1]=value`` or ``filters[N][1][M]=value`` (any of them)."""
    filters: list[tuple[str, list[str]]] = []
    for key in query:
        match = re.fullmatch(r"filters\[(\d+)\]\[0\]", key)
        if match:
            n = match.group(1)
            values = [v for k, vs in query.items() if re.fullmatch(rf"filters\[{n}\]\[1\](\[\d*\])?", k) for v in vs]
            filters.append((query[key][-1], values))
    for name, values in filters:
        if name not in allowed:
            raise BadParam(f"filters: unsupported field {name}; use one of {', '.join(allowed)}")
        for value in values:
            if name in _INT_FILTERS and not re.fullmatch(r"[0-9]+", value):
                raise BadParam(f"filters: {name} takes integers")
            if name == "shift_date":
                _day(value, "filters: shift_date")
    return filters


def _matches(actual: Any, values: list[str]) -> bool:
    if isinstance(actual, list | tuple):
        return any(str(a) in values for a in actual)
    return str(actual) in values


def _page(rows: list[Any], page: int, limit: int) -> list[Any]:
    return rows[(page - 1) * limit : page * limit]


def _ordinal(epoch: float, zone_offset: int) -> int:
    return int((epoch + zone_offset) // 86400) + _UNIX_ORDINAL


def _iso_epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _naive_epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=data.BAKU).timestamp()


def _window_days(now: datetime, first: date | None, last: date | None) -> list[date]:
    low = date.fromordinal(first.toordinal() - 1) if first else None
    high = date.fromordinal(last.toordinal() + 1) if last else None
    return living.visible_days(now, low, high)


def _restrict_days(days: list[date], ids: set[date | None] | None) -> list[date]:
    return days if ids is None else [d for d in days if d in ids]


def _id_days(filters: list[tuple[str, list[str]]], decode: Any) -> set[date | None] | None:
    """Days that can hold the ids an ``id`` filter asks for (None when there is no such filter)."""
    days: set[date | None] | None = None
    for name, values in filters:
        if name == "id":
            wanted = {decode(int(v)) for v in values}
            days = wanted if days is None else days & wanted
    return days


# --------------------------------------------------------------------------- receipts as embedded in orders


def summary(receipt: dict[str, Any], projection: tuple[str, ...] = RECEIPT_SUMMARY) -> dict[str, Any]:
    out = {}
    for key in projection:
        value = receipt[key]
        if key == "payment_methods":
            value = [{"id": p["id"], "name": p["name"], "amount": p["amount"]} for p in value]
        out[key] = value
    return out


def _fixed_receipt_of(state: SandboxState, order_id: int) -> dict[str, Any] | None:
    for receipt in state.receipts.values():
        if receipt.get("service_notification_id") == order_id:
            return receipt
    return None


def _living_receipt_of(record: living.LivingOrder, t: float) -> dict[str, Any] | None:
    return None if record.receipt is None else record.receipt.view(t)


# --------------------------------------------------------------------------- orders


class _OrderRow:
    __slots__ = ("created", "id", "order", "record")

    def __init__(self, order: dict[str, Any] | None, record: living.LivingOrder | None) -> None:
        self.order = order
        self.record = record
        if record is not None:
            self.id, self.created = record.id, float(record.created)
        else:
            assert order is not None
            self.id, self.created = order["id"], _iso_epoch(order["created_at"])

    def get(self, name: str, t: float) -> Any:
        record = self.record
        if record is not None:
            if name == "status":
                return record.status_at(t)
            return getattr(record, name)
        order = self.order
        assert order is not None
        if name == "sale_type_id":
            return order["payload"]["service"]["sale_type_id"]
        if name == "customer_id":
            return (order["payload"].get("customer") or {}).get("id")
        return order.get(name)

    def sort_key(self, field: str, t: float) -> tuple[float, int]:
        if field == "id":
            return (self.id, self.id)
        if field == "created_at":
            return (self.created, self.id)
        if self.record is not None:
            return (self.record.updated(t), self.id)
        return (_iso_epoch(self.order["updated_at"]), self.id)  # type: ignore[index]


def order_view(
    state: SandboxState, order: dict[str, Any], projection: tuple[str, ...] | None, index: dict[int, Any] | None = None
) -> dict[str, Any]:
    """A fixed order, with ``receipt`` (summary or null) when asked for."""
    if projection is None:
        return order
    receipt = index.get(order["id"]) if index is not None else _fixed_receipt_of(state, order["id"])
    return {**order, "receipt": None if receipt is None else summary(receipt, projection)}


def living_order_view(
    record: living.LivingOrder, t: float, projection: tuple[str, ...] | None
) -> dict[str, Any] | None:
    view = record.view(t)
    if view is None or projection is None:
        return view
    receipt = _living_receipt_of(record, t)
    return {**view, "receipt": None if receipt is None else summary(receipt, projection)}


def list_orders(state: SandboxState, query: dict[str, list[str]], now: datetime) -> dict[str, Any]:
    page, limit = parse_page(query, 100)
    status = one(query, "status")
    if status and status not in data.STATUSES:
        raise InvalidStatus(status)
    sort_field, descending = parse_sort(query, ORDER_SORTS)
    first, last = parse_dates(query)
    filters = parse_filters(query, ORDER_FILTERS)
    for name, values in filters:
        if name == "status" and any(v not in data.STATUSES for v in values):
            raise BadParam(f"filters: status must be one of {', '.join(data.STATUSES)}")
    projection = receipt_projection(query)
    t = now.timestamp()
    with state.lock:
        zone_offset = 4 * 3600 if state.config.date_zone == "Asia/Baku" else 0
    days = _restrict_days(_window_days(now, first, last), _id_days(filters, living.order_day))
    low = first.toordinal() if first else None
    high = last.toordinal() if last else None

    def keep(row: _OrderRow) -> bool:
        if status and row.get("status", t) != status:
            return False
        day = _ordinal(row.created, zone_offset)
        if (low and day < low) or (high and day > high):
            return False
        return all(_matches(row.get(name, t), values) for name, values in filters)

    rows = [_OrderRow(None, record) for d in days for record in living.living_day(d).orders if record.created <= t]
    with state.lock:
        rows += [_OrderRow(order, None) for order in state.orders.values()]
        rows = [row for row in rows if keep(row)]
        rows.sort(key=lambda row: row.sort_key(sort_field, t), reverse=descending)
        chunk = _page(rows, page, limit)
        index = None
        if projection is not None and any(row.order is not None for row in chunk):
            index = {}
            for receipt in state.receipts.values():
                index.setdefault(receipt.get("service_notification_id"), receipt)
        out = [
            order_view(state, row.order, projection, index)
            if row.order is not None
            else living_order_view(row.record, t, projection)  # type: ignore[arg-type]
            for row in chunk
        ]
    return {"success": True, "data": out, "total": len(rows)}


def get_order(state: SandboxState, order_id: int, query: dict[str, list[str]], now: datetime) -> dict[str, Any] | None:
    projection = receipt_projection(query)
    with state.lock:
        order = state.orders.get(order_id)
        if order is not None:
            return order_view(state, order, projection)
    record = living.find_order(order_id, now)
    return None if record is None else living_order_view(record, now.timestamp(), projection)


# --------------------------------------------------------------------------- receipts


class _ReceiptRow:
    __slots__ = ("created", "id", "receipt", "record")

    def __init__(self, receipt: dict[str, Any] | None, record: living.LivingReceipt | None) -> None:
        self.receipt = receipt
        self.record = record
        if record is not None:
            self.id, self.created = record.id, float(record.opened)
        else:
            assert receipt is not None
            self.id, self.created = receipt["id"], _naive_epoch(receipt["created_at"])

    def get(self, name: str, t: float) -> Any:
        record = self.record
        if record is not None:
            if name == "status":
                return 1 if record.is_open_at(t) else 2
            if name == "payment_method_id":
                return record.method_ids_at(t)
            if name == "terminal_id":
                return _TERMINALS[record.venue_id]
            return getattr(record, name)
        receipt = self.receipt
        assert receipt is not None
        if name == "payment_method_id":
            return [p["id"] for p in receipt["payment_methods"]]
        return receipt.get(name)

    def sort_key(self, field: str, t: float) -> tuple[Any, ...]:
        if field == "id":
            return (self.id,)
        if field == "created_at":
            return (self.created, self.id)
        if field == "total":
            total = self.record.total if self.record is not None else self.receipt["total"]  # type: ignore[index]
            return (total, self.id)
        if self.record is not None:
            closed = None if self.record.is_open_at(t) else self.record.closed
        else:
            text = self.receipt["closed_at"]  # type: ignore[index]
            closed = _naive_epoch(text) if text else None
        return (closed is not None, closed or 0, self.id)


def _with_lines(header: dict[str, Any], lines: list[dict[str, Any]], parts: tuple[bool, bool, bool]) -> dict[str, Any]:
    _, product, modificators = parts
    if not (product and modificators):
        drop = {k for k, keep in (("product", product), ("modificators", modificators)) if not keep}
        lines = [{k: v for k, v in line.items() if k not in drop} for line in lines]
    return {**header, "receipt_products": lines}


def _receipt_out(row: _ReceiptRow, t: float, parts: tuple[bool, bool, bool]) -> dict[str, Any]:
    if row.record is not None:
        header = row.record.view(t)
        assert header is not None
        return _with_lines(header, row.record.lines(t), parts) if parts[0] else header
    receipt = row.receipt
    assert receipt is not None
    header = {k: v for k, v in receipt.items() if k != "receipt_products"}
    return _with_lines(header, receipt.get("receipt_products", []), parts) if parts[0] else header


def list_receipts(state: SandboxState, query: dict[str, list[str]], now: datetime) -> dict[str, Any]:
    page, limit = parse_page(query, 200)
    sort_field, descending = parse_sort(query, RECEIPT_SORTS)
    first, last = parse_dates(query)
    filters = parse_filters(query, RECEIPT_FILTERS)
    for name, values in filters:
        if name == "status" and any(v not in ("1", "2") for v in values):
            raise BadParam("filters: status must be 1 (open) or 2 (closed)")
    parts = receipt_parts(query)
    t = now.timestamp()
    days = _restrict_days(_window_days(now, first, last), _id_days(filters, living.receipt_day))
    for name, values in filters:
        if name == "shift_date":  # a shift's receipts are generated on its day (and the next night)
            shifts = {date.fromisoformat(v) for v in values}
            days = [d for d in days if d in shifts or date.fromordinal(d.toordinal() - 1) in shifts]
    low = first.toordinal() if first else None
    high = last.toordinal() if last else None
    baku = 4 * 3600

    def keep(row: _ReceiptRow) -> bool:
        day = _ordinal(row.created, baku)  # the calendar date of the naive local created_at
        if (low and day < low) or (high and day > high):
            return False
        return all(_matches(row.get(name, t), values) for name, values in filters)

    rows = [_ReceiptRow(None, record) for d in days for record in living.living_day(d).receipts if record.opened <= t]
    with state.lock:
        rows += [_ReceiptRow(receipt, None) for receipt in state.receipts.values()]
        rows = [row for row in rows if keep(row)]
        rows.sort(key=lambda row: row.sort_key(sort_field, t), reverse=descending)
        out = [_receipt_out(row, t, parts) for row in _page(rows, page, limit)]
    return {"success": True, "data": out, "total": len(rows)}


def get_receipt(state: SandboxState, receipt_id: int, now: datetime) -> dict[str, Any] | None:
    """A receipt by id: always with ``receipt_products[].product`` and ``.modificators``."""
    with state.lock:
        receipt = state.receipts.get(receipt_id)
        if receipt is not None:
            return receipt
    record = living.find_receipt(receipt_id, now)
    if record is None:
        return None
    t = now.timestamp()
    return {**record.view(t), "receipt_products": record.lines(t)}  # type: ignore[dict-item]


# --------------------------------------------------------------------------- customers


def _customer_out(customer: dict[str, Any], groups: bool) -> dict[str, Any]:
    if not groups:
        return customer
    name = living.CUSTOMER_GROUPS.get(customer["group_id"])
    return {**customer, "group": None if name is None else {"id": customer["group_id"], "name": name}}


def list_customers(state: SandboxState, query: dict[str, list[str]]) -> dict[str, Any]:
    page, limit = parse_page(query, 999)
    filters = parse_filters(query, CUSTOMER_FILTERS)
    groups = any(v.strip() == "group" for v in with_values(query))
    folded = {name: [living.fold(v) for v in values] for name, values in filters if name == "name"}

    def keep(customer: dict[str, Any]) -> bool:
        for name, values in filters:
            if name == "name":
                text = living.fold(customer.get("name") or "")
                if not any(v in text for v in folded["name"]):
                    return False
            elif name == "phones":
                # Exact string match against any stored number: an assumption about Clopos.
                if not any(v in (customer.get("phones") or []) for v in values):
                    return False
            elif not _matches(customer.get(name), values):
                return False
        return True

    with state.lock:
        rows = [c for _, c in sorted(state.customers.items()) if keep(c)]
        out = [_customer_out(c, groups) for c in _page(rows, page, limit)]
    return {"success": True, "data": out, "total": len(rows)}


def get_customer(state: SandboxState, customer_id: int, query: dict[str, list[str]]) -> dict[str, Any] | None:
    groups = any(v.strip() == "group" for v in with_values(query))
    with state.lock:
        customer = state.customers.get(customer_id)
        return None if customer is None else _customer_out(customer, groups)


# --------------------------------------------------------------------------- control


def today(now: datetime) -> dict[str, Any]:
    """What ``GET /__sandbox/today`` shows: the clock, the window and today's handy ids."""
    first, last = living.window(now)
    t = now.timestamp()
    day = living.living_day(last)
    orders = [o for o in day.orders if o.created <= t]
    statuses: dict[str, int] = {}
    for order in orders:
        status = order.status_at(t) or ""
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "success": True,
        "now": now.isoformat(),
        "today": last.isoformat(),
        "business_day": living.business_day(now).isoformat(),
        "window": [first.isoformat(), last.isoformat()],
        "orders_today": len(orders),
        "orders_by_status": statuses,
        "receipts_today": sum(1 for r in day.receipts if r.opened <= t),
        "first_order_id": day.orders[0].id,
        "boundary_orders": living.boundary_orders(last),
        "boundary_receipts": living.boundary_receipts(last),
        "overdue_orders": living.overdue_orders(last),
    }
