"""Attacks on the staff admin by a user with the `admin` role (not a superuser).

An admin manages support and manager accounts. They must not reach any account that can do
more than they can (a superuser, or a user with a permission they lack), through any admin URL
for users, and must not give anyone (themselves included) a group that grants more.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from staff.services import staff_user_upsert

pytestmark = pytest.mark.django_db

PASSWORD = "escalation-test-Passw0rd!"
ROOT_PASSWORD = "root-original-Passw0rd!"


@pytest.fixture
def admin_client() -> Client:
    admin = staff_user_upsert(username="boss", role="admin", password=PASSWORD, venue_ids=[], all_venues=True)
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser("root", "root@example.az", ROOT_PASSWORD)


@pytest.fixture
def power_user():
    """Not a superuser, but holding a permission the admin role lacks."""
    user = staff_user_upsert(username="ops", role="support", password=PASSWORD, venue_ids=[3], all_venues=False)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="auth", codename="change_group"))
    return user


@pytest.fixture
def support():
    return staff_user_upsert(username="helpdesk", role="support", password=PASSWORD, venue_ids=[3], all_venues=False)


def reload(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.parametrize("target_name", ["root", "power_user"])
def test_admin_cannot_reach_a_stronger_account_through_any_user_admin_url(admin_client, request, target_name):
    target = request.getfixturevalue(target_name)
    base = f"/admin/auth/user/{target.pk}"

    listing = admin_client.get("/admin/auth/user/")
    change = admin_client.get(f"{base}/change/")
    history = admin_client.get(f"{base}/history/")
    password_page = admin_client.get(f"{base}/password/")
    password_post = admin_client.post(
        f"{base}/password/",
        {"password1": "Stolen-Passw0rd!!", "password2": "Stolen-Passw0rd!!", "usable_password": "true"},
    )
    deactivate = admin_client.post(f"{base}/change/", {"username": target.username, "is_active": ""})
    delete_page = admin_client.get(f"{base}/delete/")
    delete_post = admin_client.post(f"{base}/delete/", {"post": "yes"})
    bulk_delete = admin_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [str(target.pk)], "post": "yes"}
    )

    assert listing.status_code == 200
    assert f'href="/admin/auth/user/{target.pk}/change/"' not in listing.content.decode()
    for response in (change, history, deactivate, delete_page, delete_post):
        # The admin treats the account as missing: a redirect to the index with "doesn't exist", or a 404.
        assert response.status_code in (302, 404)
        assert target.username not in response.content.decode()
        if response.status_code == 302:
            assert f"/{target.pk}/" not in response["Location"]
    assert password_page.status_code == 404
    assert password_post.status_code == 404
    assert bulk_delete.status_code in (200, 302)
    target = reload(target)
    assert target.check_password(ROOT_PASSWORD if target_name == "root" else PASSWORD)
    assert target.is_active


def test_admin_still_manages_weaker_accounts(admin_client, support):
    base = f"/admin/auth/user/{support.pk}"

    assert admin_client.get(f"{base}/change/").status_code == 200
    response = admin_client.post(
        f"{base}/password/",
        {"password1": "New-Passw0rd-123!", "password2": "New-Passw0rd-123!", "usable_password": "true"},
    )

    assert response.status_code == 302
    assert reload(support).check_password("New-Passw0rd-123!")


def test_admin_cannot_join_or_hand_out_a_group_that_grants_more(admin_client, support):
    stronger = Group.objects.create(name="group-admins")
    stronger.permissions.add(Permission.objects.get(content_type__app_label="auth", codename="change_group"))
    boss = get_user_model().objects.get(username="boss")

    own_form = admin_client.get(f"/admin/auth/user/{boss.pk}/change/").content.decode()
    other_form = admin_client.get(f"/admin/auth/user/{support.pk}/change/").content.decode()
    response = admin_client.post(
        f"/admin/auth/user/{support.pk}/change/",
        {
            "username": support.username,
            "is_active": "on",
            "groups": [str(stronger.pk)],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "staff_profile-TOTAL_FORMS": "1",
            "staff_profile-INITIAL_FORMS": "1",
            "staff_profile-MIN_NUM_FORMS": "0",
            "staff_profile-MAX_NUM_FORMS": "1",
            "staff_profile-0-venue_ids": ["3"],
            "staff_profile-0-id": str(support.staff_profile.pk),
            "staff_profile-0-user": str(support.pk),
        },
    )

    assert "group-admins" not in own_form
    assert "group-admins" not in other_form
    assert response.status_code == 200  # the form comes back with an error: not a valid choice
    assert not reload(support).groups.filter(pk=stronger.pk).exists()
    assert not boss.groups.filter(pk=stronger.pk).exists()
    assert ">support</option>" in other_form  # the roles the admin may hand out are still offered


def test_superuser_still_sees_and_manages_everyone(root, power_user):
    client = Client()
    client.force_login(root)

    assert client.get(f"/admin/auth/user/{power_user.pk}/change/").status_code == 200
    assert client.get(f"/admin/auth/user/{root.pk}/password/").status_code == 200
