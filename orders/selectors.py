"""The orders list: which Clopos page a set of filters asks for, and what of it the user sees.

A list page costs at most one `GET /v2/orders` (plus the cached catalogue): the page is a
`clopos.store.Source` keyed by its Clopos query, so it goes through the same single-flight,
shared rate budget, breaker, stale-while-revalidate and stale-if-error as an order.

Business days: Clopos filters `date[]` by calendar date in a zone it does not name, so the
query asks for the calendar dates that cover the business-day window either way
(`clopos.listing.dates_covering`) and the rows are then filtered exactly here, each by the
window of its own venue's cutoff. A page may therefore show fewer rows than Clopos sent; the
page says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from clopos import catalogue, deadline, keys, store
from clopos.client import get_clopos_client
from clopos.listing import OrderQuery, dates_covering
from clopos.store import Freshness, Source
from clopos.types import ORDER_STATUSES, OrderListPage, OrderSummary, SaleType, parse_payload
from orders import business_day
from orders.business_day import Cutoffs, Window
from orders.masking import CustomerContact, customer_contact
from orders.models import VENUE_CUTOFFS_KEY, VENUE_CUTOFFS_SECONDS, VenueSettings
from orders.summary import is_overdue

MAX_RANGE_DAYS = 31
#: sort name -> (Clopos sort field, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("created_at", True),
    "oldest": ("created_at", False),
    "updated": ("updated_at", True),
}


def zone() -> ZoneInfo:
    return ZoneInfo(settings.CLOPOS_TIME_ZONE)


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What the user asked for, validated (orders.forms.OrderListForm). No day and no range
    means today's business day."""

    day: dt.date | None = None
    first: dt.date | None = None
    last: dt.date | None = None
    venue_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    sale_type_ids: tuple[int, ...] = ()
    sort: str = "newest"
    page: int = 1

    @property
    def is_range(self) -> bool:
        return self.first is not None and self.last is not None

    def query_pairs(self, *, page: int | None = None) -> list[tuple[str, str]]:
        """The list's query string as ordered pairs, defaults left out (the canonical link)."""
        pairs: list[tuple[str, str]] = []
        if self.day:
            pairs.append(("day", self.day.isoformat()))
        if self.is_range:
            pairs += [("from", self.first.isoformat()), ("to", self.last.isoformat())]  # type: ignore[union-attr]
        pairs += [("venue", str(v)) for v in self.venue_ids]
        pairs += [("status", s) for s in self.statuses]
        pairs += [("sale_type", str(s)) for s in self.sale_type_ids]
        if self.sort != "newest":
            pairs.append(("sort", self.sort))
        page = self.page if page is None else page
        if page > 1:
            pairs.append(("page", str(page)))
        return pairs


def venue_cutoffs(*, seen: Any = store.MISSING) -> Cutoffs:
    """The default business-day start and the venues that override it: one shared cache read
    (a Redis GET costs a fraction of the query on the production profile), the small query when
    the entry is missing or was cleared by a change (orders.models). `seen`: the entry, when the
    caller read it ahead."""
    global _overrides_hint
    if seen is store.MISSING:
        with deadline.timed("cache"):
            seen = cache.get(VENUE_CUTOFFS_KEY)
    overrides: dict[int, dt.time] | None = seen
    if overrides is None:
        rows = VenueSettings.objects.filter(business_day_start__isnull=False).values_list(
            "venue_id", "business_day_start"
        )
        overrides = {venue_id: start for venue_id, start in rows if start is not None}
        cache.set(VENUE_CUTOFFS_KEY, overrides, timeout=VENUE_CUTOFFS_SECONDS)
    _overrides_hint = overrides
    return _cutoffs(overrides)


def _cutoffs(overrides: Mapping[int, dt.time]) -> Cutoffs:
    return Cutoffs(default=business_day.parse_cutoff(settings.CLOPOS_BUSINESS_DAY_START), overrides=overrides)


# The overrides this worker read last: a list page is planned with them and its entries read in
# the same round trip as the current overrides; it is planned again only when those differ.
_overrides_hint: dict[int, dt.time] | None = None


def read_planned[P](plan_for: Callable[[Cutoffs], P], keys_of: Callable[[P], list[str]]) -> tuple[P, dict[str, Any]]:
    """A list's plan, made with the current overrides, and the cache entries it names: one round
    trip when the overrides are what this worker read last, as they nearly always are."""
    hint = _overrides_hint
    if hint is None:
        plan = plan_for(venue_cutoffs())
        with deadline.timed("cache"):
            return plan, cache.get_many(keys_of(plan))
    plan = plan_for(_cutoffs(hint))
    wanted = keys_of(plan)
    with deadline.timed("cache"):
        seen: dict[str, Any] = cache.get_many([VENUE_CUTOFFS_KEY, *wanted])
    current = seen.pop(VENUE_CUTOFFS_KEY, None)
    if current == hint:
        return plan, seen
    plan = plan_for(venue_cutoffs(seen=current))  # changed or cleared: never planned with a stale one
    if (replanned := keys_of(plan)) != wanted:
        with deadline.timed("cache"):
            seen = cache.get_many(replanned)
    return plan, seen


