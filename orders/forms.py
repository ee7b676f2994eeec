"""Order-id validation, shared by the lookup box and the order URLs."""

import re

from django import forms

# Clopos v2 ids are positive integers; anything a browser can carry must also survive JavaScript,
# so the upper bound is 2^53 - 1. ASCII digits only: str.isdigit() would accept "١٢٣".
MAX_ORDER_ID = 2**53 - 1
ORDER_ID_PATTERN = re.compile(r"[0-9]{1,16}")
INVALID_ORDER_ID = "Enter an order id: a whole number from 1 to 9007199254740991."


def parse_order_id(raw: str) -> int | None:
    """The order id in `raw`, or None when it is not a valid Clopos order id."""
    text = raw.strip()
    if not ORDER_ID_PATTERN.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ORDER_ID else None


class OrderLookupForm(forms.Form):
    order_id = forms.CharField(label="Order id", max_length=32, strip=True)

    def clean_order_id(self) -> int:
        order_id = parse_order_id(self.cleaned_data["order_id"])
        if order_id is None:
            raise forms.ValidationError(INVALID_ORDER_ID, code="invalid")
        return order_id


class AuditFilterForm(forms.Form):
    username = forms.CharField(label="User", max_length=150, required=False)
    order_id = forms.CharField(label="Order id", max_length=32, required=False)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_order_id(self) -> int | None:
        raw = self.cleaned_data["order_id"]
        if not raw:
            return None
        order_id = parse_order_id(raw)
        if order_id is None:
            raise forms.ValidationError(INVALID_ORDER_ID, code="invalid")
        return order_id

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("username"):
            entries = entries.filter(username__iexact=data["username"])
        if data.get("order_id"):
            entries = entries.filter(order_id=data["order_id"])
        if data.get("date_from"):
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            entries = entries.filter(created_at__date__lte=data["date_to"])
        return entries
