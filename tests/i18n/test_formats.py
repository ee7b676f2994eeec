"""Numbers, money, dates, relative times and plurals in each language (Decimal in, text out)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import ngettext

from console.templatetags.console_format import ago, amount, duration_words, money, number, order_status
from orders.templatetags.order_list import _created

NBSP = "\xa0"
BAKU = ZoneInfo("Asia/Baku")


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("az", Decimal("38.2"), "38,20 ₼"),
        ("ru", Decimal("38.2"), "38,20 ₼"),
        ("en", Decimal("38.2"), "38.20 AZN"),
        ("az", Decimal("1234.5"), "1 234,50 ₼"),
        ("ru", Decimal("1234567.891"), "1 234 567,89 ₼"),
        ("en", Decimal("1234567.891"), "1,234,567.89 AZN"),
        ("ru", Decimal("0"), "0,00 ₼"),
        ("az", Decimal("-3"), "-3,00 ₼"),
        ("en", 7, "7.00 AZN"),
        ("ru", Decimal("0.1") + Decimal("0.2"), "0,30 ₼"),  # exact: Decimal, never float
    ],
)
def test_money_per_language(language, value, expected):
    with translation.override(language):
        # No-break spaces, so an amount never wraps between its digits and its currency.
        assert money(value) == expected.replace(" ", NBSP)


def test_money_is_the_same_filter_in_templates():
    template = Template("{% load console_format %}{{ total|money }}|{{ total|amount }}")
    with translation.override("ru"):
        assert template.render(Context({"total": Decimal("1234.5")})) == f"1{NBSP}234,50{NBSP}₼|1{NBSP}234,50"


def test_another_currency_shows_its_code_in_every_language(settings):
    settings.CLOPOS_CURRENCY = "USD"
    with translation.override("az"):
        assert money(Decimal("5")) == f"5,00{NBSP}USD"
    with translation.override("en"):
        assert money(Decimal("5")) == f"5.00{NBSP}USD"


def test_floats_are_refused():
    with pytest.raises(TypeError, match="never float"):
        money(38.2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        amount(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("az", Decimal("10.50"), "10,5"),
        ("ru", Decimal("2.000"), "2"),
        ("en", Decimal("10.50"), "10.5"),
        ("ru", 1500, "1 500"),
    ],
)
def test_numbers_per_language(language, value, expected):
    with translation.override(language):
        assert number(value) == expected.replace(" ", NBSP)
        assert money(None) == amount(None) == number(None) == "—"


MOMENT = dt.datetime(2026, 11, 27, 10, 5, tzinfo=dt.UTC)  # 14:05 in Baku


@pytest.mark.parametrize(
    ("language", "format_name", "expected"),
    [
        ("az", "DATE_FORMAT", "27 noyabr 2026"),  # month in lower case, as Azerbaijani writes it
        ("ru", "DATE_FORMAT", "27 ноября 2026 г."),
        ("en", "DATE_FORMAT", "27 Nov 2026"),
        ("az", "DATETIME_FORMAT", "27 noyabr 2026, 14:05"),
        ("ru", "DATETIME_FORMAT", "27 ноября 2026 г. 14:05"),
        ("en", "DATETIME_FORMAT", "27 Nov 2026, 14:05"),  # 24-hour clock, not "2:05 p.m."
        ("az", "MONTH_DAY_FORMAT", "27 noyabr"),
        ("ru", "MONTH_DAY_FORMAT", "27 ноября"),  # genitive, not "27 Ноябрь"
        ("en", "MONTH_DAY_FORMAT", "27 Nov"),
        ("ru", "SHORT_DATETIME_FORMAT", "27.11.2026 14:05"),
    ],
)
def test_dates_in_the_venue_zone_and_the_languages_format(language, format_name, expected):
    template = Template("{{ moment|date:format_name }}")
    with translation.override(language):
        assert template.render(Context({"moment": MOMENT, "format_name": format_name})) == expected


@pytest.mark.parametrize(("language", "expected"), [("az", "6:00"), ("ru", "6:00"), ("en", "06:00")])
def test_times_per_language(language, expected):
    with translation.override(language):
        assert Template('{{ t|time:"TIME_FORMAT" }}').render(Context({"t": dt.time(6, 0)})) == expected


def test_list_rows_show_the_day_in_the_languages_format():
    now = MOMENT + dt.timedelta(minutes=5)
    with translation.override("ru"):
        several = str(_created(MOMENT, True, now))
        one_day = str(_created(MOMENT, False, now))
    assert ">27 ноября, 14:05</time>" in several
    assert ">14:05</time>" in one_day
    assert "5 минут назад" in one_day


# Russian has one form for 1, 21, 101…; another for 2–4, 22–24…; a third for 0, 5–20, 25–30…
RUSSIAN_MINUTES_AGO = {
    1: "1 минуту назад",
    2: "2 минуты назад",
    5: "5 минут назад",
    11: "11 минут назад",
    21: "21 минуту назад",
    22: "22 минуты назад",
    112: "112 минут назад",
}


@pytest.mark.parametrize(("count", "expected"), RUSSIAN_MINUTES_AGO.items())
def test_russian_plurals(count, expected):
    with translation.override("ru"):
        assert ngettext("%(count)d minute ago", "%(count)d minutes ago", count) % {"count": count} == expected
        if count < 60:  # past an hour, `ago` counts hours
            assert ago(MOMENT, MOMENT + dt.timedelta(minutes=count)) == expected


@pytest.mark.parametrize(
    ("count", "guests", "receipts", "days"),
    [
        (1, "1 гость", "(1 чек)", "1 день назад"),
        (2, "2 гостя", "(2 чека)", "2 дня назад"),
        (5, "5 гостей", "(5 чеков)", "5 дней назад"),
        (11, "11 гостей", "(11 чеков)", "11 дней назад"),
        (21, "21 гость", "(21 чек)", "21 день назад"),
    ],
)
def test_russian_plurals_in_templates_and_code(count, guests, receipts, days):
    """The receipts list's guests (code), the orders list's receipts total (a template), `ago`."""
    with translation.override("ru"):
        rendered = Template(
            "{% load i18n %}{% blocktranslate with total='9' count counter=n %}Receipts total, this page: "
            "{{ total }} ({{ counter }} receipt).{% plural %}Receipts total, this page: {{ total }} ({{ counter }} "
            "receipts).{% endblocktranslate %}"
        ).render(Context({"n": count}))
        assert ngettext("%(count)d guest", "%(count)d guests", count) % {"count": count} == guests
        assert rendered.endswith(receipts + ".")
        assert ago(MOMENT, MOMENT + dt.timedelta(days=count)) == days


@pytest.mark.parametrize(("count", "expected"), [(1, "1 dəqiqə əvvəl"), (2, "2 dəqiqə əvvəl"), (21, "21 dəqiqə əvvəl")])
def test_azerbaijani_counts_take_the_singular(count, expected):
    """Azerbaijani has two plural forms, but a noun after a number stays singular."""
    with translation.override("az"):
        assert ago(MOMENT, MOMENT + dt.timedelta(minutes=count)) == expected


@pytest.mark.parametrize(
    ("language", "minutes", "expected"),
    [
        ("ru", 15, "15 минут"),
        ("ru", 61, "1 час 1 минуту"),
        ("ru", 125, "2 часа 5 минут"),
        ("az", 125, "2 saat 5 dəqiqə"),
        ("en", 61, "1 hour 1 minute"),
    ],
)
def test_durations(language, minutes, expected):
    with translation.override(language):
        assert duration_words(dt.timedelta(minutes=minutes)) == expected


@pytest.mark.parametrize(("language", "expected"), [("az", "Çatdırılıb"), ("ru", "Доставлен"), ("en", "Delivered")])
def test_order_status_labels(language, expected):
    with translation.override(language):
        assert f"</span> {expected}</span>" in order_status("DELIVERED")
        assert "</span> SOMETHING_NEW</span>" in order_status("SOMETHING_NEW")  # unknown codes as they are


@pytest.mark.parametrize(("language", "expected"), [("az", "indicə"), ("ru", "только что"), ("en", "just now")])
def test_relative_times(language, expected):
    with translation.override(language):
        assert ago(MOMENT, MOMENT + dt.timedelta(seconds=20)) == expected
