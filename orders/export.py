"""The orders and receipts lists as files: CSV (UTF-8 with a BOM, so Excel reads Azerbaijani and
Russian letters) streamed page by page, and XLSX (openpyxl, a write-only workbook written into a
temporary file, then sent).

Bounded before anything is asked of Clopos: the filters are the lists' own (validated by their
forms: at most 31 business days). Then the first page says how many rows Clopos matched; more
than CLOPOS_EXPORT_MAX_ROWS is refused with a clear message. Every page is one upstream call
through the same client (shared rate budget at low priority, per-request deadline, breaker);
when the budget is spent the export waits for the next window, at most
CLOPOS_EXPORT_BUDGET_WAIT_SECONDS in all. A page that still fails ends the file with a clear
error row (`Export.failure` says what happened), never a silent truncation.

Cells: text that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a
carriage return) is neutralised with a leading apostrophe; amounts are numbers; times are venue
time. Phones are masked unless the user may reveal them. Receipts' payment columns (cash, card,
other) follow `orders.receipts.payment_details_visible`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import logging
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from clopos import catalogue, deadline
from clopos.client import get_clopos_client
from clopos.errors import CloposError, CloposRateLimitedError
from clopos.listing import MAX_LIMIT, RECEIPT_MAX_LIMIT, CustomerQuery
from clopos.types import (
    CustomerListPage,
    ListPage,
    OrderListPage,
    OrderSummary,
    Receipt,
    ReceiptListPage,
    parse_payload,
)
from orders.masking import mask_phone
from orders.receipts import ReceiptFilters, ReceiptListPlan, plan_receipts
from orders.selectors import ListFilters, ListPlan, plan_list, zone

logger = logging.getLogger("orders.export")

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | Decimal | dt.datetime | dt.date | None


class ExportRefusedError(Exception):
    """The export is too large (or otherwise not allowed): the user gets `message`, a 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula, made inert (OWASP "CSV injection")."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Venue time without a zone: spreadsheets have none."""
    return None if moment is None else timezone.localtime(moment, zone()).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True, slots=True)
class Column[R]:
    title: str
    value: Callable[[R], Cell]


