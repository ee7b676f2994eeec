"""Customers: the search box (a phone in any writing, or part of a name), one customer, and their
recent receipts and orders.

A search is ONE Clopos call (`GET /v2/customers`): a name goes as Clopos' partial `name` filter; a
phone is read into one canonical number (`orders.phones`) and sent as one `phones` filter holding
every form Clopos may have stored it in (`clopos.listing.phone_stored_forms`). At most one page of
results is shown. The user's venue scope goes to Clopos as a filter and is checked again here,
like the phone itself: a filter Clopos ignored never widens what the user sees.

A customer's history reads the receipts and orders lists filtered by customer, over a bounded
window (CLOPOS_CUSTOMER_HISTORY_DAYS, at most _MAX_DAYS) and at most
CLOPOS_CUSTOMER_HISTORY_MAX_PAGES pages of each; the page says how much was searched.

Every page of customer data is personal: the views audit each search (the query masked) and each
customer view before anything is shown.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_noop

from clopos import catalogue, deadline, keys, store
from clopos.client import get_clopos_client
from clopos.errors import CloposError
from clopos.listing import CustomerQuery, OrderQuery, ReceiptQuery, dates_covering
from clopos.store import Freshness, Source
from clopos.types import (
    CustomerListPage,
    CustomerRecord,
    OrderSummary,
    parse_payload,
)
from orders.masking import mask_phone
from orders.phones import PhoneNumber, looks_like_phone, parse_phone
from orders.receipts import ReceiptRow, receipt_query_source
from orders.selectors import order_query_source, zone
from orders.services import visible_record

MIN_NAME_LETTERS = 2

# --- The search box -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """What a search asks Clopos for: a phone number, or (part of) a name."""

    kind: str  # "phone" or "name"
    text: str
    phone: PhoneNumber | None = None

    @property
    def masked(self) -> str:
        """The query as the audit log keeps it: a phone masked, never the raw number."""
        if self.phone is not None:
            return f"phone {mask_phone(self.phone.e164)}"
        return f"name {self.text}"


def read_search_term(text: str) -> tuple[SearchTerm | None, str]:
    """(the term, "") or (None, why not): the message is marked for translation, not translated."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if looks_like_phone(text):
        phone = parse_phone(text)
        if phone is None:
            return None, gettext_noop("Type the whole phone number with its code, e.g. 050 333 22 11.")
        return SearchTerm("phone", phone.e164, phone), ""
    if sum(1 for ch in text if ch.isalpha()) < MIN_NAME_LETTERS:
        return None, gettext_noop("Type at least two letters of the name, or a phone number.")
    return SearchTerm("name", text), ""


# --- Searching ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerHit:
    customer: CustomerRecord
    venue_name: str | None


@dataclass(frozen=True, slots=True)
class CustomerSearch:
    term: SearchTerm
    hits: tuple[CustomerHit, ...]
    # More customers match than are shown: the user should narrow the search.
    more: bool
    limit: int
    # How many phone forms the one request carried (0 for a name search).
    forms_tried: int
    freshness: Freshness


def _in_scope(venue_id: int | None, venue_ids: Collection[int] | None) -> bool:
    return venue_ids is None or venue_id in venue_ids


def _has_number(customer: CustomerRecord, phone: PhoneNumber) -> bool:
    return any(parse_phone(stored) == phone for stored in customer.phones)


def customer_search_source(query: CustomerQuery) -> Source[CustomerListPage]:
    return Source(
        key=keys.customer_search_key(query.fingerprint()),
        fetch=lambda: get_clopos_client().list_customers(query),
        parse=lambda body: parse_payload(CustomerListPage.from_payload, body, zone(), page=1, limit=query.limit),
        ages=lambda _: keys.customer_ages(),
    )


