"""Display helpers for Clopos values: money, statuses."""

import datetime as dt
from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()

CENT = Decimal("0.01")

# Text and a symbol for every status, so none is told by colour alone.
ORDER_STATUS_DISPLAY = {
    "PENDING": ("Pending", "◷", "pending"),
    "RECEIVED": ("Received", "✓", "received"),
    "DELIVERED": ("Delivered", "✔", "delivered"),
    "IGNORE": ("Ignored", "✕", "ignored"),
}


@register.filter
def money(value: Decimal | None) -> str:
    """18.5 → "18.50 AZN"; unknown amounts show as an em dash."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(CENT):,.2f} {settings.CLOPOS_CURRENCY}"


@register.filter
def amount(value: Decimal | None) -> str:
    """Like money, without the currency (for table cells)."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(CENT):,.2f}"


@register.filter
def number(value: Decimal | int | None) -> str:
    """A count or percentage without trailing zeros: 2.000 → 2, 10.50 → 10.5."""
    if value is None:
        return "—"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def duration_words(value: dt.timedelta) -> str:
    """timedelta(minutes=15) → "15 minutes"; hours and minutes, rounded up to the minute."""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


@register.inclusion_tag("includes/order_status.html")
def order_status(status: str) -> dict:
    label, symbol, css = ORDER_STATUS_DISPLAY.get(status, (status.title() or "Unknown", "?", "unknown"))
    return {"label": label, "symbol": symbol, "css": css, "code": status}
