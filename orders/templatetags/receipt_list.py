"""The receipts list's table rows, rendered in Python like the orders list's (`order_list.py`),
at a fraction of the cost of a template per row: each value is escaped with the standard library's
`html.escape` (the characters Django's `escape` replaces) and the rows are marked safe once. Rows
carry `data-order-row` (console.js's keyboard works on any list) and `data-receipt-row`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Hashable, Sequence
from html import escape

from django import template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext, pgettext

from console import fragments
from console.templatetags.console_format import ago, amount, list_moment
from orders.receipts import ReceiptRow

register = template.Library()

ORDER_SENTINEL = 987654321987


@register.simple_tag
def receipt_rows(
    rows: Sequence[tuple[ReceiptRow, str]],
    *,
    several_days: bool,
    now: dt.datetime,
    show_payments: bool,
    cache_key: Hashable = None,
) -> SafeString:
    """<tr> for each (row, link to its receipt). With a `cache_key` (what the rows show, see
    orders/views/receipts.py), kept rendered for a minute (console/fragments.py), as the orders
    list's rows are: building them cost 40 % of a warm receipts list."""
    key = None if cache_key is None else ("receipt-rows", cache_key, several_days, show_payments)
    return fragments.cached_markup(key, lambda: _rows(rows, several_days, now, show_payments))


def _rows(
    rows: Sequence[tuple[ReceiptRow, str]], several_days: bool, now: dt.datetime, show_payments: bool
) -> SafeString:
    order_url = reverse("orders:order-detail", args=[ORDER_SENTINEL]).replace(str(ORDER_SENTINEL), "{}")
    labels = {
        "open": escape(pgettext("receipt", "Open")),
        "closed": escape(pgettext("receipt", "Closed")),
        "no_order": escape(gettext("no order")),
        "daily": escape(gettext("daily no.")),
        "returns": escape(gettext("refund")),
        "table": escape(gettext("table")),
    }
    # Every value is escaped here (stdlib html.escape: & < > " ' as Django's escape does); the
    # whole is marked safe once: a format_html per cell cost half the page.
    return mark_safe(  # noqa: S308 - built from escaped values only
        "\n".join(_row(row, url, several_days, now, show_payments, order_url, labels) for row, url in rows)
    )


def _row(
    row: ReceiptRow,
    url: str,
    several_days: bool,
    now: dt.datetime,
    show_payments: bool,
    order_url: str,
    labels: dict[str, str],
) -> str:
    receipt = row.receipt
    daily = (
        f' <span class="muted">{labels["daily"]} {receipt.daily_number}</span>'
        if receipt.daily_number is not None
        else ""
    )
    order_id = receipt.service_notification_id
    if order_id:
        order = f'<a href="{escape(order_url.format(order_id))}">{order_id}</a>'
    else:
        order = f'<span class="muted">{labels["no_order"]}</span>'
    payments = ""
    if show_payments:
        paid = ", ".join(f"{escape(p.name)} {amount(p.amount)}" for p in receipt.payments) or "—"
        payments = f"<td>{paid}</td>"
    return (
        f'<tr class="order-row" data-order-row="{receipt.id}" data-receipt-row="{receipt.id}">'
        f'<th scope="row"><a class="row-link" href="{escape(url)}" data-row-link>{receipt.id}</a>{daily}</th>'
        f"<td>{_opened(receipt.created_at, receipt.shift_date, several_days, now)}</td>"
        f"<td>{_venue(row)}</td><td>{escape(row.sale_type_name or '—')}</td>"
        f"<td>{_table(row, labels)}</td><td>{_status(row, labels)}</td><td>{order}</td>{payments}"
        f'<td class="num">{amount(receipt.total)}</td></tr>'
    )


def _opened(created: dt.datetime | None, shift: dt.date | None, several_days: bool, now: dt.datetime) -> str:
    if created is None:
        return "—"
    local = timezone.localtime(created)
    label = list_moment(local, several_days)
    shift_note = (
        f'<br><span class="muted">{escape(formats.date_format(shift, "MONTH_DAY_FORMAT"))}</span>'
        if several_days and shift
        else ""
    )
    return (
        f'<time datetime="{local.isoformat()}">{escape(label)}</time> '
        f'<span class="muted ago">{escape(ago(created, now))}</span>{shift_note}'
    )


def _venue(row: ReceiptRow) -> str:
    venue_id = row.receipt.venue_id
    name = escape(row.venue_name or "—")
    return name if venue_id is None else f'{name} <span class="muted">#{venue_id}</span>'


def _table(row: ReceiptRow, labels: dict[str, str]) -> str:
    receipt = row.receipt
    parts = []
    if receipt.table_id:
        parts.append(f"{labels['table']} #{receipt.table_id}")
    if receipt.guests:
        parts.append(_guests(receipt.guests))
    return " · ".join(parts) or "—"


@functools.lru_cache(maxsize=64)
def _guest_words(language: str, count: int) -> str:
    return escape(ngettext("%(count)d guest", "%(count)d guests", count) % {"count": count})


def _guests(count: int) -> str:
    """ "4 guests", translated once per language and count (a lookup per row cost a third)."""
    return _guest_words(get_language() or "", count)


def _status(row: ReceiptRow, labels: dict[str, str]) -> str:
    receipt = row.receipt
    if receipt.is_closed:
        badge = f'<span class="status status-closed"><span aria-hidden="true">■</span> {labels["closed"]}</span>'
    else:
        badge = f'<span class="status status-open"><span aria-hidden="true">□</span> {labels["open"]}</span>'
    extra = []
    if receipt.order_status:
        extra.append(f'<span class="muted">{escape(receipt.order_status)}</span>')
    if receipt.is_returns:
        extra.append(f'<span class="tag">{labels["returns"]}</span>')
    return f"{badge}<br>{' '.join(extra)}" if extra else badge