def customer_search(*, term: SearchTerm, venue_scope: Collection[int] | None) -> CustomerSearch:
    """At most CLOPOS_CUSTOMER_SEARCH_RESULTS customers in the user's scope matching `term`, from
    one Clopos call (none when the same search is cached). Raises a CloposError when Clopos fails
    and no earlier copy exists."""
    limit = settings.CLOPOS_CUSTOMER_SEARCH_RESULTS
    phones = term.phone.stored_forms() if term.phone is not None else ()
    query = CustomerQuery.build(
        # One more than is shown: a full page says there are more.
        limit=limit + 1,
        name=term.text if term.kind == "name" else "",
        phones=phones,
        venue_ids=sorted(venue_scope) if venue_scope is not None else (),
    )
    source = customer_search_source(query)
    with deadline.timed("cache"):
        seen = cache.get_many([source.key, keys.venues_key()])
    loaded = store.load(source, seen=seen.get(source.key))
    kept = [
        customer
        for customer in loaded.value.rows
        if _in_scope(customer.venue_id, venue_scope) and (term.phone is None or _has_number(customer, term.phone))
    ]
    names = catalogue.venue_names(seen)
    return CustomerSearch(
        term=term,
        hits=tuple(
            CustomerHit(customer, names.get(customer.venue_id) if customer.venue_id is not None else None)
            for customer in kept[:limit]
        ),
        more=len(kept) > limit or loaded.value.received > limit,
        limit=limit,
        forms_tried=len(phones),
        freshness=loaded.freshness,
    )


# --- One customer -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    customer: CustomerRecord
    venue_name: str | None
    freshness: Freshness


def customer_source(customer_id: int) -> Source[CustomerRecord]:
    return Source(
        key=keys.customer_key(customer_id),
        fetch=lambda: get_clopos_client().get_customer(customer_id),
        parse=lambda payload: parse_payload(CustomerRecord.from_payload, payload, zone()),
        ages=lambda _: keys.customer_ages(),
    )


def customer_get(*, customer_id: int, venue_ids: Collection[int] | None, refresh: bool = False) -> CustomerDetail:
    """The customer, or CloposNotFoundError when unknown or of a venue outside `venue_ids`
    (answered exactly alike: `orders.services.visible_record`)."""
    source = customer_source(customer_id)
    hidden_key = keys.not_visible_key(customer_id, venue_ids, "customer")
    with deadline.timed("cache"):
        seen = cache.get_many([source.key, hidden_key, keys.venues_key()])
    loaded = visible_record(
        source,
        record_id=customer_id,
        kind="customer",
        venue_of=lambda customer: customer.venue_id,
        venue_ids=venue_ids,
        refresh=refresh,
        seen=seen,
    )
    customer = loaded.value
    names = catalogue.venue_names(seen)
    return CustomerDetail(
        customer=customer,
        venue_name=names.get(customer.venue_id) if customer.venue_id is not None else None,
        freshness=loaded.freshness,
    )


# --- Their recent receipts and orders ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistorySection[T]:
    """What was found in one list, and how much of it was read."""

    rows: tuple[T, ...]
    pages_read: int
    # Rows Clopos sent on the pages read (before our own checks).
    records_read: int
    # Clopos has more pages than the cap let us read.
    more: bool
    error: CloposError | None = None


@dataclass(frozen=True, slots=True)
class OrderHistoryRow:
    order: OrderSummary
    venue_name: str | None


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    days: int
    since: dt.date
    until: dt.date
    max_pages: int
    receipts: HistorySection[ReceiptRow]
    orders: HistorySection[OrderHistoryRow]


def history_days(raw: str | None) -> int:
    """The `days` of a customer page: the default when absent; ValueError when not 1..max."""
    if raw is None or raw == "":
        return int(settings.CLOPOS_CUSTOMER_HISTORY_DAYS)
    if not re.fullmatch(r"[0-9]{1,3}", raw.strip()):
        raise ValueError(raw)
    days = int(raw)
    if not 1 <= days <= settings.CLOPOS_CUSTOMER_HISTORY_MAX_DAYS:
        raise ValueError(raw)
    return days


