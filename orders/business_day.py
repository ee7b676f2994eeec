"""Business days: restaurants open past midnight, so "27 Nov" runs from 27 Nov at the cutoff to
28 Nov at the cutoff, in the venue's zone.

The cutoff mirrors Clopos' "cash register opening time", which the Open API does not expose:
it is our setting (CLOPOS_BUSINESS_DAY_START) with a per-venue override (orders.VenueSettings).
Pure functions, no Django: the selectors feed them the settings and the overrides.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def parse_cutoff(text: str) -> dt.time:
    """ "06:00" → time(6, 0); ValueError for anything that is not HH:MM."""
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) in (1, 2)):
        raise ValueError(f"not a time of day as HH:MM: {text!r}")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end): aware datetimes."""

    start: dt.datetime
    end: dt.datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, dt.datetime) and self.start <= moment < self.end


@functools.lru_cache(maxsize=1024)
def window(first: dt.date, cutoff: dt.time, tz: dt.tzinfo, last: dt.date | None = None) -> Window:
    """Business days `first` to `last` (inclusive; `last` defaults to `first`): from `first` at the
    cutoff to the day after `last` at the cutoff, in `tz`. Wall-clock times are resolved in the
    zone (fold=0), so a day across a DST change is 23 or 25 hours long. Kept per process (a list
    page asks for the same window once per row; a Window is immutable)."""
    last = first if last is None else last
    start = dt.datetime.combine(first, cutoff, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), cutoff, tzinfo=tz)
    return Window(start, end)


def business_day_of(moment: dt.datetime, cutoff: dt.time, tz: dt.tzinfo) -> dt.date:
    """The business day an aware moment belongs to: before the cutoff it is still the day before."""
    local = moment.astimezone(tz)
    return local.date() if local.time() >= cutoff else local.date() - dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """The default cutoff and the venues that override it."""

    default: dt.time
    overrides: Mapping[int, dt.time]

    def of(self, venue_id: int | None) -> dt.time:
        return self.overrides.get(venue_id, self.default) if venue_id is not None else self.default

    def relevant(self, venue_ids: Iterable[int] | None) -> set[dt.time]:
        """Cutoffs in play for these venues; None means every venue (known or not)."""
        if venue_ids is None:
            return {self.default, *self.overrides.values()}
        return {self.of(venue_id) for venue_id in venue_ids} or {self.default}


def union(windows: Iterable[Window]) -> Window:
    """The smallest window holding all of them."""
    windows = list(windows)
    return Window(min(w.start for w in windows), max(w.end for w in windows))
