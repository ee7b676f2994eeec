"""Forms of the orders pages: the lookup box, record ids in URLs, the lists' filters (orders and
receipts, on one base) and the customer search box.

Every filter is a GET parameter, so a list is a link: `day=YYYY-MM-DD` or `from`/`to` (business
days), repeatable `venue`, `status` and `sale_type` (and `payment_method` on receipts), `sort` and
`page`. An invalid value is a form error (a 400 page showing it), never an upstream call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from console.access import InputError
from console.ids import (
    INVALID_CUSTOMER_ID,
    INVALID_ORDER_ID,
    INVALID_RECEIPT_ID,
    LOOKUP_HELP,
    LookupTarget,
    parse_id,
    parse_lookup_target,
)
from orders.customers import SearchTerm, read_search_term
from orders.receipts import RECEIPT_STATUS_WORDS, ReceiptFilters
from orders.selectors import MAX_RANGE_DAYS, ListFilters

MAX_PAGE = 10_000
# A status: the four Clopos documents, or another word it may add (shown as it is).
STATUS_WORD = re.compile(r"[A-Z][A-Z_]{0,31}")


def order_id_from_url(raw: str) -> int:
    """The order id of a URL segment, or InputError (a clear 400, never an upstream call)."""
    order_id = parse_id(raw)
    if order_id is None:
        raise InputError(gettext(INVALID_ORDER_ID), value=raw)
    return order_id


def receipt_id_from_url(raw: str) -> int:
    """The receipt id of a URL segment, or InputError (a 400, never an upstream call)."""
    receipt_id = parse_id(raw)
    if receipt_id is None:
        raise InputError(gettext(INVALID_RECEIPT_ID), value=raw)
    return receipt_id


def customer_id_from_url(raw: str) -> int:
    """The customer id of a URL segment, or InputError (a 400, never an upstream call)."""
    customer_id = parse_id(raw)
    if customer_id is None:
        raise InputError(gettext(INVALID_CUSTOMER_ID), value=raw)
    return customer_id


class OrderLookupForm(forms.Form):
    """The lookup box: an order number, "#4103", "4103." or a pasted order link; or a receipt,
    "r20855" (`target` says which, once valid; `order_id` holds the number either way)."""

    order_id = forms.CharField(label=_("Order id"), max_length=300, strip=True)
    target: LookupTarget | None = None

    def clean_order_id(self) -> int:
        target = parse_lookup_target(self.cleaned_data["order_id"])
        if target is None:
            raise forms.ValidationError(gettext(LOOKUP_HELP), code="invalid")
        self.target = target
        return target.id


class _ListField(forms.Field):
    """A repeatable GET parameter (`?venue=1&venue=3`): a list of strings, maybe empty."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        return [str(v).strip() for v in values if str(v).strip()]


