"""Customers: the search (`/customers/?q=`) and one customer with their recent receipts and orders
(`/customers/<id>/`). Personal data, so:

* `search_customers` (support and above) opens both;
* every search and every customer page is written to the audit log BEFORE anything is shown
  (the query masked: a phone never in full); when the row cannot be written, nothing is shown;
* one user may search CUSTOMER_SEARCH_RATE_PER_USER times (20 a minute by default; django-ratelimit
  on the shared cache, keyed by the user), then 429 with Retry-After, so search cannot walk the
  customer base;
* phones are masked unless the user holds `reveal_customer` (whose every view is audited).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage

from audit.models import AuditEntry
from audit.services import AuditWriteError, audit_record, audit_write_now
from clopos.errors import CloposError, CloposNotFoundError
from console import permissions as perms
from console.access import InputError, console_view, render_page
from console.http import ConsoleRequest
from orders import customers
from orders.forms import CustomerSearchForm, customer_id_from_url
from orders.masking import mask_address
from orders.receipts import payment_details_visible
from orders.views.common import error_message, record_error_page

SEARCH_TEMPLATE = "orders/customer_search.html"
DETAIL_TEMPLATE = "orders/customer_detail.html"
AUDIT_REFUSED = gettext_noop(
    "This could not be recorded in the audit log, so no customer data is shown. Try again in a moment."
)


def _audit_refused(request: ConsoleRequest) -> HttpResponse:
    response = record_error_page(
        request, title=gettext("Not recorded, not shown"), message=gettext(AUDIT_REFUSED), status=503, retry_url=None
    )
    response["Retry-After"] = "5"
    return response


def _rate_words(rate: str) -> str:
    """django-ratelimit's "20/m" (or "100/5m") as words: "20 searches a minute"."""
    count, _, period = rate.partition("/")
    units = {"s": gettext("second"), "m": gettext("minute"), "h": gettext("hour"), "d": gettext("day")}
    number, unit = period[:-1], units.get(period[-1:], period)
    if number and number != "1":
        return gettext("%(count)s searches in %(number)s × %(unit)s") % {"count": count, "number": number, "unit": unit}
    return gettext("%(count)s searches a %(unit)s") % {"count": count, "unit": unit}


def _search_context(request: ConsoleRequest, form: CustomerSearchForm, **extra: Any) -> dict[str, Any]:
    return {
        "form": form,
        "search_url": reverse("orders:customer-search"),
        "limit": settings.CLOPOS_CUSTOMER_SEARCH_RESULTS,
        "rate": _rate_words(settings.CUSTOMER_SEARCH_RATE_PER_USER),
        "reveal": request.user.has_perm(perms.REVEAL_CUSTOMER),
        **extra,
    }


def customer_search_error_page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """Clopos failed (and no earlier copy of this search exists): the search page with why."""
    assert isinstance(exc, CloposError)
    form = CustomerSearchForm(request.GET)
    form.is_valid()
    context = _search_context(request, form, error_message=error_message(exc))
    return render_page(request, SEARCH_TEMPLATE, context, status=exc.http_status)


