"""Human labels for the codes Clopos sends, in one place.

Every code a page shows goes through `label(kind, code)`: order statuses, the receipt's own
workflow (`order_status`), the receipt's open/closed status, integration statuses, order types
and channels, and our paid states. A code Clopos adds later is shown as it is, never hidden or
guessed at. Labels are lazy translations, so each renders in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: kind -> code -> (label, symbol). The symbol is decorative (aria-hidden) and never alone: each
#: status has its own shape, so none is told apart by colour only.
CODES: Mapping[str, Mapping[str, tuple[StrOrPromise, str]]] = {
    "order_status": {
        "PENDING": (pgettext_lazy("order status", "Pending"), "◷"),
        "RECEIVED": (pgettext_lazy("order status", "Received"), "▶"),
        "DELIVERED": (pgettext_lazy("order status", "Delivered"), "✔"),
        "IGNORE": (pgettext_lazy("order status", "Ignored"), "✕"),
    },
    # The receipt's own workflow field, separate from the order's status (API.md §6.1).
    "receipt_order_status": {
        "NEW": (pgettext_lazy("receipt workflow", "New"), "○"),
        "SCHEDULED": (pgettext_lazy("receipt workflow", "Scheduled"), "◷"),
        "IN_PROGRESS": (pgettext_lazy("receipt workflow", "In progress"), "▶"),
        "READY": (pgettext_lazy("receipt workflow", "Ready"), "◉"),
        "PICKED_UP": (pgettext_lazy("receipt workflow", "Picked up"), "⇥"),
        "COMPLETED": (pgettext_lazy("receipt workflow", "Completed"), "✔"),
        "CANCELLED": (pgettext_lazy("receipt workflow", "Cancelled"), "✕"),
    },
    "receipt_status": {
        "1": (pgettext_lazy("receipt status", "Open"), "□"),
        "2": (pgettext_lazy("receipt status", "Closed"), "■"),
    },
    "integration_status": {
        "CREATED": (pgettext_lazy("integration status", "Created (the channel's own status)"), ""),
    },
    "order_type": {
        "CALL_CENTER_ORDER": (_("Call-centre order"), ""),
    },
    "integration": {
        "call_center_new": (_("Call centre"), ""),
    },
    # Ours (orders.summary.PaidState): whether the receipt was paid.
    "paid_state": {
        "paid": (pgettext_lazy("paid state", "Paid"), "●"),
        "partly_paid": (pgettext_lazy("paid state", "Partly paid"), "◐"),
        "unpaid": (pgettext_lazy("paid state", "Unpaid"), "○"),
        "no_receipt": (pgettext_lazy("paid state", "No receipt yet"), "–"),
        "never": (pgettext_lazy("paid state", "No receipt: ignored orders never get one"), "⊘"),
        "unknown": (pgettext_lazy("paid state", "Payment unknown"), "?"),
    },
}


def label(kind: str, code: object) -> str:
    """The human label of `code`, or the code itself when it is not known (shown as it is)."""
    if code is None or code == "":
        return ""
    known = CODES.get(kind, {}).get(str(code))
    return str(known[0]) if known else str(code)


def symbol(kind: str, code: object) -> str:
    """The code's symbol; `?` for a code not known yet."""
    known = CODES.get(kind, {}).get(str(code))
    return known[1] if known else "?"


def is_known(kind: str, code: object) -> bool:
    return str(code) in CODES.get(kind, {})