@dataclass
class Export[R]:
    """One export in progress: its columns, the first page (read when it was planned) and how to
    read the others. `rows()` yields the rows page by page; afterwards `written` and `failure`
    say how it went."""

    kind: str  # "orders" or "receipts"
    filename_stem: str
    columns: Sequence[Column[R]]
    first_page: ListPage[Any]
    read_page: Callable[[int], ListPage[Any]]
    keeps: Callable[[Any], bool]
    # Turns a page's kept rows into records (may make one call, through the given wrapper).
    prepare: Callable[[Sequence[Any], Callable[[Callable[[], Any]], Any]], Sequence[R]]
    max_rows: int
    actor: str | None
    written: int = 0
    pages_read: int = 0
    failure: CloposError | None = None
    failed_page: int | None = None
    truncated: bool = False
    _budget_waited: float = field(default=0.0, repr=False)

    @property
    def total(self) -> int | None:
        """How many records Clopos matched (before our own checks), when it said."""
        return self.first_page.total

    @property
    def headers(self) -> list[str]:
        return [column.title for column in self.columns]

    @contextlib.contextmanager
    def _upstream(self) -> Iterator[None]:
        """A Clopos deadline of its own for one call (the request's has long run out while the
        file streams), on the user's account, at low priority: exports yield the budget first."""
        token = deadline.begin(budget_seconds=settings.CLOPOS_REQUEST_BUDGET_SECONDS)
        timings = deadline.current()
        timings.actor, timings.charged, timings.low_priority = self.actor, True, True
        try:
            yield
        finally:
            deadline.end(token)

    def call[T](self, fetch: Callable[[], T]) -> T:
        """One upstream call of the export; when the shared budget is spent it waits for the
        next window (CLOPOS_EXPORT_BUDGET_WAIT_SECONDS in all for the export), then gives up."""
        while True:
            with self._upstream():
                try:
                    return fetch()
                except CloposRateLimitedError as exc:
                    wait = float(exc.retry_after or 1)
                    if self._budget_waited + wait > settings.CLOPOS_EXPORT_BUDGET_WAIT_SECONDS:
                        raise
            self._budget_waited += wait
            time.sleep(wait)

    def _page(self, number: int) -> ListPage[Any]:
        """Page `number`: the first was read when the export was planned."""
        if number == 1:
            return self.first_page
        return self.call(lambda: self.read_page(number))

    def pages(self) -> Iterator[list[list[Cell]]]:
        """The rows, one list per Clopos page, as cells. Stops at the first page that fails
        (`failure`) or at the row cap (`truncated`, when Clopos gave no total)."""
        number = 1
        while True:
            try:
                page = self._page(number)
            except CloposError as exc:
                self.failure, self.failed_page = exc, number
                logger.warning(
                    "export failed kind=%s page=%d rows_written=%d error=%s",
                    self.kind,
                    number,
                    self.written,
                    type(exc).__name__,
                )
                return
            self.pages_read += 1
            records = self.prepare([row for row in page.rows if self.keeps(row)], self.call)
            if self.written + len(records) > self.max_rows:
                records = records[: self.max_rows - self.written]
                self.truncated = True
            cells = [[column.value(record) for column in self.columns] for record in records]
            self.written += len(cells)
            yield cells
            if self.truncated or not page.has_next:
                return
            number += 1

    def error_row(self) -> list[str] | None:
        """The last row of a file that did not finish, saying why; None when it finished."""
        if self.failure is not None:
            return [
                gettext("ERROR"),
                gettext(
                    "Clopos failed on page %(page)s (%(reason)s). This file is INCOMPLETE: "
                    "%(rows)s rows were written. Download it again later."
                )
                % {"page": self.failed_page, "reason": gettext(self.failure.user_message), "rows": self.written},
            ]
        if self.truncated:
            return [
                gettext("ERROR"),
                gettext("The list has more than %(max)s rows: this file stops there. Narrow the filters.")
                % {"max": self.max_rows},
            ]
        return None

    def outcome(self) -> str:
        """For the audit row and the log: how many rows, and how it ended."""
        if self.failure is not None:
            return f"rows={self.written} FAILED page={self.failed_page} ({self.failure.kind})"
        if self.truncated:
            return f"rows={self.written} TRUNCATED at {self.max_rows}"
        return f"rows={self.written}"


def _check_size(first_page: ListPage[Any]) -> None:
    cap = int(settings.CLOPOS_EXPORT_MAX_ROWS)
    if first_page.total is not None and first_page.total > cap:
        raise ExportRefusedError(
            gettext(
                "This list has %(total)s rows in Clopos; an export holds at most %(max)s. "
                "Narrow the filters (fewer days, a venue, a status) and download again."
            )
            % {"total": first_page.total, "max": cap}
        )


def _first_page[P](read: Callable[[int], P]) -> P:
    """Page 1, inside the request (its deadline, its per-user budget), at low priority."""
    with deadline.low_priority():
        return read(1)


# --- Orders -------------------------------------------------------------------------------------


def order_columns(
    *, reveal_phones: bool, names: Mapping[int, str], sale_types: Mapping[int, str]
) -> list[Column[OrderSummary]]:
    def receipt_state(order: OrderSummary) -> str:
        if order.receipt is None:
            return gettext("none") if order.receipt_known else ""
        return gettext("closed") if order.receipt.is_closed else gettext("open")

    def phone(order: OrderSummary) -> str | None:
        return order.customer.phone if reveal_phones else mask_phone(order.customer.phone)

    return [
        Column(gettext("Order id"), lambda o: o.id),
        Column(gettext("Created (venue time)"), lambda o: _local(o.created_at)),
        Column(gettext("Venue"), lambda o: names.get(o.venue_id or 0) or (f"#{o.venue_id}" if o.venue_id else None)),
        Column(gettext("Sale type"), lambda o: sale_types.get(o.sale_type_id or 0)),
        Column(gettext("Customer"), lambda o: o.customer.name),
        Column(gettext("Phone"), phone),
        Column(gettext("Status"), lambda o: o.status),
        Column(gettext("Receipt"), receipt_state),
        Column(gettext("Receipt id"), lambda o: o.receipt.id if o.receipt else None),
        Column(gettext("Receipt total"), lambda o: o.receipt.total if o.receipt else None),
        Column(gettext("Items"), lambda o: o.items_count),
        Column(gettext("Order total"), lambda o: o.order_total),
    ]


