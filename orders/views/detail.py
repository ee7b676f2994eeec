"""One order: the lookup box, the order page, its receipt slot, reveal and refresh.

Thin views: the gate (`console_view`), the id, one service call, a template or partial. Venue
scope is enforced in the services by passing `request.venue_scope` to every call. A CloposError
or a bad id raised here becomes the error page in one place: `order_error_page`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from audit.models import AuditEntry
from audit.selectors import recent_order_ids
from audit.services import AuditWriteError, audit_record, audit_write_now
from clopos import deadline
from clopos.errors import CloposError, CloposNotFoundError
from clopos.types import Order
from console import fragments
from console import permissions as perms
from console.access import InputError, console_view, render_page
from console.http import ConsoleRequest
from orders import services
from orders.forms import OrderLookupForm, order_id_from_url
from orders.masking import customer_contact
from orders.receipts import payment_details_visible
from orders.summary import is_overdue, line_differences, paid_summary
from orders.views.common import error_message, freshness_key
from orders.views.lists import list_nav

logger = logging.getLogger("orders")

DETAIL_TEMPLATE = "orders/order_detail.html"
LOOKUP_TEMPLATE = "orders/order_lookup.html"


def order_error_page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """A bad id: the lookup box with the message (400). A Clopos failure: the error page."""
    if isinstance(exc, InputError):
        form = OrderLookupForm(data={"order_id": exc.value})
        form.is_valid()
        return render_page(request, LOOKUP_TEMPLATE, {"form": form, "message": exc.message}, status=400)
    assert isinstance(exc, CloposError)
    _audit_not_found(request, exc, kwargs)
    context = {"order_id": kwargs.get("order_id"), "message": error_message(exc), "status": exc.http_status}
    return render_page(request, "orders/order_error.html", context, status=exc.http_status)


def _audit_not_found(request: ConsoleRequest, exc: CloposError, kwargs: dict[str, Any]) -> None:
    """Unknown and hidden orders look the same to the user and in the log; many of these from
    one user is a prober."""
    if isinstance(exc, CloposNotFoundError):
        order_id = order_id_from_url(kwargs["order_id"])
        audit_record(request, action=AuditEntry.Action.ORDER_NOT_FOUND, order_id=order_id, venue_id=None)


def receipt_error_slot(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """The receipt slot's own failure: rendered inside the slot, with a retry button; the
    summary's paid state then says "unknown" rather than waiting for ever."""
    if isinstance(exc, InputError):
        return order_error_page(request, exc, kwargs)
    assert isinstance(exc, CloposError)
    _audit_not_found(request, exc, kwargs)
    context = _receipt_context(request, order_id_from_url(kwargs["order_id"]))
    context.update(receipt_error=error_message(exc), status=exc.http_status, paid_unknown=True)
    return render_page(request, _receipt_template(request), context, status=exc.http_status)


def _receipt_parts(request: ConsoleRequest, order: Order, receipt: services.ReceiptDetail | None) -> dict[str, Any]:
    """The receipt, the paid state it gives the summary, and its lines for the items table (for
    roles that may see the full receipt), with where they differ from the order."""
    show_payments = request.user.has_perm(perms.VIEW_PAYMENTS)
    parts: dict[str, Any] = {
        "order": order,
        "receipt_detail": receipt,
        "paid": paid_summary(order=order, receipt=receipt.receipt if receipt else None),
        "show_payments": show_payments,
    }
    if receipt is not None and show_payments and receipt.receipt.lines:
        parts["receipt_lines"] = receipt.receipt.lines
        parts["differences"] = line_differences(order, receipt.receipt)
    return parts


def _detail_context(request: ConsoleRequest, detail: services.OrderDetail) -> dict[str, Any]:
    order = detail.order
    order_id = order.id
    context: dict[str, Any] = {
        "detail": detail,
        "order": order,
        "contact": customer_contact(order.customer, reveal=False),
        "overdue": is_overdue(order.status, order.created_at, timezone.now()),
        "receipt_url": reverse("orders:order-receipt", args=[order_id]),
        "print_url": reverse("orders:order-receipt-print", args=[order_id]),
        "reveal_url": reverse("orders:order-customer-reveal", args=[order_id]),
        "refresh_url": reverse("orders:order-refresh", args=[order_id]),
        "receipt_loaded": detail.receipt_loaded,
        # Nothing to load: Clopos said there is no receipt, or the order was ignored (it never gets one).
        "receipt_absent": order.receipt is None and (order.receipt_known or order.status == "IGNORE"),
    }
    if detail.receipt_loaded or context["receipt_absent"]:
        # The paid state is known now: no receipt (or "never"), or the receipt a refresh fetched.
        context.update(_receipt_parts(request, order, detail.receipt))
    return context


