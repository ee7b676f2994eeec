"""Clopos record ids as the console accepts them, in URLs, forms and the lookup box."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from django.utils.translation import gettext_noop

# Clopos v2 ids are positive integers; anything a browser can carry must also survive JavaScript,
# so the upper bound is 2^53 - 1 (kept internal: users are never told about it). ASCII digits
# only: str.isdigit() would accept "١٢٣".
MAX_ID = 2**53 - 1
ID_PATTERN = re.compile(r"[0-9]{1,16}")
# Marked for translation here, translated where shown (gettext), so the constants stay plain str.
INVALID_ORDER_ID = gettext_noop("Enter an order id: a whole number, e.g. 4103.")
LOOKUP_HELP = gettext_noop("Type an order number, e.g. 4103, or r and a receipt number, e.g. r20855")
INVALID_RECEIPT_ID = gettext_noop("Enter a receipt id: a whole number, e.g. 20855.")
INVALID_CUSTOMER_ID = gettext_noop("Enter a customer id: a whole number, e.g. 1000.")

# What people paste into the lookup box around a number: "#4103", "4103.", "4103,".
_DECORATED_ID = re.compile(r"#?\s*([0-9]{1,16})\s*[.,;:!]?")
# An order's place in a URL path: /orders/4103/ (console, Clopos API), /order/4103.
_ORDER_SEGMENT = re.compile(r"(?:^|/)orders?/([0-9]{1,16})(?:/|$)")
# Query keys that carry an order id in a pasted link.
_ID_KEYS = ("order_id", "order", "id")
# A receipt: "r20855", "R20855", "r 20855", "r#20855" (the lookup box's receipt syntax).
_RECEIPT_ID = re.compile(r"[rR]\s*#?\s*([0-9]{1,16})\s*[.,;:!]?")
# A receipt's place in a pasted link: /receipts/20855/ (console, Clopos API), /receipt/20855.
_RECEIPT_SEGMENT = re.compile(r"(?:^|/)receipts?/([0-9]{1,16})(?:/|$)")


@dataclass(frozen=True, slots=True)
class LookupTarget:
    """What the lookup box was asked to open."""

    kind: Literal["order", "receipt"]
    id: int


def parse_id(raw: str) -> int | None:
    """The id in `raw`, or None when it is not a valid Clopos id."""
    text = raw.strip()
    if not ID_PATTERN.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_lookup(raw: str) -> int | None:
    """The order id in what someone typed or pasted into the lookup box, or None.

    Accepts "4103", " 4103 ", "#4103", "4103." and a link holding the id: the console's own
    (/orders/4103/, with or without scheme and host) or a Clopos one with an `orders/<id>` path
    segment or an `order_id`/`order`/`id` query value. Anything else is None, never a guess.
    """
    text = raw.strip()
    if not text:
        return None
    match = _DECORATED_ID.fullmatch(text)
    if match:
        return parse_id(match.group(1))
    if "/" not in text and "?" not in text:
        return None
    parts = urlsplit(text if "//" in text or text.startswith(("/", "?")) else f"//{text}")
    segment = _ORDER_SEGMENT.search(parts.path)
    if segment:
        return parse_id(segment.group(1))
    query = parse_qs(parts.query) | parse_qs(parts.fragment.partition("?")[2])
    for key in _ID_KEYS:
        values = query.get(key)
        if values and len(values) == 1:
            return parse_id(values[0])
    return None


def parse_lookup_target(raw: str) -> LookupTarget | None:
    """An order (as `parse_lookup` reads it) or a receipt: "r20855"/"R20855", or a pasted link
    with a `receipts/<id>` path segment. Anything else is None, never a guess."""
    text = raw.strip()
    match = _RECEIPT_ID.fullmatch(text)
    if match:
        receipt_id = parse_id(match.group(1))
        return LookupTarget("receipt", receipt_id) if receipt_id is not None else None
    if "/" in text:
        parts = urlsplit(text if "//" in text or text.startswith("/") else f"//{text}")
        segment = _RECEIPT_SEGMENT.search(parts.path)
        if segment:
            receipt_id = parse_id(segment.group(1))
            return LookupTarget("receipt", receipt_id) if receipt_id is not None else None
    order_id = parse_lookup(text)
    return LookupTarget("order", order_id) if order_id is not None else None
