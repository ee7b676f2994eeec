"""Thin views: validate the id, call one service, pick a template or partial."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from orders import services
from orders.clopos import (
    CloposAuthError,
    CloposError,
    CloposNotFoundError,
    CloposRateLimitedError,
    CloposResponseError,
    CloposUnavailableError,
)
from orders.forms import INVALID_ORDER_ID, OrderLookupForm, parse_order_id

DETAIL_TEMPLATE = "orders/order_detail.html"


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


def _invalid_id(request: HttpRequest, raw_id: str) -> HttpResponse:
    form = OrderLookupForm(data={"order_id": raw_id})
    form.is_valid()
    return render(
        request,
        "orders/order_lookup.html",
        {"form": form, "message": INVALID_ORDER_ID},
        status=400,
    )


@require_GET
def order_lookup(request: HttpRequest) -> HttpResponse:
    """The lookup box: `?order_id=` redirects to the order page when the id is valid."""
    if "order_id" not in request.GET:
        return render(request, "orders/order_lookup.html", {"form": OrderLookupForm()})
    form = OrderLookupForm(data=request.GET)
    if not form.is_valid():
        return render(request, "orders/order_lookup.html", {"form": form}, status=400)
    return redirect("orders:order-detail", order_id=form.cleaned_data["order_id"])


@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    parsed_id = parse_order_id(order_id)
    if parsed_id is None:
        return _invalid_id(request, order_id)
    try:
        detail = services.order_get(order_id=parsed_id)
    except CloposError as exc:
        response = render(
            request,
            "orders/order_error.html",
            {"order_id": parsed_id, "message": _error_message(exc), "status": _status_for(exc)},
            status=_status_for(exc),
        )
        return _with_retry_after(response, exc)
    return render(
        request,
        DETAIL_TEMPLATE,
        {
            "detail": detail,
            "order": detail.order,
            "receipt_url": reverse("orders:order-receipt", args=[parsed_id]),
        },
    )


@require_GET
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
    }
    try:
        context["receipt_detail"] = services.order_receipt_get(order_id=parsed_id)
    except CloposError as exc:
        context.update(receipt_error=_error_message(exc), status=_status_for(exc))
        return _with_retry_after(render(request, template, context, status=_status_for(exc)), exc)
    return render(request, template, context)
