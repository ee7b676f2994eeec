"""Staff accounts in Django's admin: users, roles and venues; no superuser or loose permissions."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from clopos import catalogue

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


def test_admin_manages_staff_in_django_admin(api, client_for):
    client = client_for("admin")

    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auth/user/add/").status_code == 200
    change = client.get(f"/admin/auth/user/{get_user_model().objects.get(username='support').pk}/change/")
    assert change.status_code == 200
    form = change.content.decode()
    assert 'name="staff_profile-0-venue_ids"' in form
    assert re.search(r'<input[^>]*name="staff_profile-0-venue_ids" value="3"[^>]*checked', form)


@pytest.mark.parametrize("target", ["admin", "support"])
def test_admin_role_cannot_grant_superuser_or_loose_permissions(api, client_for, users, target):
    """A staff admin assigns roles and venues; superuser status or single permissions would bypass the roles."""
    user = users[target]
    reveal = Permission.objects.get(content_type__app_label="orders", codename="reveal_customer")
    form = {
        "username": user.username,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on",
        "user_permissions": [str(reveal.pk)],
        "groups": [str(group.pk) for group in user.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "1",
        "staff_profile-MIN_NUM_FORMS": "0",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-all_venues": "on" if user.staff_profile.all_venues else "",
        "staff_profile-0-venue_ids": [str(v) for v in user.staff_profile.venue_ids],
        "staff_profile-0-id": str(user.staff_profile.pk),
        "staff_profile-0-user": str(user.pk),
    }
    client = client_for("admin")
    change_page = client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()

    response = client.post(f"/admin/auth/user/{user.pk}/change/", form)

    assert 'name="is_superuser"' not in change_page
    assert 'name="user_permissions"' not in change_page
    assert response.status_code == 302  # saved: the extra fields were ignored, not rejected
    user = get_user_model().objects.get(pk=user.pk)
    assert not user.is_superuser
    assert not user.user_permissions.exists()
    assert user.has_perm("orders.reveal_customer") == (target == "admin")


# --- The venue choices come from the cache, never from Clopos ---------------------------------


def change_form(client, user) -> str:
    response = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_venue_choices_without_a_cached_catalogue_make_no_call(clopos_api, client_for, users):
    form = change_form(client_for("admin"), users["support"])

    assert not clopos_api.calls  # rendering an admin form never waits on Clopos
    assert "Venue (#3)" in form  # the assigned venue stays selectable, by id


def test_venue_choices_are_named_from_the_cached_catalogue(catalogue_api, client_for, users):
    catalogue.venue_names()  # a console page cached the venues earlier
    calls_before = len(catalogue_api.calls)

    form = change_form(client_for("admin"), users["support"])

    assert len(catalogue_api.calls) == calls_before
    assert "Köhnə Şəhər — Nərimanov (#3)" in form
    assert "Köhnə Şəhər — İçərişəhər (#1)" in form  # every known venue can be assigned