def _throttled(request: ConsoleRequest) -> int | None:
    """Count this search against the user's limit; the seconds to wait when over it, else None."""
    usage = get_usage(
        request, group="customer-search", key="user", rate=settings.CUSTOMER_SEARCH_RATE_PER_USER, increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


@require_safe
@console_view(perms.SEARCH_CUSTOMERS, errors=customer_search_error_page)
def customer_search(request: ConsoleRequest) -> HttpResponse:
    """Customers by phone (any common writing) or by part of a name: one Clopos call a search."""
    if "q" not in request.GET:
        return render_page(request, SEARCH_TEMPLATE, _search_context(request, CustomerSearchForm()))
    form = CustomerSearchForm(request.GET)
    if not form.is_valid():
        # Nothing is asked of Clopos (and nothing is counted) for a query we cannot read.
        return render_page(request, SEARCH_TEMPLATE, _search_context(request, form), status=400)
    retry_after = _throttled(request)
    if retry_after is not None:
        context = _search_context(request, form, throttled=retry_after)
        response = render_page(request, SEARCH_TEMPLATE, context, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    term: customers.SearchTerm = form.cleaned_data["q"]
    try:
        audit_write_now(
            request, action=AuditEntry.Action.SEARCH_CUSTOMERS, order_id=None, venue_id=None, detail=term.masked
        )
    except AuditWriteError:
        return _audit_refused(request)
    result = customers.customer_search(term=term, venue_scope=request.venue_scope)
    reveal = request.user.has_perm(perms.REVEAL_CUSTOMER)
    hits = [
        (
            hit,
            customers.customer_phones(hit.customer, reveal=reveal),
            reverse("orders:customer-detail", args=[hit.customer.id]),
        )
        for hit in result.hits
    ]
    return render_page(request, SEARCH_TEMPLATE, _search_context(request, form, result=result, hits=hits))


def customer_error_page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """A bad id or `days`: 400. Unknown or of another venue: the same 404, audited alike."""
    raw = str(kwargs.get("customer_id", ""))
    if isinstance(exc, InputError):
        return record_error_page(
            request, title=gettext("Cannot open this customer"), message=exc.message, status=400, retry_url=None
        )
    assert isinstance(exc, CloposError)
    if isinstance(exc, CloposNotFoundError):
        audit_record(
            request, action=AuditEntry.Action.CUSTOMER_NOT_FOUND, order_id=None, venue_id=None, detail=f"customer={raw}"
        )
        title = gettext("Customer %(id)s not found") % {"id": raw}
        message = gettext("No customer with this id exists in Clopos, or they belong to a venue you cannot see.")
    else:
        title = gettext("Customer %(id)s cannot be shown right now") % {"id": raw}
        message = error_message(exc)
    retry = reverse("orders:customer-detail", args=[raw])
    return record_error_page(request, title=title, message=message, status=exc.http_status, retry_url=retry)


@require_safe
@console_view(perms.SEARCH_CUSTOMERS, errors=customer_error_page)
def customer_detail(request: ConsoleRequest, customer_id: str) -> HttpResponse:
    """The customer, and their receipts and orders of the last `days` days (bounded)."""
    parsed = customer_id_from_url(customer_id)
    raw_days = request.GET.get("days")
    try:
        days = customers.history_days(raw_days)
    except ValueError:
        message = gettext("Choose from 1 to %(max)s days.") % {"max": settings.CLOPOS_CUSTOMER_HISTORY_MAX_DAYS}
        raise InputError(message, value=raw_days or "") from None
    detail = customers.customer_get(customer_id=parsed, venue_ids=request.venue_scope)
    try:
        audit_write_now(
            request,
            action=AuditEntry.Action.VIEW_CUSTOMER,
            order_id=None,
            venue_id=detail.customer.venue_id,
            detail=f"customer={parsed} days={days}",
        )
    except AuditWriteError:
        return _audit_refused(request)
    history = customers.customer_history(customer_id=parsed, venue_scope=request.venue_scope, days=days)
    reveal = request.user.has_perm(perms.REVEAL_CUSTOMER)
    context = {
        "detail": detail,
        "customer": detail.customer,
        "freshness": detail.freshness,
        "phones": customers.customer_phones(detail.customer, reveal=reveal),
        "address": detail.customer.address if reveal else mask_address(detail.customer.address),
        "reveal": reveal,
        "history": history,
        "show_payments": payment_details_visible(request.user),
        "day_choices": [d for d in (7, 30, 90) if d <= settings.CLOPOS_CUSTOMER_HISTORY_MAX_DAYS],
        "search_url": reverse("orders:customer-search"),
    }
    return render_page(request, DETAIL_TEMPLATE, context)
