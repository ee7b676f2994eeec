"""The orders list on the wire: every assumption we make about `GET /v2/orders`, in one place.

Clopos documents the list only in outline (../shared/clopos/API.md §4, §6.8, §12). What this
module assumes, each in one function or constant, so a wrong guess is fixed here and nowhere else:

1. Bracket syntax (`query_params`). Laravel-style indexed brackets: `with[0]=receipt`,
   `sort[0]=created_at&sort[1]=-1`, `date[0]=YYYY-MM-DD&date[1]=YYYY-MM-DD`,
   `filters[N][0]=field&filters[N][1]=value`. requests percent-encodes the brackets in keys
   (`date%5B0%5D`); we assume Clopos decodes them, as Laravel does [API.md §4, INF].
2. Filters with several values (`query_params`). Venues, several statuses and sale types go as
   one filter with an array value, `filters[N][1][M]=value` [API.md §4 documents the form; the
   field names `venue_id`, `status`, `sale_type_id` are not listed for orders, §6.8]. A single
   status uses the documented `status=` parameter instead. So one request carries the user's
   whole venue scope; no per-venue fan-out is needed.
3. The zone of `date[]` (`dates_covering`). `date[0]`/`date[1]` filter `created_at` by calendar
   date, inclusive, in a zone the docs do not name. We assume it is either UTC or the brand's
   zone (Asia/Baku) and send the dates that cover a window under both readings; the caller
   filters the rows exactly on its side.
4. The embedded receipt (`RECEIPT_EMBED`, `RECEIPT_SUMMARY_KEYS`, `embedded_receipt`).
   `with[0]=receipt` embeds each order's receipt under `receipt` as an object (or null when it
   has none), with at least `id` and `status` (1 open, 2 closed), and, we hope, `total` and
   `closed_at`. The docs show the embed only on the by-id page, with three columns (§6.2);
   anything missing is shown as unknown, never guessed.
5. The envelope's total (`envelope_total`). Current pages put the match count in a top-level
   `total`; an older page version used `pagination: {page, per_page, total, total_pages}`
   [API.md §4, §12 item 1]. Either is read; when neither is there the total is unknown and
   pages offer previous/next only.
6. Rows (`envelope_rows`). `data` is a list of full order objects, as by id (§6.4, §12 item 1).
   A row we cannot read is skipped and counted, never fatal for the page.
7. Limits (`MAX_LIMIT`). `limit` runs to 100 (the legacy stub's bound; v2 names only the
   default, 50) and pages count from 1.
8. Sorting (`SORT_FIELDS`). `sort[0]` takes `created_at`, `updated_at` or `id` (the docs'
   examples, §6.8) and `sort[1]` is -1 for descending, 1 for ascending (as on receipts, §5).
9. Orders of one customer (`OrderQuery.customer_ids`). `filters[N][0]=customer_id` matches the
   order's `payload.customer.id` [not documented for orders; INF].

The receipts list, `GET /v2/receipts` (API.md §5, §7), and the customers list, `GET /v2/customers`
(§5, S10), share the bracket syntax (1, 2) and the envelope readers (5, 6). Their own assumptions:

10. Receipts' business day (`ReceiptQuery.shift_dates`, `receipt_dates_covering`). Clopos stamps
    each receipt with `shift_date` (YYYY-MM-DD), its own reporting day [D S7]. We filter on it
    exactly: `filters[N][0]=shift_date` with the day, or the days of a range as array values
    ("any of") [`shift_date` is not among the filters the docs name: INF]. As a safety net the
    query also carries `date[0]`/`date[1]`, which the docs define on `created_at` [D S6]: a
    receipt of shift D was opened on calendar day D or D+1 (local time), and we widen that by a
    day on each side in case Clopos reads the dates in UTC; rows are checked again on our side.
11. Receipt filters (`receipt_query_params`): `status` (1 open, 2 closed) [D S6 names `status`],
    `sale_type_id` [D], `venue_id`, `payment_method_id` (a receipt matches when one of its
    `payment_methods` has the id) and `customer_id` [all three INF], each as one filter with an
    array value for several values.
12. Receipt limits and sorting (`RECEIPT_MAX_LIMIT`, `RECEIPT_SORT_FIELDS`): `limit` 1–200 [D S6];
    `sort[0]` ∈ created_at (default), closed_at, id, total [created_at documented, the others INF].
13. Receipt rows: the list's `data` holds receipts as by id, without `receipt_products` unless
    asked with `with[]` (we never ask: a list shows no lines) [D S6].
14. Customers (`CustomerQuery`, `customer_query_params`): `filters[N][0]=name` is a partial,
    case-insensitive match [D S10 says partial; case and Azerbaijani letters INF]. `phones` is an
    EXACT match against any of a customer's stored numbers [D S10 names the filter; exactness
    INF], and several values in one array filter mean "any of" [INF]: so a phone search is ONE
    request carrying every form Clopos may have stored (`phone_stored_forms`). `venue_id` and `id`
    filters on customers [INF]: the scope goes as a filter and is checked again on our side.
    `limit` 1–999 [D S10]. `GET /v2/customers/{id}` answers a bare object [D S10, §12 item 8].
15. Stored phone formats (`phone_stored_forms`). Clopos stores numbers as people typed them; the
    docs show "+994 50 333 22 11" [D S10]. We try the forms seen in practice:
    +994503332211, +994 50 333 22 11, 994503332211, 0503332211, 050-333-22-11,
    (050) 333 22 11, 050 333 22 11, +994 (50) 333-22-11 [INF].
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_LIMIT = 100
RECEIPT_EMBED = "receipt"
#: Our name -> the key of Clopos' embedded receipt that holds it.
RECEIPT_SUMMARY_KEYS = {"id": "id", "status": "status", "total": "total", "closed_at": "closed_at"}
SORT_FIELDS = ("created_at", "updated_at", "id")
RECEIPT_MAX_LIMIT = 200
RECEIPT_SORT_FIELDS = ("created_at", "closed_at", "id", "total")
#: Receipt `status`: 1 open, 2 closed [D S7].
RECEIPT_STATUSES = (1, 2)
CUSTOMER_MAX_LIMIT = 999


def fingerprint(params: list[tuple[str, str]]) -> str:
    """A short stable hash of a request's query string: the last part of its cache key."""
    text = "&".join(f"{key}={value}" for key, value in params)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _filter_params(filters: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, str]]:
    """`filters[N][0]=field` with `filters[N][1]=value`, or `filters[N][1][M]=value` for several
    values ("any of"); empty filters are left out."""
    params: list[tuple[str, str]] = []
    for n, (field, values) in enumerate((f, v) for f, v in filters if v):
        params.append((f"filters[{n}][0]", field))
        if len(values) == 1:
            params.append((f"filters[{n}][1]", values[0]))
        else:
            params.extend((f"filters[{n}][1][{m}]", value) for m, value in enumerate(values))
    return params


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(sorted(set(values or ())))


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """One page of `GET /v2/orders`, independent of how it is spelled on the wire.

    Empty tuples mean "no filter". Dates are Clopos calendar dates (see `dates_covering`).
    Build it with `OrderQuery.build`, which normalises the tuples, so equal queries are equal
    and share a cache entry.
    """

    page: int = 1
    limit: int = 50
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    statuses: tuple[str, ...] = ()
    venue_ids: tuple[int, ...] = ()
    sale_type_ids: tuple[int, ...] = ()
    customer_ids: tuple[int, ...] = ()
    sort: str = "created_at"
    descending: bool = True

    @classmethod
    def build(cls, **values: Any) -> OrderQuery:
        for name in ("statuses", "venue_ids", "sale_type_ids", "customer_ids"):
            values[name] = tuple(sorted(set(values.get(name) or ())))
        query = cls(**values)
        if query.sort not in SORT_FIELDS:
            raise ValueError(f"sort must be one of {SORT_FIELDS}")
        if not 1 <= query.limit <= MAX_LIMIT or query.page < 1:
            raise ValueError("page from 1, limit from 1 to MAX_LIMIT")
        return query

    def fingerprint(self) -> str:
        """A short stable hash of the request this query makes: the cache key's last part."""
        return fingerprint(query_params(self))


