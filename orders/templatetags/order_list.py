"""The orders list's table rows, rendered in Python.

A list page shows 50 rows; through the template engine each cost about 0.25 ms (20-odd variable
lookups and filters), three quarters of the page. Like Django admin's change list
(`admin_list.items_for_result`), the rows are built with `format_html` instead, which escapes
every value the same way the template would. The markup is the one the tests and console.js
rely on: `data-order-row` on each row, `data-row-link` on its link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence

from django import template
from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext

from console import fragments
from console.templatetags.console_format import ago, clopos_text, list_moment, money, order_status
from orders.selectors import OrderRow

register = template.Library()

_RECEIPT_STATES = {"open": ("status status-open", "□"), "closed": ("status status-closed", "■")}


@register.simple_tag
def order_rows(
    rows: Sequence[tuple[OrderRow, str]],
    *,
    several_days: bool,
    now: dt.datetime,
    overdue_minutes: int,
    cache_key: Hashable = None,
) -> SafeString:
    """<tr> for each (row, link to its order). With a `cache_key` (what the rows show, see
    orders/views/lists.py), kept rendered for a minute (console/fragments.py)."""
    key = None if cache_key is None else ("order-rows", cache_key, several_days, overdue_minutes)
    return fragments.cached_markup(key, lambda: _rows(rows, several_days, now, overdue_minutes))


def _rows(
    rows: Sequence[tuple[OrderRow, str]], several_days: bool, now: dt.datetime, overdue_minutes: int
) -> SafeString:
    labels = {
        "none": pgettext("receipt", "none"),
        "open": pgettext("receipt", "Open"),
        "closed": pgettext("receipt", "Closed"),
        # Column names, shown beside each value when a phone turns the rows into label/value lists.
        "col-created": gettext("Created"),
        "col-venue": gettext("Venue"),
        "col-sale-type": gettext("Sale type"),
        "col-customer": gettext("Customer"),
        "col-status": gettext("Status"),
        "col-receipt": gettext("Receipt"),
        "col-items": gettext("Items"),
        "overdue-PENDING": gettext("Overdue: pending over %(minutes)s min") % {"minutes": overdue_minutes},
        "overdue-RECEIVED": gettext("Overdue: received over %(minutes)s min")
        % {"minutes": settings.CLOPOS_OVERDUE_RECEIVED_MINUTES},
    }
    return format_html_join("\n", "{}", ((_row(row, url, several_days, now, labels),) for row, url in rows))


def _row(row: OrderRow, url: str, several_days: bool, now: dt.datetime, labels: dict[str, str]) -> SafeString:
    order = row.order
    return format_html(
        '<tr class="order-row{}" data-order-row="{}">'
        '<th scope="row"><a class="row-link" href="{}" data-row-link>{}</a></th>'
        '<td data-label="{}">{}</td><td data-label="{}">{}</td><td data-label="{}">{}</td>'
        '<td data-label="{}">{}</td><td data-label="{}">{}</td><td data-label="{}">{}</td>'
        '<td class="num" data-label="{}">{}</td></tr>',
        " is-overdue" if row.overdue else "",
        order.id,
        url,
        order.id,
        labels["col-created"],
        _created(order.created_at, several_days, now),
        labels["col-venue"],
        _venue(row),
        labels["col-sale-type"],
        clopos_text(row.sale_type_name) or "—",
        labels["col-customer"],
        _customer(row),
        labels["col-status"],
        _status(row, labels),
        labels["col-receipt"],
        _receipt(row, labels),
        labels["col-items"],
        order.items_count,
    )


def _created(created: dt.datetime | None, several_days: bool, now: dt.datetime) -> SafeString | str:
    if created is None:
        return "—"
    local = timezone.localtime(created)
    label = list_moment(local, several_days)
    return format_html(
        '<time datetime="{}">{}</time> <span class="muted ago">{}</span>',
        dateformat.format(local, "c"),
        label,
        ago(created, now),
    )


def _venue(row: OrderRow) -> SafeString | str:
    venue_id = row.order.venue_id
    name = clopos_text(row.venue_name) or "—"
    if venue_id is None:
        return name
    return format_html('{} <span class="muted">#{}</span>', name, venue_id)


def _customer(row: OrderRow) -> SafeString | str:
    name = clopos_text(row.order.customer.name) or "—"
    if not row.contact.phone:
        return name
    return format_html('{}<br><span class="mono muted">{}</span>', name, row.contact.phone)


def _status(row: OrderRow, labels: dict[str, str]) -> SafeString:
    status: SafeString = order_status(row.order.status)
    if not row.overdue:
        return status
    return format_html(
        '{}<br><span class="overdue"><span aria-hidden="true">⚠</span> {}</span>',
        status,
        labels[f"overdue-{row.order.status}"],
    )


def _receipt(row: OrderRow, labels: dict[str, str]) -> SafeString:
    state = row.receipt_state
    if state in _RECEIPT_STATES:
        css, symbol = _RECEIPT_STATES[state]
        badge = format_html('<span class="{}"><span aria-hidden="true">{}</span> {}</span>', css, symbol, labels[state])
    elif state == "none":
        badge = format_html('<span class="muted">{}</span>', labels["none"])
    else:
        badge = format_html('<span class="muted">{}</span>', "—")  # unknown: Clopos did not say
    receipt = row.order.receipt
    if receipt is None or receipt.total is None:
        return badge
    return format_html('{}<span class="num receipt-total">{}</span>', badge, money(receipt.total))