def order_export(
    *, filters: ListFilters, venue_scope: Collection[int] | None, reveal_phones: bool, actor: str | None
) -> Export[OrderSummary]:
    """Plan an orders export and read its first page (one Clopos call). Raises
    ExportRefusedError when Clopos matched more than the cap, or a CloposError."""
    plan: ListPlan = plan_list(filters=dataclasses.replace(filters, page=1), venue_scope=venue_scope, limit=MAX_LIMIT)
    tz = zone()

    def read(number: int) -> OrderListPage:
        query = dataclasses.replace(plan.query, page=number)
        body = get_clopos_client().list_orders(query)
        return parse_payload(OrderListPage.from_payload, body, tz, page=number, limit=query.limit)

    first = _first_page(read)
    _check_size(first)
    names = catalogue.venue_names()
    sale_types = {s.id: s.name for s in catalogue.catalogue_load(catalogue.sale_types_source()) or ()}
    return Export(
        kind="orders",
        filename_stem=f"orders-{_days(plan.first_day, plan.last_day)}",
        columns=order_columns(reveal_phones=reveal_phones, names=names, sale_types=sale_types),
        first_page=first,
        read_page=read,
        keeps=plan.keeps,
        prepare=lambda rows, call: rows,
        max_rows=int(settings.CLOPOS_EXPORT_MAX_ROWS),
        actor=actor,
    )


# --- Receipts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """A receipt with its customer's name and phone, when Clopos could say."""

    receipt: Receipt
    customer_name: str | None
    customer_phone: str | None


def receipt_columns(
    *,
    reveal_phones: bool,
    payments: bool,
    names: Mapping[int, str],
    sale_types: Mapping[int, str],
) -> list[Column[ReceiptLine]]:
    def status(line: ReceiptLine) -> str:
        return gettext("closed") if line.receipt.is_closed else gettext("open")

    def customer(line: ReceiptLine) -> str | None:
        receipt = line.receipt
        if receipt.customer_id is None:
            return None
        return line.customer_name or f"#{receipt.customer_id}"

    def phone(line: ReceiptLine) -> str | None:
        return line.customer_phone if reveal_phones else mask_phone(line.customer_phone)

    columns: list[Column[ReceiptLine]] = [
        Column(gettext("Receipt id"), lambda r: r.receipt.id),
        Column(gettext("Daily id"), lambda r: r.receipt.daily_number),
        Column(gettext("Shift date"), lambda r: r.receipt.shift_date),
        Column(gettext("Opened (venue time)"), lambda r: _local(r.receipt.created_at)),
        Column(gettext("Closed (venue time)"), lambda r: _local(r.receipt.closed_at)),
        Column(
            gettext("Venue"),
            lambda r: names.get(r.receipt.venue_id or 0) or (f"#{r.receipt.venue_id}" if r.receipt.venue_id else None),
        ),
        Column(gettext("Sale type"), lambda r: r.receipt.sale_type_name or sale_types.get(r.receipt.sale_type_id or 0)),
        Column(gettext("Status"), status),
        Column(gettext("Order status"), lambda r: r.receipt.order_status),
        Column(gettext("Customer"), customer),
        Column(gettext("Phone"), phone),
        Column(gettext("Guests"), lambda r: r.receipt.guests),
        Column(gettext("Table"), lambda r: r.receipt.table_id),
        Column(gettext("Subtotal"), lambda r: r.receipt.subtotal),
        Column(gettext("Discount"), lambda r: r.receipt.total_discount),
        Column(gettext("Service charge"), lambda r: r.receipt.service_charge_value),
        Column(gettext("Delivery fee"), lambda r: r.receipt.delivery_fee),
        Column(gettext("Tax"), lambda r: r.receipt.total_tax),
        Column(gettext("Total"), lambda r: r.receipt.total),
    ]
    if payments:
        columns += [
            Column(gettext("Cash"), lambda r: r.receipt.by_cash),
            Column(gettext("Card"), lambda r: r.receipt.by_card),
            Column(gettext("Other payments"), lambda r: r.receipt.paid_by_other),
        ]
    columns += [
        Column(gettext("Fiscal id"), lambda r: r.receipt.fiscal_id),
        Column(gettext("Linked order"), lambda r: r.receipt.service_notification_id),
    ]
    return columns


