"""Business-day windows (orders/business_day.py): pure functions, no database, no network."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from clopos_admin.settings import env_time
from orders.business_day import Cutoffs, business_day_of, parse_cutoff, union, window

BAKU = ZoneInfo("Asia/Baku")
SIX = dt.time(6, 0)
D = dt.date(2026, 11, 26)


def baku(day: int, hh: int, mm: int, ss: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hh, mm, ss, tzinfo=BAKU)


def test_a_business_day_runs_from_cutoff_to_cutoff_in_the_venue_zone():
    w = window(D, SIX, BAKU)
    assert w.start == baku(26, 6, 0)
    assert w.end == baku(27, 6, 0)
    # Baku is UTC+4 all year: the window is 02:00–02:00 UTC.
    assert w.start.astimezone(dt.UTC) == dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (baku(26, 5, 59), False),  # the night before still belongs to 25 Nov
        (baku(26, 6, 0), True),  # the cutoff itself opens the day
        (baku(26, 6, 1), True),
        (baku(26, 23, 59), True),
        (baku(27, 0, 0), True),  # past midnight: still 26 Nov's business day
        (baku(27, 0, 1), True),
        (baku(27, 3, 59), True),  # 23:59 UTC
        (baku(27, 4, 0), True),  # 00:00 UTC: the UTC date changes, the business day does not
        (baku(27, 4, 1), True),
        (baku(27, 5, 59, 59), True),
        (baku(27, 6, 0), False),  # the next cutoff closes it
        (baku(27, 6, 1), False),
    ],
)
def test_window_edges(moment, inside):
    assert (moment in window(D, SIX, BAKU)) is inside
    assert (business_day_of(moment, SIX, BAKU) == D) is inside


def test_a_midnight_cutoff_is_the_calendar_day():
    w = window(D, dt.time(0, 0), BAKU)
    assert baku(25, 23, 59) not in w
    assert baku(26, 0, 0) in w
    assert baku(26, 23, 59) in w
    assert baku(27, 0, 0) not in w


def test_a_cutoff_at_the_utc_day_boundary():
    w = window(D, dt.time(4, 0), BAKU)
    assert w.start == dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC)
    assert w.end == dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)
    assert baku(27, 3, 59) in w
    assert baku(27, 4, 0) not in w


def test_a_range_runs_from_the_first_day_cutoff_to_the_day_after_the_last():
    w = window(dt.date(2026, 11, 1), SIX, BAKU, dt.date(2026, 11, 30))
    assert w.start == baku(1, 6, 0)
    assert w.end == baku(1, 6, 0, month=12)


def test_moments_in_other_zones_are_compared_as_instants():
    utc_midnight = dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)  # 04:00 Baku on 27 Nov
    assert utc_midnight in window(D, SIX, BAKU)
    assert business_day_of(utc_midnight, SIX, BAKU) == D
    assert "2026-11-26" not in window(D, SIX, BAKU)  # only datetimes are ever inside


def test_a_day_across_a_dst_change_is_23_or_25_hours():
    berlin = ZoneInfo("Europe/Berlin")
    spring = window(dt.date(2026, 3, 28), SIX, berlin)  # clocks go forward at 02:00 on 29 Mar
    autumn = window(dt.date(2026, 10, 24), SIX, berlin)  # and back at 03:00 on 25 Oct

    def hours(w):
        return (w.end.astimezone(dt.UTC) - w.start.astimezone(dt.UTC)) / dt.timedelta(hours=1)

    assert (hours(spring), hours(autumn)) == (23, 25)


def test_cutoffs_per_venue_and_the_union_of_their_windows():
    cutoffs = Cutoffs(default=SIX, overrides={7: dt.time(4, 0)})
    assert cutoffs.of(7) == dt.time(4, 0)
    assert cutoffs.of(3) == SIX
    assert cutoffs.of(None) == SIX
    assert cutoffs.relevant([3]) == {SIX}
    assert cutoffs.relevant([3, 7]) == {SIX, dt.time(4, 0)}
    assert cutoffs.relevant(None) == {SIX, dt.time(4, 0)}
    span = union(window(D, c, BAKU) for c in cutoffs.relevant(None))
    assert (span.start, span.end) == (baku(26, 4, 0), baku(27, 6, 0))


@pytest.mark.parametrize(("text", "expected"), [("06:00", dt.time(6)), ("6:30", dt.time(6, 30)), ("00:00", dt.time(0))])
def test_parse_cutoff(text, expected):
    assert parse_cutoff(text) == expected


@pytest.mark.parametrize("text", ["6", "06-00", "24:00", "06:60", "six", "", "06:0"])
def test_parse_cutoff_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_cutoff(text)


@pytest.mark.parametrize("value", ["6", "25:00", "06:61", "06.00", "noon"])
def test_the_setting_is_checked_at_start_up(monkeypatch, value):
    monkeypatch.setenv("CLOPOS_BUSINESS_DAY_START", value)
    with pytest.raises(ImproperlyConfigured, match="CLOPOS_BUSINESS_DAY_START"):
        env_time("CLOPOS_BUSINESS_DAY_START", "06:00")


def test_the_setting_defaults_to_six_and_is_normalised(monkeypatch):
    monkeypatch.delenv("CLOPOS_BUSINESS_DAY_START", raising=False)
    assert env_time("CLOPOS_BUSINESS_DAY_START", "06:00") == "06:00"
    monkeypatch.setenv("CLOPOS_BUSINESS_DAY_START", "5:30")
    assert env_time("CLOPOS_BUSINESS_DAY_START", "06:00") == "05:30"
