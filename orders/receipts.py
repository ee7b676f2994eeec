"""Receipts: one receipt (any receipt, with or without an order) and the receipts list.

The list works like the orders list (`orders.selectors`): filters from the URL, one Clopos page
per list page (`GET /v2/receipts`), cached as a `clopos.store.Source` keyed by its query, so it
goes through the same single-flight, shared rate budget, breaker, stale-while-revalidate and
stale-if-error. Its business day is Clopos' own `shift_date`, filtered exactly (no window
arithmetic): a day, or the days of a range sent as one array filter. What the query looks like
on the wire is `clopos.listing`'s business; every row is checked again here, so a filter Clopos
ignored never widens what the user sees.

Who sees payment details (lines, payments, cash and card columns) is decided in one place:
`payment_details_visible`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.utils import timezone

from clopos import catalogue, deadline, keys, store
from clopos.client import get_clopos_client
from clopos.listing import ReceiptQuery
from clopos.store import Freshness, Source
from clopos.types import PaymentMethod, Receipt, ReceiptListPage, SaleType, parse_payload
from console import permissions as perms
from orders import business_day
from orders.business_day import Cutoffs
from orders.selectors import ListFilters, read_planned, venue_cutoffs, zone
from orders.services import receipt_source, visible_record

#: sort name -> (Clopos sort field, descending)
RECEIPT_SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("created_at", True),
    "oldest": ("created_at", False),
    "closed": ("closed_at", True),
    "total": ("total", True),
}
#: status word in the URL -> Clopos' receipt status
RECEIPT_STATUS_WORDS: dict[str, int] = {"open": 1, "closed": 2}


def payment_details_visible(user: User | AnonymousUser) -> bool:
    """Whether `user` sees a receipt's lines and payments (cash, card, methods), on the receipt
    page, in the receipts list and in exports. The one place this rule lives."""
    return user.has_perm(perms.VIEW_PAYMENTS)


# --- One receipt --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    receipt: Receipt
    venue_name: str | None
    sale_type_name: str | None
    freshness: Freshness


def receipt_get(*, receipt_id: int, venue_ids: Collection[int] | None, refresh: bool = False) -> ReceiptPage:
    """The receipt with names resolved, or CloposNotFoundError when it is unknown or belongs to a
    venue outside `venue_ids` (answered exactly alike: `orders.services.visible_record`)."""
    source = receipt_source(receipt_id)
    hidden_key = keys.not_visible_key(receipt_id, venue_ids, "receipt")
    with deadline.timed("cache"):
        seen = cache.get_many([source.key, hidden_key, keys.venues_key(), keys.sale_types_key()])
    loaded = visible_record(
        source,
        record_id=receipt_id,
        kind="receipt",
        venue_of=lambda receipt: receipt.venue_id,
        venue_ids=venue_ids,
        refresh=refresh,
        seen=seen,
    )
    receipt = loaded.value
    names = catalogue.venue_names(seen)
    return ReceiptPage(
        receipt=receipt,
        venue_name=names.get(receipt.venue_id) if receipt.venue_id is not None else None,
        sale_type_name=receipt.sale_type_name or catalogue.sale_type_name(receipt.sale_type_id, seen),
        freshness=loaded.freshness,
    )


# --- The list -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptFilters(ListFilters):
    """The receipts list's filters: the orders list's (business day or range, venues, statuses,
    sale types, sort, page) plus payment methods. Statuses are "open" and "closed"."""

    payment_method_ids: tuple[int, ...] = ()

    def query_pairs(self, *, page: int | None = None) -> list[tuple[str, str]]:
        pairs = super(ReceiptFilters, self).query_pairs(page=page)
        extra = [("payment_method", str(p)) for p in self.payment_method_ids]
        # Before `sort` and `page`, like the form's order.
        cut = next((i for i, (key, _) in enumerate(pairs) if key in ("sort", "page")), len(pairs))
        return pairs[:cut] + extra + pairs[cut:]


@dataclass(frozen=True, slots=True)
class ReceiptListPlan:
    filters: ReceiptFilters
    first_day: dt.date
    last_day: dt.date
    # Venues the user may see rows of: the picked ones, else the scope; None means every venue.
    venues: frozenset[int] | None
    query: ReceiptQuery
    today: bool

    @property
    def shift_dates(self) -> tuple[dt.date, ...]:
        return self.query.shift_dates

    def keeps(self, receipt: Receipt) -> bool:
        """Exactly the rows the filters ask for, whatever Clopos' filters did."""
        if self.venues is not None and receipt.venue_id not in self.venues:
            return False
        if receipt.shift_date is None or not self.first_day <= receipt.shift_date <= self.last_day:
            return False
        statuses = {RECEIPT_STATUS_WORDS[s] for s in self.filters.statuses if s in RECEIPT_STATUS_WORDS}
        if statuses and receipt.status not in statuses:
            return False
        if self.filters.sale_type_ids and receipt.sale_type_id not in self.filters.sale_type_ids:
            return False
        wanted = self.filters.payment_method_ids
        return not wanted or any(p.id in wanted for p in receipt.payments)