def _with_customers(
    receipts: Sequence[Receipt],
    call: Callable[[Callable[[], Any]], Any],
    known: dict[int, tuple[str | None, str | None]],
) -> list[ReceiptLine]:
    """Each receipt with its customer's name and first phone. Customers not met earlier in this
    export (`known`, one entry per customer) are asked for in one `GET /v2/customers` by ids for
    the page, through the shared budget; regulars recur, so later pages need fewer or none.
    Best effort: when the call fails, the customer's id is shown."""
    missing = sorted({r.customer_id for r in receipts if r.customer_id is not None and r.customer_id not in known})
    if missing:
        query = CustomerQuery.build(limit=min(len(missing), 999), ids=missing)
        try:
            body = call(lambda: get_clopos_client().list_customers(query))
            page = parse_payload(CustomerListPage.from_payload, body, zone(), page=1, limit=query.limit)
            known.update({c.id: (c.name, c.phone) for c in page.rows})
        except CloposError as exc:
            logger.warning("export: customer names unavailable error=%s", type(exc).__name__)
    return [ReceiptLine(r, *known.get(r.customer_id or 0, (None, None))) for r in receipts]


def receipt_export(
    *,
    filters: ReceiptFilters,
    venue_scope: Collection[int] | None,
    reveal_phones: bool,
    payments: bool,
    actor: str | None,
) -> Export[ReceiptLine]:
    """Plan a receipts export and read its first page (one Clopos call). Raises
    ExportRefusedError when Clopos matched more than the cap, or a CloposError."""
    plan: ReceiptListPlan = plan_receipts(
        filters=dataclasses.replace(filters, page=1), venue_scope=venue_scope, limit=RECEIPT_MAX_LIMIT
    )
    tz = zone()

    def read(number: int) -> ReceiptListPage:
        query = dataclasses.replace(plan.query, page=number)
        body = get_clopos_client().list_receipts(query)
        return parse_payload(ReceiptListPage.from_payload, body, tz, page=number, limit=query.limit)

    first = _first_page(read)
    _check_size(first)
    names = catalogue.venue_names()
    sale_types = {s.id: s.name for s in catalogue.catalogue_load(catalogue.sale_types_source()) or ()}
    known: dict[int, tuple[str | None, str | None]] = {}
    return Export(
        kind="receipts",
        filename_stem=f"receipts-{_days(plan.first_day, plan.last_day)}",
        columns=receipt_columns(reveal_phones=reveal_phones, payments=payments, names=names, sale_types=sale_types),
        first_page=first,
        read_page=read,
        keeps=plan.keeps,
        prepare=lambda rows, call: _with_customers(rows, call, known),
        max_rows=int(settings.CLOPOS_EXPORT_MAX_ROWS),
        actor=actor,
    )


def _days(first: dt.date, last: dt.date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}_{last.isoformat()}"


# --- Writers ------------------------------------------------------------------------------------


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"  # amounts: digits, never a formula
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


def csv_chunks(export: Export[Any]) -> Iterator[bytes]:
    """The CSV file, one chunk per Clopos page: the BOM and the header first, the error row last
    when a page failed. Nothing but the current page is held in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        chunk = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return chunk

    buffer.write(BOM)
    writer.writerow([neutralise(title) for title in export.headers])
    yield flush()
    for cells in export.pages():
        writer.writerows([_text(value) for value in row] for row in cells)
        yield flush()
    error = export.error_row()
    if error is not None:
        writer.writerow(error)
        yield flush()


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, str):
        return neutralise(value)
    return value


def xlsx_file(export: Export[Any]) -> IO[bytes]:
    """The XLSX file in a temporary file (deleted when closed), positioned at its start.

    openpyxl's write-only workbook writes each row out as it is appended, so memory holds one
    page of rows, not the sheet; the workbook is assembled into the temporary file at the end
    and then sent (an XLSX is a zip: it cannot be streamed before it is complete).
    """
    from openpyxl import Workbook  # imported here: only exports need it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=export.kind)
    sheet.append([neutralise(title) for title in export.headers])
    for cells in export.pages():
        for row in cells:
            sheet.append([_xlsx_cell(value) for value in row])
    error = export.error_row()
    if error is not None:
        sheet.append(error)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    workbook.save(target)
    target.seek(0)
    return target
