"""The orders list: business day or range, filters in the URL, htmx results, a refresh, and the
previous/next links an order opened from the list shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from audit.models import AuditEntry
from audit.services import audit_record
from clopos import deadline
from clopos.catalogue import cached_sale_types, cached_venue_names
from clopos.errors import CloposError
from clopos.types import ORDER_STATUSES, SaleType
from console import fragments
from console import permissions as perms
from console.access import console_view, render_page
from console.http import ConsoleRequest
from orders import selectors
from orders.forms import STATUS_WORD, OrderListForm, list_filters_from_query
from orders.views.common import error_message, export_links, freshness_key

LIST_TEMPLATE = "orders/order_list.html"
ROW_ID_SENTINEL = 987654321987


def list_nav(request: ConsoleRequest, order_id: int) -> dict[str, str | None] | None:
    """The "← previous · next →" and "back to list" links of an order opened from a list (`?list=` holds
    the list's query string). Computed from the cached list page: no Clopos call. An invalid
    `list` is ignored."""
    if "list" not in request.GET:
        return None
    query = request.GET["list"]
    filters = list_filters_from_query(query, venue_scope=request.venue_scope)
    if filters is None:
        return None
    list_url = reverse("orders:order-list")
    nav: dict[str, str | None] = {"back_url": _with_query(list_url, filters.query_pairs())}
    neighbours = selectors.order_neighbours(filters=filters, venue_scope=request.venue_scope, order_id=order_id)
    if neighbours is None:
        return nav
    in_list = urlencode({"list": urlencode(filters.query_pairs())})
    if neighbours.previous_id is not None:
        nav["previous_url"] = f"{reverse('orders:order-detail', args=[neighbours.previous_id])}?{in_list}"
        nav["previous_label"] = gettext("← Previous: %(id)s") % {"id": neighbours.previous_id}
    elif neighbours.previous_page is not None:
        nav["previous_url"] = _with_query(list_url, filters.query_pairs(page=neighbours.previous_page))
        nav["previous_label"] = gettext("← Previous page of the list")
    if neighbours.next_id is not None:
        nav["next_url"] = f"{reverse('orders:order-detail', args=[neighbours.next_id])}?{in_list}"
        nav["next_label"] = gettext("Next: %(id)s →") % {"id": neighbours.next_id}
    elif neighbours.next_page is not None:
        nav["next_url"] = _with_query(list_url, filters.query_pairs(page=neighbours.next_page))
        nav["next_label"] = gettext("Next page of the list →")
    return nav


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    return f"{url}?{urlencode(pairs)}" if pairs else url


def _list_context(
    request: ConsoleRequest,
    form: OrderListForm,
    result: selectors.OrderList | None = None,
    *,
    error_message: str | None = None,
) -> dict[str, Any]:
    """Everything the list page and its fragments show: the filters as the user left them, and
    the results when there are some."""
    filters = form.filters() if form.is_valid() else None
    pairs = filters.query_pairs() if filters else []
    list_url = reverse("orders:order-list")
    query = urlencode(pairs)
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "error_message": error_message,
        "list_url": list_url,
        "self_url": _with_query(list_url, pairs),
        "query": query,
        "row_query": urlencode({"list": query}),
        "refresh_url": _with_query(reverse("orders:order-list-refresh"), pairs),
        "export_links": export_links("orders:order-export", pairs),
        "max_range_days": selectors.MAX_RANGE_DAYS,
        "overdue_minutes": settings.CLOPOS_OVERDUE_MINUTES,
        "auto_refresh": None,
        **_filter_options(request, form, result),
    }
    if result is not None and filters is not None:
        context |= _results_context(result, filters, row_query=context["row_query"])
    return context


def common_filter_options(
    request: ConsoleRequest, form: forms.Form, venue_names: Mapping[int, str], sale_types: Iterable[SaleType]
) -> dict[str, Any]:
    """What the orders and receipts lists' filters share: the dates and sort as typed, the
    venues of the user's scope and the sale types, checked as the URL says."""
    data = cast(QueryDict, form.data)
    picked_venues = {str(v) for v in data.getlist("venue")}
    scope = request.venue_scope
    venue_ids = sorted(scope) if scope is not None else sorted(venue_names)
    if scope is None:
        venue_ids += sorted(int(v) for v in picked_venues if v.isdigit() and int(v) not in venue_ids)
    picked_sale_types = {str(v) for v in data.getlist("sale_type")}
    return {
        "values": {
            "day": data.get("day", ""),
            "from": data.get("from", ""),
            "to": data.get("to", ""),
            "sort": data.get("sort") or "newest",
        },
        "sort_options": cast(forms.ChoiceField, form.fields["sort"]).choices,
        "venue_options": [
            # The name comes from Clopos (the template marks its language); none: "Venue (#3)".
            {"value": v, "name": venue_names.get(v), "checked": str(v) in picked_venues}
            for v in venue_ids
        ],
        "sale_type_options": [
            {"value": s.id, "label": s.name, "checked": str(s.id) in picked_sale_types} for s in sale_types
        ],
    }


def _filter_options(request: ConsoleRequest, form: OrderListForm, result: selectors.OrderList | None) -> dict[str, Any]:
    """The filters' values and options, checked as the URL says. Labels come from the loaded
    catalogue, or from whatever the cache holds when nothing was loaded (no Clopos call)."""
    data = cast(QueryDict, form.data)
    venue_names = dict(result.venue_names) if result else cached_venue_names()
    sale_types = result.sale_types if result else cached_sale_types()
    picked_statuses = [s.upper() for s in data.getlist("status")]
    statuses = list(result.status_choices if result else ORDER_STATUSES)
    statuses += [s for s in picked_statuses if s not in statuses and STATUS_WORD.fullmatch(s)]
    return common_filter_options(request, form, venue_names, sale_types) | {
        "status_options": [{"value": s, "checked": s in picked_statuses} for s in statuses],
    }


def paging_context(
    filters: selectors.ListFilters, *, page: int, first_day: dt.date, last_day: dt.date, today: bool
) -> dict[str, Any]:
    """Previous/next page queries, the day steps of a one-day list, and today's self-refresh:
    the same for the orders and receipts lists."""
    context: dict[str, Any] = {
        "several_days": first_day != last_day,
        "now": timezone.now(),
        "previous_query": urlencode(filters.query_pairs(page=page - 1)),
        "next_query": urlencode(filters.query_pairs(page=page + 1)),
    }
    if first_day == last_day:
        previous_day, next_day = first_day - dt.timedelta(days=1), first_day + dt.timedelta(days=1)
        context["day_steps"] = {
            "previous_day": previous_day,
            "next_day": next_day,
            "previous": urlencode(dataclasses.replace(filters, day=previous_day, page=1).query_pairs()),
            "next": urlencode(dataclasses.replace(filters, day=next_day, page=1).query_pairs()),
        }
    if today:
        # Today's list refreshes itself (console.js, only while the tab is visible), never
        # faster than its cache age: a refresh sooner would be served from the cache anyway.
        context["auto_refresh"] = max(60, settings.CLOPOS_TTL_LIST_TODAY)
    return context


def _results_context(result: selectors.OrderList, filters: selectors.ListFilters, *, row_query: str) -> dict[str, Any]:
    plan, page = result.plan, result.page
    # Each row links to its order with the list's query, so the order page can offer
    # previous/next; one reverse() for all rows, not one per row.
    detail = reverse("orders:order-detail", args=[ROW_ID_SENTINEL]).replace(str(ROW_ID_SENTINEL), "{}")
    context: dict[str, Any] = {
        "rows": [(row, f"{detail.format(row.order.id)}?{row_query}") for row in result.rows],
        # What the rows show, for the rendered rows kept per process (console/fragments.py): the
        # cached list page (which fetch), the rows the plan kept with the names and states given
        # them, and the links' query. Contacts are masked for every role.
        "rows_key": (
            result.freshness.version,
            tuple((row.order.id, row.venue_name, row.sale_type_name, row.overdue) for row in result.rows),
            row_query,
        ),
        "window_parts": [
            (", ".join(result.venue_names.get(v, f"#{v}") for v in venues), cutoff)
            for cutoff, venues in plan.cutoffs_in_play
        ],
    }
    return context | paging_context(
        filters, page=page.page, first_day=plan.first_day, last_day=plan.last_day, today=plan.today
    )


def list_response(
    request: ConsoleRequest,
    context: dict[str, Any],
    *,
    status: int = 200,
    template: str = LIST_TEMPLATE,
    cache_key: tuple[Any, ...] | None = None,
) -> HttpResponse:
    """The page; or, for htmx, the results alone (the filters form stays as the user left it).
    An invalid form replaces the whole list (form and results) so its errors show where they are.
    htmx's history restore (back button, `historyCacheSize: 0`) asks for the whole page.
    `template` has the partials `order-list` (form and results) and `results`. With `cache_key`
    (everything the list shows, `_list_key`), those partials and the whole page are kept rendered
    per process (console/fragments.py) and the page takes `order-list` as `order_list_html`."""
    partial = request.htmx and not request.htmx.history_restore_request
    if not partial:
        if cache_key is None:
            response = render_page(request, template, context, status=status)
        else:
            # The whole page is kept too: outside `order-list` it shows only fixed text and the
            # chrome (console/fragments.py). The kept form and results are rendered only on a miss.
            lazy_list = {"order_list_html": lambda: _cached(request, f"{template}#order-list", context, cache_key)}
            with deadline.timed("render"):
                response = fragments.render_kept_page(request, template, context | lazy_list, cache_key, status=status)
    elif status == 400 or request.htmx.target == "order-list":
        # Links that change a filter (the day steps) and invalid filters replace the form too.
        response = _partial(request, f"{template}#order-list", context, status, cache_key)
        response["HX-Retarget"] = "#order-list"
        response["HX-Reswap"] = "outerHTML"
    else:
        response = _partial(request, f"{template}#results", context, status, cache_key)
    patch_vary_headers(response, ("HX-Request", "HX-History-Restore-Request"))
    return response


def _cached(request: ConsoleRequest, template: str, context: dict[str, Any], key: tuple[Any, ...]) -> str:
    with deadline.timed("render"):
        return fragments.render_cached(request, template, context, key)


def _partial(
    request: ConsoleRequest, template: str, context: dict[str, Any], status: int, key: tuple[Any, ...] | None
) -> HttpResponse:
    if key is None:
        return render_page(request, template, context, status=status)
    return HttpResponse(_cached(request, template, context, key), status=status)


def _list_key(request: ConsoleRequest, result: selectors.OrderList, context: dict[str, Any]) -> tuple[Any, ...]:
    """Everything the orders list's form and results show: the filters as typed, the user's
    venues and whether they may refresh, the plan (days, cutoffs, today), the cached page (which
    fetch, served how), the catalogue's names and the rows as `rows_key` describes them; the
    language, time zone and minute are added by the fragment cache."""
    plan, scope = result.plan, request.venue_scope
    return (
        request.GET.urlencode(),
        tuple(sorted(scope)) if scope is not None else None,
        request.user.has_perm(perms.REFRESH_ORDER),
        (plan.first_day, plan.last_day, plan.today, plan.venues, str(plan.tz), tuple(plan.cutoffs_in_play)),
        freshness_key(result.freshness),
        tuple(sorted(result.venue_names.items())),
        result.sale_types,
        context["rows_key"],
        context["auto_refresh"],
    )


def order_list_error_page(request: ConsoleRequest, exc: Exception, kwargs: dict[str, Any]) -> HttpResponse:
    """Clopos failed and no earlier copy of the page exists: the list page with the reason."""
    assert isinstance(exc, CloposError)
    form = OrderListForm(request.GET, venue_scope=request.venue_scope)
    context = _list_context(request, form, error_message=error_message(exc))
    return list_response(request, context, status=exc.http_status)


@require_safe
@console_view(perms.VIEW_ORDER, errors=order_list_error_page)
def order_list(request: ConsoleRequest) -> HttpResponse:
    """The orders of a business day (today by default), filtered by what the URL says."""
    form = OrderListForm(request.GET, venue_scope=request.venue_scope)
    if not form.is_valid():
        # Nothing is asked of Clopos for a query we cannot read.
        return list_response(request, _list_context(request, form), status=400)
    result = selectors.order_list_get(filters=form.filters(), venue_scope=request.venue_scope)
    context = _list_context(request, form, result)
    return list_response(request, context, cache_key=_list_key(request, result, context))


@require_POST
@console_view(perms.REFRESH_ORDER, errors=order_list_error_page)
def order_list_refresh(request: ConsoleRequest) -> HttpResponse:
    """Fetch this list page from Clopos now, past the cache (managers). Logged like an order
    refresh; htmx swaps the new results in, a plain form post goes back to the list."""
    form = OrderListForm(request.GET, venue_scope=request.venue_scope)
    if not form.is_valid():
        return list_response(request, _list_context(request, form), status=400)
    filters = form.filters()
    result = selectors.order_list_get(filters=filters, venue_scope=request.venue_scope, refresh=True)
    venues = result.plan.venues
    audit_record(
        request,
        action=AuditEntry.Action.REFRESH_ORDER_LIST,
        order_id=None,
        venue_id=next(iter(venues)) if venues is not None and len(venues) == 1 else None,
        detail=urlencode(filters.query_pairs()),
    )
    if not request.htmx:
        return redirect(_with_query(reverse("orders:order-list"), filters.query_pairs()))
    return list_response(request, _list_context(request, form, result))
