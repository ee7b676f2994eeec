from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.selectors import AuditFilters
from console.ids import INVALID_ORDER_ID, parse_id

ISO_DATE = "%Y-%m-%d"


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=_("User"), max_length=150, required=False)
    order_id = forms.CharField(label=_("Order id"), max_length=32, required=False)
    # A date input holds ISO dates in every language (the browser shows them its own way), not
    # the language's input format ("27.11.2026"), which it would drop.
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)
    )

    def clean_order_id(self) -> int | None:
        raw = self.cleaned_data["order_id"]
        if not raw:
            return None
        order_id = parse_id(raw)
        if order_id is None:
            raise forms.ValidationError(gettext(INVALID_ORDER_ID), code="invalid")
        return order_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean() returns cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(gettext("The start date is after the end date."), code="reversed")
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            username=data.get("username") or None,
            order_id=data.get("order_id"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