def _audited_order(
    request: ConsoleRequest, raw_id: str, *, load: Callable[..., services.OrderDetail], action: str
) -> services.OrderDetail:
    """The order in the user's scope, with the access logged; raises InputError or CloposError."""
    order_id = order_id_from_url(raw_id)
    detail = load(order_id=order_id, venue_ids=request.venue_scope)
    if action == AuditEntry.Action.REVEAL_CUSTOMER:
        # Personal data is shown only once its reveal is on record (AuditWriteError otherwise).
        audit_write_now(request, action=action, order_id=order_id, venue_id=detail.order.venue_id)
    else:
        audit_record(request, action=action, order_id=order_id, venue_id=detail.order.venue_id)
    return detail


def _recent_orders(request: ConsoleRequest) -> list[int]:
    """A convenience, never a reason to fail the page (say, while the audit table is locked)."""
    try:
        return recent_order_ids(user=request.user)
    except DatabaseError:
        logger.warning("recent orders unavailable", exc_info=True)
        return []


@require_safe
@console_view(perms.VIEW_ORDER)
def order_lookup(request: ConsoleRequest) -> HttpResponse:
    """The lookup box: `?order_id=` redirects to the order page when the id is valid, or to the
    receipt page for "r20855"."""
    if "order_id" not in request.GET:
        context = {"form": OrderLookupForm(), "recent": _recent_orders(request)}
        return render_page(request, LOOKUP_TEMPLATE, context)
    form = OrderLookupForm(data=request.GET)
    if not form.is_valid():
        return render_page(request, LOOKUP_TEMPLATE, {"form": form}, status=400)
    if form.target is not None and form.target.kind == "receipt":
        return redirect("orders:receipt-detail", receipt_id=form.target.id)
    return redirect("orders:order-detail", order_id=form.cleaned_data["order_id"])


@require_safe
@console_view(perms.VIEW_ORDER, errors=order_error_page)
def order_detail(request: ConsoleRequest, order_id: str) -> HttpResponse:
    detail = _audited_order(request, order_id, load=services.order_get, action=AuditEntry.Action.VIEW_ORDER)
    context = _detail_context(request, detail)
    main_key = _main_key(request, context)
    nav = list_nav(request, detail.order.id)
    context["list_nav"] = nav
    # The whole page is kept (console/fragments.py): the main block's key and the list links are
    # all it shows besides the chrome. On a miss it is put together from its parts and the page
    # around them, kept per chrome, so a new order renders only what is its own; the main block
    # comes from its own kept copy, which other users with the same rights share.
    parts = {
        "order_title": lambda: render_to_string(f"{DETAIL_TEMPLATE}#order-title", context),
        "list_nav_html": lambda: render_to_string(f"{DETAIL_TEMPLATE}#list-nav", context) if nav else "",
        "order_main_html": lambda: fragments.render_cached(request, f"{DETAIL_TEMPLATE}#order-main", context, main_key),
    }
    with deadline.timed("render"):
        return fragments.render_kept_page(
            request, DETAIL_TEMPLATE, context, (main_key, tuple(sorted(nav.items())) if nav else None), parts=parts
        )


def _main_key(request: ConsoleRequest, context: dict[str, Any]) -> tuple[Any, ...]:
    """Everything the order page's main block shows (console/fragments.py): the order entry (which
    fetch, served how), the names the catalogue gave it, what the user may do there, and the
    states derived from the moment (the minute itself is added by the fragment cache)."""
    detail: services.OrderDetail = context["detail"]
    order = detail.order
    user = request.user
    return (
        order.id,
        freshness_key(detail.freshness),
        detail.venue_name,
        detail.sale_type_name,
        _line_names(order),
        tuple(user.has_perm(p) for p in (perms.REFRESH_ORDER, perms.REVEAL_CUSTOMER, perms.VIEW_PAYMENTS)),
        context["overdue"],
        context["receipt_absent"],
        detail.receipt_loaded,
        detail.receipt.freshness.version if detail.receipt is not None else None,
    )


def _line_names(order: Order) -> tuple[Any, ...]:
    """The names and prices the items table shows (the catalogue may fill them in later)."""
    return tuple((line.name, line.unit_price, tuple((m.name, m.price) for m in line.modifiers)) for line in order.lines)


@require_POST
@console_view(perms.REFRESH_ORDER, errors=order_error_page)
def order_refresh(request: ConsoleRequest, order_id: str) -> HttpResponse:
    """Fetch the order (and receipt) from Clopos now; htmx swaps the re-rendered order in."""
    detail = _audited_order(request, order_id, load=services.order_refresh, action=AuditEntry.Action.REFRESH_ORDER)
    if not request.htmx:
        return redirect("orders:order-detail", order_id=detail.order.id)
    context = _detail_context(request, detail) | {"refreshed_at": timezone.now()}
    return render_page(request, f"{DETAIL_TEMPLATE}#order-main", context)


