"""Receipts: one receipt (`/receipts/<id>/`, with or without an order) and the receipts list
(`/receipts/`), which works like the orders list: filters in the URL, htmx results, a refresh,
the same freshness line, stale copies and budget. The list's machinery is the orders list's
(`orders.views.lists`: filter options, paging, the htmx response); only the rows differ.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_POST, require_safe

from audit.models import AuditEntry
from audit.services import audit_record
from clopos.catalogue import cached_payment_methods, cached_sale_types, cached_venue_names
from clopos.errors import CloposError, CloposNotFoundError
from console import permissions as perms
from console.access import InputError, console_view, render_page
from console.http import ConsoleRequest
from orders import receipts
from orders.forms import ReceiptListForm, receipt_id_from_url
from orders.selectors import MAX_RANGE_DAYS
from orders.views.common import error_message, export_links, freshness_key, record_error_page
from orders.views.lists import common_filter_options, list_response, paging_context

LIST_TEMPLATE = "orders/receipt_list.html"
DETAIL_TEMPLATE = "orders/receipt_detail.html"
ROW_ID_SENTINEL = 987654321987


def receipt_error_page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """A bad id: 400 with the reason. Unknown or hidden: the same 404, audited the same way."""
    raw = str(kwargs.get("receipt_id", ""))
    if isinstance(exc, InputError):
        return record_error_page(
            request, title=gettext("Not a receipt id"), message=exc.message, status=400, retry_url=None
        )
    assert isinstance(exc, CloposError)
    if isinstance(exc, CloposNotFoundError):
        audit_record(
            request, action=AuditEntry.Action.RECEIPT_NOT_FOUND, order_id=None, venue_id=None, detail=f"receipt={raw}"
        )
        message = gettext("No receipt with this id exists in Clopos, or it belongs to a venue you cannot see.")
        title = gettext("Receipt %(id)s not found") % {"id": raw}
    else:
        message = error_message(exc)
        title = gettext("Receipt %(id)s cannot be shown right now") % {"id": raw}
    retry = reverse("orders:receipt-detail", args=[raw])
    return record_error_page(request, title=title, message=message, status=exc.http_status, retry_url=retry)


@require_safe
@console_view(perms.VIEW_ORDER, errors=receipt_error_page)
def receipt_detail(request: ConsoleRequest, receipt_id: str) -> HttpResponse:
    """Any receipt, including the dine-in sales that have no order."""
    parsed = receipt_id_from_url(receipt_id)
    page = receipts.receipt_get(receipt_id=parsed, venue_ids=request.venue_scope)
    receipt = page.receipt
    audit_record(
        request,
        action=AuditEntry.Action.VIEW_RECEIPT,
        order_id=None,
        venue_id=receipt.venue_id,
        detail=f"receipt={receipt.id}",
    )
    context = {
        "page": page,
        "receipt": receipt,
        "freshness": page.freshness,
        # Lines and payments, or a summary: the one rule, shared with the list and exports.
        "show_payments": receipts.payment_details_visible(request.user),
        "order_url": reverse("orders:order-detail", args=[receipt.service_notification_id])
        if receipt.service_notification_id
        else None,
        "customer_url": reverse("orders:customer-detail", args=[receipt.customer_id])
        if receipt.customer_id and request.user.has_perm(perms.SEARCH_CUSTOMERS)
        else None,
    }
    return render_page(request, DETAIL_TEMPLATE, context)


# --- The list -------------------------------------------------------------------------------------


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    return f"{url}?{urlencode(pairs)}" if pairs else url


def _options(request: ConsoleRequest, form: ReceiptListForm, result: receipts.ReceiptList | None) -> dict[str, Any]:
    data = cast(QueryDict, form.data)
    names = dict(result.venue_names) if result else cached_venue_names()
    sale_types = result.sale_types if result else cached_sale_types()
    methods = result.payment_methods if result else cached_payment_methods()
    picked_statuses = {s.lower() for s in data.getlist("status")}
    picked_methods = {str(v) for v in data.getlist("payment_method")}
    labels = {"open": pgettext("receipt", "Open"), "closed": pgettext("receipt", "Closed")}
    return common_filter_options(request, form, names, sale_types) | {
        "status_options": [
            {"value": word, "label": labels[word], "checked": word in picked_statuses}
            for word in receipts.RECEIPT_STATUS_WORDS
        ],
        "payment_method_options": [
            {"value": m.id, "label": m.name, "checked": str(m.id) in picked_methods} for m in methods
        ],
    }


def _list_context(
    request: ConsoleRequest,
    form: ReceiptListForm,
    result: receipts.ReceiptList | None = None,
    *,
    error_message: str | None = None,
) -> dict[str, Any]:
    filters = form.filters() if form.is_valid() else None
    pairs = filters.query_pairs() if filters else []
    list_url = reverse("orders:receipt-list")
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "error_message": error_message,
        "list_url": list_url,
        "self_url": _with_query(list_url, pairs),
        "refresh_url": _with_query(reverse("orders:receipt-list-refresh"), pairs),
        "export_links": export_links("orders:receipt-export", pairs),
        "max_range_days": MAX_RANGE_DAYS,
        "auto_refresh": None,
        "show_payments": receipts.payment_details_visible(request.user),
        **_options(request, form, result),
    }
    if result is not None and filters is not None:
        plan, page = result.plan, result.page
        detail = reverse("orders:receipt-detail", args=[ROW_ID_SENTINEL]).replace(str(ROW_ID_SENTINEL), "{}")
        context["rows"] = [(row, detail.format(row.receipt.id)) for row in result.rows]
        # What the rows show, for the rows kept rendered per process (console/fragments.py): the
        # cached page (which fetch) and the rows the plan kept, with the names given them; the
        # tag adds whether payments show and whether several days do.
        context["rows_key"] = (
            result.freshness.version,
            tuple((row.receipt.id, row.venue_name, row.sale_type_name) for row in result.rows),
        )
        context |= paging_context(
            filters, page=page.page, first_day=plan.first_day, last_day=plan.last_day, today=plan.today
        )
    return context


def receipt_list_error_page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """Clopos failed and no earlier copy of the page exists: the list page with the reason."""
    assert isinstance(exc, CloposError)
    form = ReceiptListForm(request.GET, venue_scope=request.venue_scope)
    context = _list_context(request, form, error_message=error_message(exc))
    return list_response(request, context, status=exc.http_status, template=LIST_TEMPLATE)


@require_safe
@console_view(perms.VIEW_ORDER, errors=receipt_list_error_page)
def receipt_list(request: ConsoleRequest) -> HttpResponse:
    """The receipts of a shift (Clopos' business day; today's by default) or a range of them."""
    form = ReceiptListForm(request.GET, venue_scope=request.venue_scope)
    if not form.is_valid():
        # Nothing is asked of Clopos for a query we cannot read.
        return list_response(request, _list_context(request, form), status=400, template=LIST_TEMPLATE)
    result = receipts.receipt_list_get(filters=form.filters(), venue_scope=request.venue_scope)
    context = _list_context(request, form, result)
    return list_response(request, context, template=LIST_TEMPLATE, cache_key=_list_key(request, result, context))


def _list_key(request: ConsoleRequest, result: receipts.ReceiptList, context: dict[str, Any]) -> tuple[Any, ...]:
    """Everything the receipts list's form and results show, as the orders list's key says
    (`orders.views.lists._list_key`): the filters as typed, the user's venues, what they may do
    and see (refresh, payments), the plan, the cached page (which fetch, served how: the page's
    counts come with it), the catalogue's names and the rows; language, time zone and minute are
    added by the fragment cache."""
    plan, scope = result.plan, request.venue_scope
    return (
        request.GET.urlencode(),
        tuple(sorted(scope)) if scope is not None else None,
        request.user.has_perm(perms.REFRESH_ORDER),
        context["show_payments"],
        (plan.first_day, plan.last_day, plan.today, plan.venues),
        freshness_key(result.freshness),
        tuple(sorted(result.venue_names.items())),
        result.sale_types,
        result.payment_methods,
        context["rows_key"],
        context["auto_refresh"],
    )


@require_POST
@console_view(perms.REFRESH_ORDER, errors=receipt_list_error_page)
def receipt_list_refresh(request: ConsoleRequest) -> HttpResponse:
    """Fetch this receipts page from Clopos now, past the cache (managers), logged."""
    form = ReceiptListForm(request.GET, venue_scope=request.venue_scope)
    if not form.is_valid():
        return list_response(request, _list_context(request, form), status=400, template=LIST_TEMPLATE)
    filters = form.filters()
    result = receipts.receipt_list_get(filters=filters, venue_scope=request.venue_scope, refresh=True)
    venues = result.plan.venues
    audit_record(
        request,
        action=AuditEntry.Action.REFRESH_RECEIPT_LIST,
        order_id=None,
        venue_id=next(iter(venues)) if venues is not None and len(venues) == 1 else None,
        detail=urlencode(filters.query_pairs()),
    )
    if not request.htmx:
        return redirect(_with_query(reverse("orders:receipt-list"), filters.query_pairs()))
    return list_response(request, _list_context(request, form, result), template=LIST_TEMPLATE)
