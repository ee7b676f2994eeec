"""console.templatetags.console_format: money, amounts, counts, durations and order statuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template

from console import labels
from console.templatetags.console_format import ORDER_STATUS_CLASS, amount, duration_words, money, number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("18.5"), "18.50\xa0AZN"),
        (Decimal("0"), "0.00\xa0AZN"),
        (Decimal("38.2"), "38.20\xa0AZN"),
        (Decimal("1234.5"), "1,234.50\xa0AZN"),
        (Decimal("-3"), "-3.00\xa0AZN"),
        (Decimal("2.999"), "3.00\xa0AZN"),
        (7, "7.00\xa0AZN"),
        (None, "—"),
    ],
)
def test_money(value, expected):
    # English (the tests' default language): the ISO code after the amount, joined by a no-break space.
    assert money(value) == expected


def test_money_follows_the_currency_setting(settings):
    settings.CLOPOS_CURRENCY = "USD"

    assert money(Decimal("1")) == "1.00\xa0USD"


@pytest.mark.parametrize(
    ("value", "expected"), [(Decimal("20"), "20.00"), (Decimal("1234.567"), "1,234.57"), (None, "—")]
)
def test_amount_has_no_currency(value, expected):
    assert amount(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.000"), "2"),
        (Decimal("10.50"), "10.5"),
        (Decimal("0.25"), "0.25"),
        (Decimal("100"), "100"),  # no decimal point: trailing zeros are digits
        (Decimal("1E+2"), "100"),
        (3, "3"),
        (0, "0"),
        (None, "—"),
    ],
)
def test_number(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.timedelta(minutes=15), "15 minutes"),
        (dt.timedelta(minutes=1), "1 minute"),
        (dt.timedelta(seconds=61), "2 minutes"),  # rounded up: never promise less than the wait
        (dt.timedelta(seconds=1), "1 minute"),
        (dt.timedelta(0), "1 minute"),
        (dt.timedelta(hours=1), "1 hour"),
        (dt.timedelta(minutes=61), "1 hour 1 minute"),
        (dt.timedelta(minutes=125), "2 hours 5 minutes"),
        (dt.timedelta(days=1), "24 hours"),
    ],
)
def test_duration_words(value, expected):
    assert duration_words(value) == expected


def render_status(status: str) -> str:
    return Template("{% load console_format %}{% order_status status %}").render(Context({"status": status}))


@pytest.mark.parametrize("status", sorted(ORDER_STATUS_CLASS))
def test_every_known_status_has_text_and_a_symbol(status):
    label, symbol = labels.CODES["order_status"][status]
    css = ORDER_STATUS_CLASS[status]

    html = render_status(status)

    assert f"status-{css}" in html
    assert str(label) in html  # never told by colour alone
    assert symbol in html
    assert f'title="{status}"' in html


# A status Clopos may add later is shown as Clopos spells it.
@pytest.mark.parametrize(("status", "label"), [("COOKING", "COOKING"), ("", "Unknown")])
def test_an_unknown_status_is_still_shown(status, label):
    html = render_status(status)

    assert label in html
    assert "status-unknown" in html
    assert "?" in html


def test_status_text_is_escaped():
    html = render_status("<b>x</b>")

    assert "<b>" not in html
    assert "&lt;b&gt;" in html.lower()


def test_every_order_status_has_its_own_symbol():
    """Received and Delivered once shared a tick: each status must be told by its shape."""
    symbols = [symbol for _, symbol in labels.CODES["order_status"].values()]
    assert len(set(symbols)) == len(symbols)


@pytest.mark.parametrize(
    ("kind", "code", "expected"),
    [
        ("order_status", "IGNORE", "Ignored"),
        ("receipt_order_status", "IN_PROGRESS", "In progress"),
        ("receipt_order_status", "COMPLETED", "Completed"),
        ("receipt_order_status", "PICKED_UP", "Picked up"),
        ("receipt_status", 2, "Closed"),
        ("order_type", "CALL_CENTER_ORDER", "Call-centre order"),
        ("integration", "call_center_new", "Call centre"),
        ("paid_state", "partly_paid", "Partly paid"),
        # Unknown codes are shown as Clopos spells them; nothing is shown for none.
        ("receipt_order_status", "ON_THE_WAY", "ON_THE_WAY"),
        ("integration_status", "SOMETHING_NEW", "SOMETHING_NEW"),
        ("no_such_kind", "X", "X"),
        ("order_status", None, ""),
    ],
)
def test_code_labels(kind, code, expected):
    assert labels.label(kind, code) == expected
    template = Template("{% load console_format %}{{ code|code_label:kind }}")
    rendered = template.render(Context({"code": code, "kind": kind}))
    assert rendered == expected


def test_an_unknown_code_badge_is_escaped_and_marked():
    html = Template('{% load console_format %}{% code_badge "receipt_order_status" code %}').render(
        Context({"code": "<i>NEW_THING</i>"})
    )
    assert "<i>" not in html and "&lt;i&gt;NEW_THING&lt;/i&gt;" in html
    assert ">?<" in html