# --- The plan: what to ask Clopos for, and which rows to keep ---------------------------------


@dataclass(frozen=True, slots=True)
class ListPlan:
    filters: ListFilters
    first_day: dt.date
    last_day: dt.date
    cutoffs: Cutoffs
    tz: dt.tzinfo
    # Venues the user may see rows of: the picked ones, else the scope; None means every venue.
    venues: frozenset[int] | None
    query: OrderQuery
    today: bool

    def window_of(self, venue_id: int | None) -> Window:
        return business_day.window(self.first_day, self.cutoffs.of(venue_id), self.tz, self.last_day)

    def keeps(self, row: OrderSummary) -> bool:
        """Exactly the rows the filters ask for, whatever Clopos' filters did."""
        if self.venues is not None and row.venue_id not in self.venues:
            return False
        if row.created_at is None or row.created_at not in self.window_of(row.venue_id):
            return False
        if self.filters.statuses and row.status not in self.filters.statuses:
            return False
        return not (self.filters.sale_type_ids and row.sale_type_id not in self.filters.sale_type_ids)

    @property
    def cutoffs_in_play(self) -> list[tuple[dt.time, tuple[int, ...]]]:
        """(cutoff, venues that use it; empty for "every other venue"), default first."""
        venues = sorted(self.venues) if self.venues is not None else sorted(self.cutoffs.overrides)
        by_cutoff: dict[dt.time, list[int]] = {}
        for venue_id in venues:
            by_cutoff.setdefault(self.cutoffs.of(venue_id), []).append(venue_id)
        if self.venues is None:
            by_cutoff.pop(self.cutoffs.default, None)
            return [(self.cutoffs.default, ()), *((c, tuple(v)) for c, v in sorted(by_cutoff.items()))]
        if len(by_cutoff) == 1:
            return [(next(iter(by_cutoff)), ())]
        return [(c, tuple(v)) for c, v in sorted(by_cutoff.items())]


def plan_list(
    *,
    filters: ListFilters,
    venue_scope: Collection[int] | None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    cutoffs: Cutoffs | None = None,
) -> ListPlan:
    """The Clopos query for these filters in this scope, with what to keep of its rows. `limit`:
    rows per Clopos page (default CLOPOS_LIST_PAGE_SIZE; exports ask for the most). `cutoffs`:
    the venues' cutoffs, when the caller has read them (default: read them)."""
    now = now or timezone.now()
    tz = zone()
    cutoffs = cutoffs if cutoffs is not None else venue_cutoffs()
    if filters.venue_ids:
        venues: frozenset[int] | None = frozenset(filters.venue_ids)
    else:
        venues = frozenset(venue_scope) if venue_scope is not None else None
    if filters.is_range:
        first_day, last_day = filters.first, filters.last
    elif filters.day:
        first_day = last_day = filters.day
    else:
        # Today: the business day now is in, by the cutoff of the venue in play (or the default).
        in_play = cutoffs.relevant(venues)
        cutoff = next(iter(in_play)) if len(in_play) == 1 else cutoffs.default
        first_day = last_day = business_day.business_day_of(now, cutoff, tz)
    assert first_day is not None and last_day is not None
    windows = [business_day.window(first_day, c, tz, last_day) for c in cutoffs.relevant(venues)]
    span = business_day.union(windows)
    date_from, date_to = dates_covering(span.start, span.end, tz)
    sort_field, descending = SORTS[filters.sort]
    query = OrderQuery.build(
        page=filters.page,
        limit=limit or settings.CLOPOS_LIST_PAGE_SIZE,
        date_from=date_from,
        date_to=date_to,
        statuses=filters.statuses,
        # The scope goes to Clopos as a filter: rows of other venues are never fetched.
        venue_ids=sorted(venues) if venues is not None else (),
        sale_type_ids=filters.sale_type_ids,
        sort=sort_field,
        descending=descending,
    )
    return ListPlan(
        filters=filters,
        first_day=first_day,
        last_day=last_day,
        cutoffs=cutoffs,
        tz=tz,
        venues=venues,
        query=query,
        today=any(now in w for w in windows),
    )


def order_list_source(plan: ListPlan) -> Source[OrderListPage]:
    return order_query_source(plan.query, today=plan.today)


def order_query_source(query: OrderQuery, *, today: bool) -> Source[OrderListPage]:
    """One page of `GET /v2/orders` as a cached record, keyed by its query."""
    return Source(
        key=keys.order_list_key(query.fingerprint()),
        fetch=lambda: get_clopos_client().list_orders(query),
        parse=lambda body: parse_payload(OrderListPage.from_payload, body, zone(), page=query.page, limit=query.limit),
        ages=lambda _: keys.order_list_ages(today=today),
    )


