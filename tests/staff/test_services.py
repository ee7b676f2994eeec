"""staff.services.staff_user_upsert, called directly (the commands' tests call it through
create_staff_user), and the test suite's own users, which must be exactly what it makes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from staff.roles import role_of
from staff.services import staff_user_upsert
from tests.conftest import PASSWORD, STAFF, make_users

pytestmark = pytest.mark.django_db


def described(user) -> tuple:
    user = get_user_model().objects.get(pk=user.pk)
    profile = user.staff_profile
    return (
        role_of(user),
        [group.name for group in user.groups.all()],
        user.is_active,
        user.is_staff,
        user.is_superuser,
        profile.all_venues,
        profile.venue_ids,
        user.check_password(PASSWORD),
        sorted(user.get_all_permissions()),
    )


@pytest.mark.parametrize("username", sorted(STAFF))
def test_the_suites_users_are_what_staff_user_upsert_makes(username):
    role, venues, all_venues = STAFF[username]
    fixture_user = make_users({username: STAFF[username]})[username]
    upserted = staff_user_upsert(
        username=f"{username}-real", role=role, password=PASSWORD, venue_ids=venues, all_venues=all_venues
    )

    assert described(fixture_user) == described(upserted)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "owner"}, "Unknown role 'owner'"),
        ({"venue_ids": [3], "all_venues": True}, "either venues or all venues"),
        ({"venue_ids": [0]}, "positive integers"),
        ({"venue_ids": [-1, 3]}, "positive integers"),
    ],
)
def test_bad_arguments_are_value_errors_and_change_nothing(kwargs, message):
    arguments = {"username": "tural", "role": "support", "password": PASSWORD, "venue_ids": [], "all_venues": False}

    with pytest.raises(ValueError, match=message):
        staff_user_upsert(**(arguments | kwargs))

    assert not get_user_model().objects.filter(username="tural").exists()


def test_a_weak_password_is_a_validation_error():
    with pytest.raises(ValidationError):
        staff_user_upsert(username="tural", role="support", password="123", venue_ids=[3], all_venues=False)

    assert not get_user_model().objects.filter(username="tural").exists()


def test_venues_are_stored_sorted_once_each():
    user = staff_user_upsert(username="tural", role="support", password=PASSWORD, venue_ids=[3, 1, 3], all_venues=False)

    assert user.staff_profile.venue_ids == [1, 3]
