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