# --- The page ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRow:
    order: OrderSummary
    venue_name: str | None
    sale_type_name: str | None
    contact: CustomerContact
    overdue: bool

    @property
    def receipt_state(self) -> str:
        """One of none, open, closed, or unknown when Clopos did not say."""
        receipt = self.order.receipt
        if receipt is None:
            return "none" if self.order.receipt_known else "unknown"
        return "closed" if receipt.is_closed else "open"


@dataclass(frozen=True, slots=True)
class OrderList:
    plan: ListPlan
    rows: tuple[OrderRow, ...]
    page: OrderListPage
    freshness: Freshness
    venue_names: Mapping[int, str]
    sale_types: tuple[SaleType, ...]
    status_choices: tuple[str, ...] = field(default=ORDER_STATUSES)

    @property
    def clopos_dates(self) -> tuple[dt.date, dt.date]:
        return self.plan.query.date_from, self.plan.query.date_to  # type: ignore[return-value]

    @property
    def dropped(self) -> int:
        """Rows Clopos sent on this page that the business day (or scope) left out."""
        return self.page.received - len(self.rows)

    @property
    def receipts_total(self) -> Decimal | None:
        """The sum of the receipt totals Clopos gave for the rows shown: this page only."""
        totals = [row.order.receipt.total for row in self.rows if row.order.receipt and row.order.receipt.total]
        return sum(totals, Decimal(0)) if totals else None

    @property
    def receipts_counted(self) -> int:
        return sum(1 for row in self.rows if row.order.receipt and row.order.receipt.total is not None)


def _rows(
    plan: ListPlan, page: OrderListPage, names: Mapping[int, str], sale_types: Iterable[SaleType], now: dt.datetime
) -> tuple[OrderRow, ...]:
    sale_type_names = {s.id: s.name for s in sale_types}
    return tuple(
        OrderRow(
            order=row,
            venue_name=names.get(row.venue_id) if row.venue_id is not None else None,
            sale_type_name=sale_type_names.get(row.sale_type_id) if row.sale_type_id is not None else None,
            # Masked for every role, exactly as on the order page until a logged reveal.
            contact=customer_contact(row.customer, reveal=False),
            overdue=is_overdue(row.status, row.created_at, now),
        )
        for row in page.rows
        if plan.keeps(row)
    )


def order_list_get(
    *,
    filters: ListFilters,
    venue_scope: Collection[int] | None,
    refresh: bool = False,
    now: dt.datetime | None = None,
) -> OrderList:
    """One page of the orders list for these filters, in the user's scope (None: every venue).

    At most one Clopos call for the page (none when cached), plus the catalogue when it is not
    cached. `refresh` skips the cache for the page. Raises a CloposError when Clopos fails and
    no earlier copy of the page exists.
    """
    now = now or timezone.now()
    # One cache round trip for the venues' cutoffs, the page and the catalogue lists it names
    # things with.
    plan, seen = read_planned(
        lambda cutoffs: plan_list(filters=filters, venue_scope=venue_scope, now=now, cutoffs=cutoffs),
        lambda plan: [order_list_source(plan).key, keys.venues_key(), keys.sale_types_key()],
    )
    source = order_list_source(plan)
    loaded = store.load(source, refresh=refresh, seen=seen.get(source.key))
    names = catalogue.venue_names(seen)
    sale_types = catalogue.catalogue_load(catalogue.sale_types_source(), seen) or ()
    extra_statuses = tuple(s for s in filters.statuses if s not in ORDER_STATUSES)
    return OrderList(
        plan=plan,
        rows=_rows(plan, loaded.value, names, sale_types, now),
        page=loaded.value,
        freshness=loaded.freshness,
        venue_names=names,
        sale_types=tuple(sale_types),
        status_choices=ORDER_STATUSES + extra_statuses,
    )


# --- Previous / next on an order page ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Where "← previous" and "next →" go from an order opened from a list."""

    previous_id: int | None = None
    next_id: int | None = None
    # At the edge of the page: the list page before / after, when there is one.
    previous_page: int | None = None
    next_page: int | None = None


def order_neighbours(
    *, filters: ListFilters, venue_scope: Collection[int] | None, order_id: int, now: dt.datetime | None = None
) -> Neighbours | None:
    """The order's neighbours in the cached list page, or None when that page is not cached or
    the order is not on it. Never calls Clopos."""
    plan = plan_list(filters=filters, venue_scope=venue_scope, now=now)
    page = store.peek(order_list_source(plan))
    if page is None:
        return None
    ids = [row.id for row in page.rows if plan.keeps(row)]
    if order_id not in ids:
        return None
    index = ids.index(order_id)
    return Neighbours(
        previous_id=ids[index - 1] if index > 0 else None,
        next_id=ids[index + 1] if index + 1 < len(ids) else None,
        previous_page=page.page - 1 if index == 0 and page.has_previous else None,
        next_page=page.page + 1 if index + 1 == len(ids) and page.has_next else None,
    )