@require_POST
@console_view(perms.REVEAL_CUSTOMER, errors=order_error_page)
def order_customer_reveal(request: ConsoleRequest, order_id: str) -> HttpResponse:
    """The customer's full phone and address, for roles allowed to see them, audited first."""
    template = f"{DETAIL_TEMPLATE}#customer" if request.htmx else DETAIL_TEMPLATE
    try:
        detail = _audited_order(request, order_id, load=services.order_get, action=AuditEntry.Action.REVEAL_CUSTOMER)
    except AuditWriteError:
        detail = services.order_get(order_id=order_id_from_url(order_id), venue_ids=request.venue_scope)
        context = _detail_context(request, detail) | {
            "reveal_error": gettext(
                "The reveal could not be recorded in the audit log, so the details stay hidden. Try again in a moment."
            )
        }
        return render_page(request, template, context, status=503)
    context = _detail_context(request, detail) | {"contact": customer_contact(detail.order.customer, reveal=True)}
    return render_page(request, template, context)


def _receipt_template(request: ConsoleRequest) -> str:
    """htmx gets the bare fragment; a browser opening the URL gets a page."""
    return f"{DETAIL_TEMPLATE}#receipt" if request.htmx else "orders/order_receipt.html"


def _receipt_context(request: ConsoleRequest, order_id: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "receipt_url": reverse("orders:order-receipt", args=[order_id]),
        "print_url": reverse("orders:order-receipt-print", args=[order_id]),
        "order_url": reverse("orders:order-detail", args=[order_id]),
        # The one rule for payment details (orders.receipts), shared with the receipt page.
        "show_payments": payment_details_visible(request.user),
        # The order page's summary (paid state, total, payment methods) is filled out of band.
        "payment_oob": bool(request.htmx),
    }


@require_safe
@console_view(perms.VIEW_ORDER, errors=receipt_error_slot)
def order_receipt(request: ConsoleRequest, order_id: str) -> HttpResponse:
    """The receipt slot of an order page (and, opened on its own, the receipt page)."""
    parsed_id = order_id_from_url(order_id)
    slot = services.order_receipt_slot_get(order_id=parsed_id, venue_ids=request.venue_scope)
    context = _receipt_context(request, parsed_id) | _receipt_parts(request, slot.order, slot.receipt)
    if not request.htmx:
        return render_page(request, "orders/order_receipt.html", context)
    with deadline.timed("render"):
        html = fragments.render_cached(request, f"{DETAIL_TEMPLATE}#receipt", context, _receipt_key(slot, context))
    return HttpResponse(html)


def _receipt_key(slot: services.ReceiptSlot, context: dict[str, Any]) -> tuple[Any, ...]:
    """Everything the receipt slot shows (console/fragments.py): the order and receipt entries
    (which fetch, served how), the names the items table shows, and whether this user sees the
    payments; the out-of-band parts of the summary come from the same."""
    order, receipt = slot.order, slot.receipt
    return (
        order.id,
        slot.order_version,
        _line_names(order),
        freshness_key(receipt.freshness) if receipt is not None else None,
        context["show_payments"],
        context["payment_oob"],
    )


PAPERS = {"80mm", "a4"}


@require_safe
@console_view(perms.VIEW_PAYMENTS, errors=order_error_page)
def order_receipt_print(request: ConsoleRequest, order_id: str) -> HttpResponse:
    """A copy of the receipt to print, on an 80 mm roll (default) or A4 (`?paper=a4`).

    It shows the payments, so it needs `view_payments` like the full receipt; it shows no
    customer data. Each one is audited (`print_receipt`): a copy on paper leaves the console.
    """
    parsed_id = order_id_from_url(order_id)
    paper = request.GET.get("paper", "80mm")
    if paper not in PAPERS:
        raise InputError(gettext("Choose the paper: 80mm or a4."), value=str(parsed_id))
    detail = services.order_get(order_id=parsed_id, venue_ids=request.venue_scope)
    slot = services.order_receipt_slot_get(order_id=parsed_id, venue_ids=request.venue_scope)
    receipt = slot.receipt
    audit_record(
        request,
        action=AuditEntry.Action.PRINT_RECEIPT,
        order_id=parsed_id,
        venue_id=detail.order.venue_id,
        detail=f"receipt {receipt.receipt.id}, {paper}" if receipt else f"no receipt, {paper}",
    )
    context = {
        "detail": detail,
        "order": detail.order,
        "receipt_detail": receipt,
        "receipt": receipt.receipt if receipt else None,
        "paid": paid_summary(order=slot.order, receipt=receipt.receipt if receipt else None),
        "paper": paper,
        "printed_at": timezone.now(),
        "order_url": reverse("orders:order-detail", args=[parsed_id]),
        "print_url": reverse("orders:order-receipt-print", args=[parsed_id]),
    }
    return render_page(request, "orders/receipt_print.html", context)