def _receipt_history(
    customer_id: int, venue_scope: Collection[int] | None, since: dt.date, until: dt.date, names: Mapping[int, str]
) -> HistorySection[ReceiptRow]:
    max_pages = settings.CLOPOS_CUSTOMER_HISTORY_MAX_PAGES
    rows: list[ReceiptRow] = []
    pages = records = 0
    more = False
    for page_number in range(1, max_pages + 1):
        # `date[]` filters created_at by calendar date; a day either side covers a UTC reading.
        query = ReceiptQuery.build(
            page=page_number,
            limit=200,
            date_from=since - dt.timedelta(days=1),
            date_to=until + dt.timedelta(days=1),
            customer_ids=[customer_id],
            venue_ids=sorted(venue_scope) if venue_scope is not None else (),
        )
        try:
            page = store.load(receipt_query_source(query, today=True)).value
        except CloposError as exc:
            return HistorySection(tuple(rows), pages, records, more, error=exc)
        pages += 1
        records += page.received
        for receipt in page.rows:
            created = receipt.created_at.astimezone(zone()).date() if receipt.created_at else None
            if (
                receipt.customer_id == customer_id
                and _in_scope(receipt.venue_id, venue_scope)
                and created is not None
                and since <= created <= until
            ):
                rows.append(ReceiptRow(receipt, names.get(receipt.venue_id or 0), receipt.sale_type_name))
        more = page.has_next
        if not page.has_next:
            break
    return HistorySection(tuple(rows), pages, records, more)


def _order_history(
    customer_id: int, venue_scope: Collection[int] | None, since: dt.date, until: dt.date, names: Mapping[int, str]
) -> HistorySection[OrderHistoryRow]:
    tz = zone()
    start = dt.datetime.combine(since, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    date_from, date_to = dates_covering(start, end, tz)
    max_pages = settings.CLOPOS_CUSTOMER_HISTORY_MAX_PAGES
    rows: list[OrderHistoryRow] = []
    pages = records = 0
    more = False
    for page_number in range(1, max_pages + 1):
        query = OrderQuery.build(
            page=page_number,
            limit=100,
            date_from=date_from,
            date_to=date_to,
            customer_ids=[customer_id],
            venue_ids=sorted(venue_scope) if venue_scope is not None else (),
        )
        try:
            page = store.load(order_query_source(query, today=True)).value
        except CloposError as exc:
            return HistorySection(tuple(rows), pages, records, more, error=exc)
        pages += 1
        records += page.received
        for order in page.rows:
            if (
                order.customer.id == customer_id
                and _in_scope(order.venue_id, venue_scope)
                and order.created_at is not None
                and start <= order.created_at < end
            ):
                rows.append(OrderHistoryRow(order, names.get(order.venue_id or 0)))
        more = page.has_next
        if not page.has_next:
            break
    return HistorySection(tuple(rows), pages, records, more)


def customer_history(
    *, customer_id: int, venue_scope: Collection[int] | None, days: int, now: dt.datetime | None = None
) -> CustomerHistory:
    """The customer's receipts and orders of the last `days` calendar days (venue time), from at
    most CLOPOS_CUSTOMER_HISTORY_MAX_PAGES pages of each list. A list that fails reports its
    error in its own section; the other still shows."""
    now = now or timezone.now()
    until = now.astimezone(zone()).date()
    since = until - dt.timedelta(days=days - 1)
    names = catalogue.venue_names()
    return CustomerHistory(
        days=days,
        since=since,
        until=until,
        max_pages=settings.CLOPOS_CUSTOMER_HISTORY_MAX_PAGES,
        receipts=_receipt_history(customer_id, venue_scope, since, until, names),
        orders=_order_history(customer_id, venue_scope, since, until, names),
    )


def customer_phones(customer: CustomerRecord, *, reveal: bool) -> tuple[str, ...]:
    """The customer's numbers as this user may see them (masked unless `reveal`)."""
    if reveal:
        return customer.phones
    return tuple(masked for masked in (mask_phone(p) for p in customer.phones) if masked)