def plan_receipts(
    *,
    filters: ReceiptFilters,
    venue_scope: Collection[int] | None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    cutoffs: Cutoffs | None = None,
) -> ReceiptListPlan:
    """The Clopos query for these filters in this scope. "Today" is the shift the venue in play
    (or the default cutoff) is in now; Clopos decides every receipt's shift itself."""
    now = now or timezone.now()
    if filters.venue_ids:
        venues: frozenset[int] | None = frozenset(filters.venue_ids)
    else:
        venues = frozenset(venue_scope) if venue_scope is not None else None
    cutoffs = cutoffs if cutoffs is not None else venue_cutoffs()
    in_play = cutoffs.relevant(venues)
    cutoff = next(iter(in_play)) if len(in_play) == 1 else cutoffs.default
    today = business_day.business_day_of(now, cutoff, zone())
    if filters.is_range:
        assert filters.first is not None and filters.last is not None
        first_day, last_day = filters.first, filters.last
    else:
        first_day = last_day = filters.day or today
    days = tuple(first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1))
    sort_field, descending = RECEIPT_SORTS[filters.sort]
    query = ReceiptQuery.build(
        page=filters.page,
        limit=limit or settings.CLOPOS_RECEIPT_PAGE_SIZE,
        shift_dates=days,
        statuses=[RECEIPT_STATUS_WORDS[s] for s in filters.statuses if s in RECEIPT_STATUS_WORDS],
        # The scope goes to Clopos as a filter: rows of other venues are never fetched.
        venue_ids=sorted(venues) if venues is not None else (),
        sale_type_ids=filters.sale_type_ids,
        payment_method_ids=filters.payment_method_ids,
        sort=sort_field,
        descending=descending,
    )
    return ReceiptListPlan(
        filters=filters,
        first_day=first_day,
        last_day=last_day,
        venues=venues,
        query=query,
        today=first_day <= today <= last_day,
    )


def receipt_list_source(plan: ReceiptListPlan) -> Source[ReceiptListPage]:
    return receipt_query_source(plan.query, today=plan.today)


def receipt_query_source(query: ReceiptQuery, *, today: bool) -> Source[ReceiptListPage]:
    """One page of `GET /v2/receipts` as a cached record, keyed by its query (list pages have
    the orders list's ages: short for today, long for past days)."""
    return Source(
        key=keys.receipt_list_key(query.fingerprint()),
        fetch=lambda: get_clopos_client().list_receipts(query),
        parse=lambda body: parse_payload(
            ReceiptListPage.from_payload, body, zone(), page=query.page, limit=query.limit
        ),
        ages=lambda _: keys.order_list_ages(today=today),
    )


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    receipt: Receipt
    venue_name: str | None
    sale_type_name: str | None


@dataclass(frozen=True, slots=True)
class PageTotals:
    """Sums over the rows shown: this page only, never the whole list."""

    count: int
    total: Decimal
    cash: Decimal
    card: Decimal
    other: Decimal
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class ReceiptList:
    plan: ReceiptListPlan
    rows: tuple[ReceiptRow, ...]
    page: ReceiptListPage
    freshness: Freshness
    venue_names: Mapping[int, str]
    sale_types: tuple[SaleType, ...]
    payment_methods: tuple[PaymentMethod, ...] = field(default=())

    @property
    def dropped(self) -> int:
        """Rows Clopos sent on this page that our own check left out."""
        return self.page.received - len(self.rows)

    @property
    def totals(self) -> PageTotals | None:
        if not self.rows:
            return None
        zero = Decimal(0)
        receipts = [row.receipt for row in self.rows]
        return PageTotals(
            count=len(receipts),
            total=sum((r.total or zero for r in receipts), zero),
            cash=sum((r.by_cash or zero for r in receipts), zero),
            card=sum((r.by_card or zero for r in receipts), zero),
            other=sum((r.paid_by_other or zero for r in receipts), zero),
            remaining=sum((r.remaining or zero for r in receipts), zero),
        )


def receipt_rows(
    plan: ReceiptListPlan, page: ReceiptListPage, names: Mapping[int, str], sale_types: tuple[SaleType, ...]
) -> tuple[ReceiptRow, ...]:
    sale_type_names = {s.id: s.name for s in sale_types}
    return tuple(
        ReceiptRow(
            receipt=receipt,
            venue_name=names.get(receipt.venue_id) if receipt.venue_id is not None else None,
            sale_type_name=receipt.sale_type_name
            or (sale_type_names.get(receipt.sale_type_id) if receipt.sale_type_id is not None else None),
        )
        for receipt in page.rows
        if plan.keeps(receipt)
    )


def receipt_list_get(
    *,
    filters: ReceiptFilters,
    venue_scope: Collection[int] | None,
    refresh: bool = False,
    now: dt.datetime | None = None,
) -> ReceiptList:
    """One page of the receipts list for these filters, in the user's scope (None: every venue).

    At most one Clopos call for the page (none when cached), plus the catalogue (venues, sale
    types, payment methods) when it is not cached. `refresh` skips the cache for the page.
    Raises a CloposError when Clopos fails and no earlier copy of the page exists.
    """
    catalogue_keys = [keys.venues_key(), keys.sale_types_key(), keys.payment_methods_key()]
    # One cache round trip for the venues' cutoffs, the page and the catalogue.
    plan, seen = read_planned(
        lambda cutoffs: plan_receipts(filters=filters, venue_scope=venue_scope, now=now, cutoffs=cutoffs),
        lambda plan: [receipt_list_source(plan).key, *catalogue_keys],
    )
    source = receipt_list_source(plan)
    loaded = store.load(source, refresh=refresh, seen=seen.get(source.key))
    names = catalogue.venue_names(seen)
    sale_types = catalogue.catalogue_load(catalogue.sale_types_source(), seen) or ()
    methods = catalogue.catalogue_load(catalogue.payment_methods_source(), seen) or ()
    return ReceiptList(
        plan=plan,
        rows=receipt_rows(plan, loaded.value, names, sale_types),
        page=loaded.value,
        freshness=loaded.freshness,
        venue_names=names,
        sale_types=sale_types,
        payment_methods=methods,
    )
