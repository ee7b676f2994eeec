"""Display helpers for Clopos values, in the active language: money, amounts, numbers, durations,
relative times, order statuses, the status panel's codes, and text that comes from Clopos.

Money has one convention per language (`MONEY_PATTERNS`), used everywhere a sum is shown:

* az, ru: ``38,20 ₼``, ``1 234,50 ₼`` (decimal comma, no-break space between thousands);
* en: ``38.20 AZN``, ``1,234.50 AZN``: the ISO code, which every English reader and every font
  knows, after the amount as in az and ru, so a column reads the same in all three languages.

Separators come from the language's number formats (Django's for az and ru, ours for en, in
clopos_admin/formats/). Amounts are Decimal end to end: a float is refused, never rounded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from console import labels

register = template.Library()

CENT = Decimal("0.01")
NBSP = "\xa0"
#: Currency signs shown instead of the code, in the languages that write them.
CURRENCY_SIGNS = {"AZN": "₼"}
#: language -> pattern of a sum: {amount}, {sign} (the sign, or the code without one) and {code}.
MONEY_PATTERNS = {
    "az": "{amount}" + NBSP + "{sign}",
    "ru": "{amount}" + NBSP + "{sign}",
    "en": "{amount}" + NBSP + "{code}",
}

# CSS class of each order status (its text and symbol come from console.labels).
ORDER_STATUS_CLASS = {"PENDING": "pending", "RECEIVED": "received", "DELIVERED": "delivered", "IGNORE": "ignored"}

# The status panel's codes (clopos.errors.FailureKind, clopos.guard.CircuitBreaker.state).
FAILURE_KIND_LABELS = {
    "timeout": _("No answer in time"),
    "unavailable": _("Unreachable"),
    "server_error": _("Server error (5xx)"),
    "rate_limited": _("Rate limited (429)"),
    "throttled": _("A user over their budget"),
    "bad_response": _("Unreadable response"),
    "auth": _("Credentials refused"),
    "not_found": _("Not found"),
}
CIRCUIT_STATE_LABELS = {
    "closed": pgettext_lazy("circuit breaker", "closed"),
    "open": pgettext_lazy("circuit breaker", "open"),
    "half-open": pgettext_lazy("circuit breaker", "half-open"),
}


def _decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"money and amounts are Decimal, never float: got {value!r}")
    return value if isinstance(value, Decimal) else Decimal(value)


def _language() -> str:
    return (get_language() or settings.LANGUAGE_CODE).split("-")[0]


@register.filter
def amount(value: Decimal | int | None) -> str:
    """A sum without the currency, to the cent, with the language's separators: 1234.5 →
    "1,234.50" (en), "1 234,50" (az, ru). Unknown amounts show as an em dash."""
    if value is None:
        return "—"
    return formats.number_format(_decimal(value).quantize(CENT), decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Decimal | int | None) -> str:
    """A sum with its currency, in the active language's convention (see `MONEY_PATTERNS`):
    38.2 → "38,20 ₼" (az, ru), "38.20 AZN" (en); unknown amounts show as an em dash."""
    if value is None:
        return "—"
    code = settings.CLOPOS_CURRENCY
    pattern = MONEY_PATTERNS.get(_language(), MONEY_PATTERNS["en"])
    return pattern.format(amount=amount(value), sign=CURRENCY_SIGNS.get(code, code), code=code)


@register.filter
def number(value: Decimal | int | None) -> str:
    """A count or percentage without trailing zeros, with the language's decimal separator:
    2.000 → 2, 10.50 → 10.5 (en) or 10,5 (az, ru)."""
    if value is None:
        return "—"
    text = f"{_decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    places = len(text.partition(".")[2])
    return formats.number_format(Decimal(text), decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def duration_words(value: dt.timedelta) -> str:
    """timedelta(minutes=15) → "15 minutes"; hours and minutes, rounded up to the minute."""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    parts = [ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}] if hours else []
    if minutes:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    return " ".join(parts)


def list_moment(local: dt.datetime, several_days: bool) -> str:
    """A list row's time in the language's own formats (clopos_admin/formats/): "14:02", or
    "27 Nov, 14:02" / "27 noyabr, 14:02" when the list spans several days."""
    time = formats.time_format(local, "TIME_FORMAT")
    return f"{formats.date_format(local, 'MONTH_DAY_FORMAT')}, {time}" if several_days else time


@register.filter
def ago(value: dt.datetime | None, now: dt.datetime | None) -> str:
    """How long before `now` a moment was, in words: "just now", "5 minutes ago", "3 hours ago",
    "2 days ago" (a lighter naturaltime for lists, which render it once per row)."""
    if value is None or now is None:
        return ""
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return gettext("in the future")
    if seconds < 60:
        return gettext("just now")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(count)d minute ago", "%(count)d minutes ago", minutes) % {"count": minutes}
    hours = minutes // 60
    if hours < 24:
        return ngettext("%(count)d hour ago", "%(count)d hours ago", hours) % {"count": hours}
    days = hours // 24
    return ngettext("%(count)d day ago", "%(count)d days ago", days) % {"count": days}


@register.simple_tag
def order_status(status: str) -> SafeString:
    """The status as text with a distinct symbol (never colour alone). A status Clopos may add
    later is shown as it is, with its own symbol. A simple tag, not a template: lists render it
    once per row."""
    return format_html(
        '<span class="status status-{}" title="{}"><span class="status-symbol" aria-hidden="true">{}</span> {}</span>',
        ORDER_STATUS_CLASS.get(status, "unknown"),
        status,
        labels.symbol("order_status", status),
        labels.label("order_status", status) or gettext("Unknown"),
    )


@register.filter
def code_label(code: object, kind: str) -> str:
    """`{{ receipt.order_status|code_label:"receipt_order_status" }}`: the human label of a
    Clopos code, or the code itself when it is not known."""
    return labels.label(kind, code)


@register.simple_tag
def code_badge(kind: str, code: object, css: str = "") -> SafeString:
    """A code as a badge: its symbol (decorative) and its label, with the raw code as a title."""
    return format_html(
        '<span class="status {}" title="{}"><span class="status-symbol" aria-hidden="true">{}</span> {}</span>',
        css or f"{kind.replace('_', '-')}-{str(code).lower().replace('_', '-')}",
        code,
        labels.symbol(kind, code),
        labels.label(kind, code),
    )


@register.filter
def failure_kind(kind: str) -> str:
    """A failure kind of the status panel in words; an unknown code as it is."""
    return str(FAILURE_KIND_LABELS.get(kind, kind))


@register.filter
def circuit_state(state: str) -> str:
    """The circuit breaker's state in words; an unknown code as it is."""
    return str(CIRCUIT_STATE_LABELS.get(state, state))


@register.filter
def clopos_text(value: object) -> SafeString | str:
    """Text from Clopos (a name, a comment, an address), marked with its own language
    (CLOPOS_DATA_LANGUAGE), so a screen reader reads Azerbaijani data as Azerbaijani on a
    Russian or English page. Empty values stay empty, so `|default:` still applies."""
    if value is None or value == "":
        return ""
    return format_html('<span lang="{}">{}</span>', settings.CLOPOS_DATA_LANGUAGE, value)
