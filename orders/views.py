"""Thin views: check access, validate the id, call one service, pick a template or partial.

Every view declares its permission with `console_view`; venue scope is enforced in the service
layer by passing `request.venue_scope` to every call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from orders import permissions as perms
from orders import services, timing
from orders.clopos import (
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposUnavailableError,
)
from orders.forms import INVALID_ORDER_ID, AuditFilterForm, OrderLookupForm, parse_order_id
from orders.masking import customer_contact
from staff.access import has_console_access, venue_scope
from staff.audit import audit_record
from staff.models import AuditEntry

DETAIL_TEMPLATE = "orders/order_detail.html"


def _render(request: HttpRequest, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    with timing.timed("render"):
        return render(request, template, context, status=status)


def console_view(permission: str) -> Callable:
    """Deny by default: a role with access to at least one venue, and `permission`."""

    def decorator(view: Callable) -> Callable:
        # Customer data must not linger in shared caches or the browser's history after logout.
        @never_cache
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not has_console_access(request.user):
                if request.htmx:
                    # Access was withdrawn while a page was open: show it as a page, not in a slot.
                    response = HttpResponse(status=403)
                    response["HX-Redirect"] = reverse("orders:order-lookup")
                    return response
                return _render(request, "orders/no_access.html", status=403)
            if not request.user.has_perm(permission):
                raise PermissionDenied
            request.venue_scope = venue_scope(request.user)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _status_for(exc: CloposError) -> int:
    if isinstance(exc, CloposNotFoundError):
        return 404
    if isinstance(exc, CloposResponseError):
        return 502
    # Unavailable, timeout, rate limited, and our own credentials refused: all "try later".
    return 503


def _error_message(exc: CloposError) -> str:
    if isinstance(exc, CloposNotFoundError):
        return "No order with this id exists in Clopos, or it belongs to a venue you cannot see."
    if isinstance(exc, CloposRateLimitedError) and exc.retry_after:
        return f"{exc.user_message} Try again in {exc.retry_after} s."
    if isinstance(exc, (CloposUnavailableError, CloposAuthError, CloposResponseError)):
        return f"{exc.user_message} Try again in a moment."
    return exc.user_message


def _with_retry_after(response: HttpResponse, exc: CloposError) -> HttpResponse:
    if isinstance(exc, CloposUnavailableError) and exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _error_page(request: HttpRequest, exc: CloposError, order_id: int) -> HttpResponse:
    status = _status_for(exc)
    context = {"order_id": order_id, "message": _error_message(exc), "status": status}
    return _with_retry_after(_render(request, "orders/order_error.html", context, status=status), exc)


def _invalid_id(request: HttpRequest, raw_id: str) -> HttpResponse:
    form = OrderLookupForm(data={"order_id": raw_id})
    form.is_valid()
    return _render(request, "orders/order_lookup.html", {"form": form, "message": INVALID_ORDER_ID}, status=400)


def _detail_context(request: HttpRequest, detail: services.OrderDetail) -> dict:
    order_id = detail.order.id
    return {
        "detail": detail,
        "order": detail.order,
        "contact": customer_contact(detail.order.customer, reveal=False),
        "receipt_url": reverse("orders:order-receipt", args=[order_id]),
        "reveal_url": reverse("orders:order-customer-reveal", args=[order_id]),
        "refresh_url": reverse("orders:order-refresh", args=[order_id]),
    }


def _recent_orders(request: HttpRequest, limit: int = 8) -> list[int]:
    """The orders this user opened last, newest first (from their own audit entries)."""
    opened = (
        AuditEntry.objects.filter(user=request.user, action=AuditEntry.Action.VIEW_ORDER)
        .order_by("-created_at")
        .values_list("order_id", flat=True)[: limit * 5]
    )
    return list(dict.fromkeys(opened))[:limit]


@require_GET
@console_view(perms.VIEW_ORDER)
def order_lookup(request: HttpRequest) -> HttpResponse:
    """The lookup box: `?order_id=` redirects to the order page when the id is valid."""
    if "order_id" not in request.GET:
        return _render(
            request, "orders/order_lookup.html", {"form": OrderLookupForm(), "recent": _recent_orders(request)}
        )
    form = OrderLookupForm(data=request.GET)
    if not form.is_valid():
        return _render(request, "orders/order_lookup.html", {"form": form}, status=400)
    return redirect("orders:order-detail", order_id=form.cleaned_data["order_id"])


def _audited_order(
    request: HttpRequest, order_id: str, *, load: Callable[..., services.OrderDetail], action: str
) -> services.OrderDetail | HttpResponse:
    """Validate the id, load the order in the user's scope and log the access; or an error page."""
    parsed_id = parse_order_id(order_id)
    if parsed_id is None:
        return _invalid_id(request, order_id)
    try:
        detail = load(order_id=parsed_id, venue_ids=request.venue_scope)
    except CloposError as exc:
        return _error_page(request, exc, parsed_id)
    audit_record(request, action=action, order_id=parsed_id, venue_id=detail.order.venue_id)
    return detail


