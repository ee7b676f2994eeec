"""staff.models.StaffProfile: which venues a staff user may see."""

from __future__ import annotations

import pytest

from staff.models import StaffProfile


@pytest.mark.parametrize(
    ("venue_ids", "expected"),
    [
        ([3], frozenset({3})),
        ([1, 3, 3], frozenset({1, 3})),
        (["1", 3], frozenset({1, 3})),  # edited by hand in the JSON field
        ([], frozenset()),
        (["abc", None, "2.5", 3], frozenset({3})),  # what cannot be a venue id is ignored
    ],
)
def test_venues(venue_ids, expected):
    assert StaffProfile(venue_ids=venue_ids).venues == expected


def test_all_venues_is_none_whatever_the_list():
    assert StaffProfile(all_venues=True, venue_ids=[3]).venues is None