def query_params(query: OrderQuery) -> list[tuple[str, str]]:
    """The query string of `GET /v2/orders` for `query`, as ordered (key, value) pairs."""
    params = [
        ("page", str(query.page)),
        ("limit", str(query.limit)),
        ("with[0]", RECEIPT_EMBED),
        ("sort[0]", query.sort),
        ("sort[1]", "-1" if query.descending else "1"),
    ]
    if query.date_from is not None:
        params.append(("date[0]", query.date_from.isoformat()))
    if query.date_to is not None:
        params.append(("date[1]", query.date_to.isoformat()))
    filters: list[tuple[str, tuple[str, ...]]] = []
    if len(query.statuses) == 1:
        params.append(("status", query.statuses[0]))
    elif query.statuses:
        filters.append(("status", query.statuses))
    filters.append(("venue_id", tuple(map(str, query.venue_ids))))
    filters.append(("sale_type_id", tuple(map(str, query.sale_type_ids))))
    filters.append(("customer_id", tuple(map(str, query.customer_ids))))
    return params + _filter_params(filters)


def dates_covering(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> tuple[dt.date, dt.date]:
    """`date[0]`, `date[1]` such that every order created in [start, end) matches, whether
    Clopos reads the dates in UTC or in `zone` (the brand's zone). Both bounds are inclusive."""
    last = end - dt.timedelta(microseconds=1)
    zones = (dt.UTC, zone)
    return min(start.astimezone(z).date() for z in zones), max(last.astimezone(z).date() for z in zones)


def envelope_rows(body: Any) -> list[Any]:
    """The list in `data`; the client has already checked that it is a list."""
    data = body.get("data") if isinstance(body, Mapping) else None
    return data if isinstance(data, list) else []


def envelope_total(body: Any) -> int | None:
    """How many orders matched in all: top-level `total`, else `pagination.total`, else None."""
    if not isinstance(body, Mapping):
        return None
    for value in (body.get("total"), (body.get("pagination") or {}).get("total")):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value >= 0:
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def embedded_receipt(row: Mapping[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(whether Clopos said anything about the receipt, its summary under our names or None).

    Absent key: unknown. `null`: no receipt yet. An object: {id, status, total, closed_at}, raw
    values (None where Clopos left one out), for clopos.types.ReceiptSummary to read.
    """
    if RECEIPT_EMBED not in row:
        return False, None
    value = row.get(RECEIPT_EMBED)
    if not isinstance(value, Mapping):
        return True, None
    return True, {ours: value.get(theirs) for ours, theirs in RECEIPT_SUMMARY_KEYS.items()}


# --- Receipts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptQuery:
    """One page of `GET /v2/receipts`. Empty tuples mean "no filter". `shift_dates` are Clopos'
    business days (see `receipt_dates_covering` for the `date[]` safety net); `date_from`/`date_to`
    alone (no shift dates) filter `created_at` by calendar date, as the docs define it.
    Build it with `ReceiptQuery.build`, which normalises the tuples."""

    page: int = 1
    limit: int = 50
    shift_dates: tuple[dt.date, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    statuses: tuple[int, ...] = ()
    venue_ids: tuple[int, ...] = ()
    sale_type_ids: tuple[int, ...] = ()
    payment_method_ids: tuple[int, ...] = ()
    customer_ids: tuple[int, ...] = ()
    sort: str = "created_at"
    descending: bool = True

    @classmethod
    def build(cls, **values: Any) -> ReceiptQuery:
        for name in ("shift_dates", "statuses", "venue_ids", "sale_type_ids", "payment_method_ids", "customer_ids"):
            values[name] = _ints(values.get(name))
        if values["shift_dates"] and not (values.get("date_from") or values.get("date_to")):
            values["date_from"], values["date_to"] = receipt_dates_covering(values["shift_dates"])
        query = cls(**values)
        if query.sort not in RECEIPT_SORT_FIELDS:
            raise ValueError(f"sort must be one of {RECEIPT_SORT_FIELDS}")
        if not 1 <= query.limit <= RECEIPT_MAX_LIMIT or query.page < 1:
            raise ValueError("page from 1, limit from 1 to RECEIPT_MAX_LIMIT")
        if any(status not in RECEIPT_STATUSES for status in query.statuses):
            raise ValueError(f"receipt statuses are {RECEIPT_STATUSES}")
        return query

    def fingerprint(self) -> str:
        return fingerprint(receipt_query_params(self))


def receipt_dates_covering(shift_dates: tuple[dt.date, ...] | list[dt.date]) -> tuple[dt.date, dt.date]:
    """`date[0]`, `date[1]` (created_at, calendar dates, inclusive) that hold every receipt of
    these shifts: opened on D or D+1 local time (whatever the venue's cutoff), widened by a day
    on each side in case Clopos reads the dates in UTC."""
    return min(shift_dates) - dt.timedelta(days=1), max(shift_dates) + dt.timedelta(days=1)


def receipt_query_params(query: ReceiptQuery) -> list[tuple[str, str]]:
    """The query string of `GET /v2/receipts` for `query`, as ordered (key, value) pairs."""
    params = [
        ("page", str(query.page)),
        ("limit", str(query.limit)),
        ("sort[0]", query.sort),
        ("sort[1]", "-1" if query.descending else "1"),
    ]
    if query.date_from is not None:
        params.append(("date[0]", query.date_from.isoformat()))
    if query.date_to is not None:
        params.append(("date[1]", query.date_to.isoformat()))
    filters: list[tuple[str, tuple[str, ...]]] = [
        ("shift_date", tuple(day.isoformat() for day in query.shift_dates)),
        ("status", tuple(map(str, query.statuses))),
        ("venue_id", tuple(map(str, query.venue_ids))),
        ("sale_type_id", tuple(map(str, query.sale_type_ids))),
        ("payment_method_id", tuple(map(str, query.payment_method_ids))),
        ("customer_id", tuple(map(str, query.customer_ids))),
    ]
    return params + _filter_params(filters)


# --- Customers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    """One page of `GET /v2/customers`: a name (partial) or phone forms (exact, any of), within
    venues (empty: all), or customers by id."""

    page: int = 1
    limit: int = 50
    name: str = ""
    phones: tuple[str, ...] = ()
    venue_ids: tuple[int, ...] = ()
    ids: tuple[int, ...] = ()

    @classmethod
    def build(cls, **values: Any) -> CustomerQuery:
        for name in ("venue_ids", "ids"):
            values[name] = _ints(values.get(name))
        values["phones"] = tuple(dict.fromkeys(values.get("phones") or ()))
        query = cls(**values)
        if not 1 <= query.limit <= CUSTOMER_MAX_LIMIT or query.page < 1:
            raise ValueError("page from 1, limit from 1 to CUSTOMER_MAX_LIMIT")
        return query

    def fingerprint(self) -> str:
        return fingerprint(customer_query_params(self))


def customer_query_params(query: CustomerQuery) -> list[tuple[str, str]]:
    """The query string of `GET /v2/customers` for `query`."""
    params = [("page", str(query.page)), ("limit", str(query.limit))]
    filters: list[tuple[str, tuple[str, ...]]] = [
        ("name", (query.name,) if query.name else ()),
        ("phones", query.phones),
        ("venue_id", tuple(map(str, query.venue_ids))),
        ("id", tuple(map(str, query.ids))),
    ]
    return params + _filter_params(filters)


def phone_stored_forms(national: str, country: str = "994") -> tuple[str, ...]:
    """The forms in which Clopos may have stored a number, for an exact `phones` filter.

    `national` is the national significant number of an Azerbaijani number (9 digits: operator
    or area code, then 7 digits), e.g. "503332211"; the forms are the ones people type (and
    Clopos keeps as typed). Another country's number (`country` not 994) is tried as
    +<country><national> and <country><national> only.
    """
    full = f"{country}{national}"
    if country != "994" or len(national) != 9:
        return (f"+{full}", full)
    code, a, b, c = national[:2], national[2:5], national[5:7], national[7:]
    return (
        f"+{full}",
        f"+994 {code} {a} {b} {c}",
        full,
        f"0{national}",
        f"0{code}-{a}-{b}-{c}",
        f"(0{code}) {a} {b} {c}",
        f"0{code} {a} {b} {c}",
        f"+994 ({code}) {a}-{b}-{c}",
    )