@require_GET
@console_view(perms.VIEW_ORDER)
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    detail = _audited_order(request, order_id, load=services.order_get, action=AuditEntry.Action.VIEW_ORDER)
    if isinstance(detail, HttpResponse):
        return detail
    return _render(request, DETAIL_TEMPLATE, _detail_context(request, detail))


@require_POST
@console_view(perms.REFRESH_ORDER)
def order_refresh(request: HttpRequest, order_id: str) -> HttpResponse:
    """Fetch the order (and receipt) from Clopos now; htmx swaps the re-rendered order in."""
    detail = _audited_order(request, order_id, load=services.order_refresh, action=AuditEntry.Action.REFRESH_ORDER)
    if isinstance(detail, HttpResponse):
        return detail
    if not request.htmx:
        return redirect("orders:order-detail", order_id=detail.order.id)
    return _render(request, f"{DETAIL_TEMPLATE}#order-main", _detail_context(request, detail))


@require_POST
@console_view(perms.REVEAL_CUSTOMER)
def order_customer_reveal(request: HttpRequest, order_id: str) -> HttpResponse:
    """The customer's full phone and address, for roles allowed to see them. Logged."""
    detail = _audited_order(request, order_id, load=services.order_get, action=AuditEntry.Action.REVEAL_CUSTOMER)
    if isinstance(detail, HttpResponse):
        return detail
    context = _detail_context(request, detail) | {"contact": customer_contact(detail.order.customer, reveal=True)}
    template = f"{DETAIL_TEMPLATE}#customer" if request.htmx else DETAIL_TEMPLATE
    return _render(request, template, context)


@require_GET
@console_view(perms.VIEW_ORDER)
def order_receipt(request: HttpRequest, order_id: str) -> HttpResponse:
    """The receipt slot. htmx gets the bare fragment; a browser opening the URL gets a page."""
    parsed_id = parse_order_id(order_id)
    if parsed_id is None:
        return _invalid_id(request, order_id)
    template = f"{DETAIL_TEMPLATE}#receipt" if request.htmx else "orders/order_receipt.html"
    context = {
        "order_id": parsed_id,
        "receipt_url": reverse("orders:order-receipt", args=[parsed_id]),
        "order_url": reverse("orders:order-detail", args=[parsed_id]),
        "show_payments": request.user.has_perm(perms.VIEW_PAYMENTS),
    }
    try:
        context["receipt_detail"] = services.order_receipt_get(order_id=parsed_id, venue_ids=request.venue_scope)
    except CloposError as exc:
        status = _status_for(exc)
        context.update(receipt_error=_error_message(exc), status=status)
        return _with_retry_after(_render(request, template, context, status=status), exc)
    return _render(request, template, context)


@require_GET
@console_view(perms.VIEW_STATUS_PANEL)
def clopos_status(request: HttpRequest) -> HttpResponse:
    """Token expiry, last success, recent failures, rate budget and circuit state."""
    return _render(request, "orders/clopos_status.html", {"status": services.clopos_status()})


@require_GET
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database, cache or Clopos call."""
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@login_not_required
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: database and cache answer; whether a Clopos token is cached (no upstream call)."""
    checks = services.readiness()
    ready = checks["database"] == "ok" and checks["cache"] == "ok"
    return JsonResponse(checks, status=200 if ready else 503)


@require_GET
@console_view(perms.VIEW_AUDIT_LOG)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who viewed, revealed or refreshed which order, in the user's venues."""
    form = AuditFilterForm(data=request.GET or None)
    entries = AuditEntry.objects.all()
    if request.venue_scope is not None:
        entries = entries.filter(venue_id__in=request.venue_scope)
    if form.is_bound and not form.is_valid():
        return _render(request, "orders/audit_log.html", {"form": form, "page": None}, status=400)
    if form.is_bound:
        entries = form.filter(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(request, "orders/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})