class _ListFiltersForm(forms.Form):
    """What the orders and receipts lists share: the business day or a range, venues (checked
    against the user's venue scope, None: every venue), sale types and the page. Subclasses add
    `status`, `sort` and their own choices, and build their filters in `filters()`."""

    day = forms.DateField(
        label=_("Business day"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    venue = _ListField(label=_("Venue"), required=False)
    status = _ListField(label=_("Status"), required=False)
    sale_type = _ListField(label=_("Sale type"), required=False)
    page = forms.IntegerField(
        label=_("Page"),
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={
            "invalid": _("Enter a page number from 1."),
            "min_value": _("Enter a page number from 1."),
            "max_value": _("Enter a page number from 1."),
        },
    )

    def __init__(self, data: QueryDict | None = None, *, venue_scope: Collection[int] | None) -> None:
        super().__init__(data)
        self.venue_scope = venue_scope
        # `from` is a Python keyword: these two are added by name.
        date_errors = {"invalid": _("Enter a date as YYYY-MM-DD.")}
        self.fields["from"] = forms.DateField(
            label=_("From"), required=False, input_formats=["%Y-%m-%d"], error_messages=date_errors
        )
        self.fields["to"] = forms.DateField(
            label=_("To"), required=False, input_formats=["%Y-%m-%d"], error_messages=date_errors
        )

    def clean_venue(self) -> tuple[int, ...]:
        venue_ids = []
        for raw in self.cleaned_data["venue"]:
            venue_id = parse_id(raw)
            if venue_id is None:
                raise forms.ValidationError(gettext("Choose venues from the list."), code="invalid")
            if self.venue_scope is not None and venue_id not in self.venue_scope:
                # Never widened silently: a venue outside the scope is an error, not ignored.
                raise forms.ValidationError(
                    gettext("Venue %(venue)s is not one of your venues.") % {"venue": venue_id}, code="scope"
                )
            venue_ids.append(venue_id)
        return tuple(sorted(set(venue_ids)))

    def clean_sale_type(self) -> tuple[int, ...]:
        sale_type_ids = []
        for raw in self.cleaned_data["sale_type"]:
            sale_type_id = parse_id(raw)
            if sale_type_id is None:
                raise forms.ValidationError(gettext("Choose sale types from the list."), code="invalid")
            sale_type_ids.append(sale_type_id)
        return tuple(sorted(set(sale_type_ids)))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        day, first, last = cleaned.get("day"), cleaned.get("from"), cleaned.get("to")
        if self.errors:
            return cleaned
        if day and (first or last):
            raise forms.ValidationError(gettext("Choose one business day or a range, not both."), code="both")
        if bool(first) != bool(last):
            field = "to" if first else "from"
            self.add_error(field, gettext("A range needs a start and an end."))
        elif first and last:
            if last < first:
                self.add_error("to", gettext("The range ends before it starts."))
            elif (last - first).days + 1 > MAX_RANGE_DAYS:
                self.add_error(
                    "to",
                    ngettext(
                        "A range can cover at most %(days)d day.",
                        "A range can cover at most %(days)d days.",
                        MAX_RANGE_DAYS,
                    )
                    % {"days": MAX_RANGE_DAYS},
                )
        return cleaned

    def _common(self) -> dict[str, Any]:
        """The filters both lists read, as ListFilters' keyword arguments."""
        data = self.cleaned_data
        return {
            "day": data.get("day"),
            "first": data.get("from"),
            "last": data.get("to"),
            "venue_ids": data.get("venue") or (),
            "statuses": data.get("status") or (),
            "sale_type_ids": data.get("sale_type") or (),
            "sort": data.get("sort") or "newest",
            "page": data.get("page") or 1,
        }


class OrderListForm(_ListFiltersForm):
    """The orders list's filters."""

    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("newest", _("Newest first")), ("oldest", _("Oldest first")), ("updated", _("Recently updated"))],
        error_messages={"invalid_choice": _("Sort by newest, oldest or updated.")},
    )

    def clean_status(self) -> tuple[str, ...]:
        statuses = []
        for raw in self.cleaned_data["status"]:
            status = raw.upper()
            if not STATUS_WORD.fullmatch(status):
                raise forms.ValidationError(gettext("Choose statuses from the list."), code="invalid")
            statuses.append(status)
        return tuple(dict.fromkeys(statuses))

    def filters(self) -> ListFilters:
        return ListFilters(**self._common())


class ReceiptListForm(_ListFiltersForm):
    """The receipts list's filters: statuses are open and closed, plus payment methods."""

    payment_method = _ListField(label=_("Payment method"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("closed", _("Recently closed")),
            ("total", _("Highest total")),
        ],
        error_messages={"invalid_choice": _("Sort by newest, oldest, recently closed or highest total.")},
    )

    def clean_status(self) -> tuple[str, ...]:
        statuses = []
        for raw in self.cleaned_data["status"]:
            status = raw.lower()
            if status not in RECEIPT_STATUS_WORDS:
                raise forms.ValidationError(gettext("Choose open or closed."), code="invalid")
            statuses.append(status)
        return tuple(dict.fromkeys(statuses))

    def clean_payment_method(self) -> tuple[int, ...]:
        method_ids = []
        for raw in self.cleaned_data["payment_method"]:
            method_id = parse_id(raw)
            if method_id is None:
                raise forms.ValidationError(gettext("Choose payment methods from the list."), code="invalid")
            method_ids.append(method_id)
        return tuple(sorted(set(method_ids)))

    def filters(self) -> ReceiptFilters:
        return ReceiptFilters(**self._common(), payment_method_ids=self.cleaned_data.get("payment_method") or ())


def list_filters_from_query(query: str, *, venue_scope: Collection[int] | None) -> ListFilters | None:
    """The filters in a list's query string (the `list` parameter of an order page), or None
    when it is not a valid list query: an invalid context is ignored, never an error."""
    if len(query) > 2000:
        return None
    form = OrderListForm(QueryDict(query), venue_scope=venue_scope)
    return form.filters() if form.is_valid() else None


class CustomerSearchForm(forms.Form):
    """The customer search box: a phone number in any common writing, or part of a name."""

    q = forms.CharField(label=_("Phone or name"), max_length=100, strip=True)

    def clean_q(self) -> SearchTerm:
        text = unicodedata.normalize("NFC", self.cleaned_data["q"])
        term, problem = read_search_term(text)
        if term is None:
            raise forms.ValidationError(gettext(problem), code="invalid")
        return term
