"""Management commands of the staff app: create_staff_user, sync_roles, seed_demo_users."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError

from console.permissions import ROLES
from staff.management.commands.seed_demo_users import DEMO_USERS
from staff.models import StaffProfile
from staff.roles import role_of

pytestmark = pytest.mark.django_db

PASSWORD = "command-test-Passw0rd!"

# The roles' exact permissions, pinned: a change to staff/roles.py must change this test too.
EXPECTED_ROLES = {
    "support": {"orders.view_order", "orders.search_customers"},
    "manager": {
        "orders.view_order",
        "orders.search_customers",
        "orders.view_payments",
        "orders.reveal_customer",
        "orders.refresh_order",
        "orders.view_audit_log",
        "orders.view_status_panel",
    },
    "admin": {
        "orders.view_order",
        "orders.search_customers",
        "orders.view_payments",
        "orders.reveal_customer",
        "orders.refresh_order",
        "orders.view_audit_log",
        "orders.view_status_panel",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.delete_user",
        "auth.view_group",
        "staff.view_staffprofile",
        "staff.add_staffprofile",
        "staff.change_staffprofile",
        "staff.delete_staffprofile",
        "audit.view_auditentry",
        # The business-day start per venue (orders list), edited in the admin site.
        "orders.view_venuesettings",
        "orders.add_venuesettings",
        "orders.change_venuesettings",
        "orders.delete_venuesettings",
    },
}


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def group_permissions(role: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }


def user_named(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def staff_password(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    return PASSWORD


# --- create_staff_user --------------------------------------------------------------------------


def test_create_staff_user_with_venues(staff_password):
    out = run("create_staff_user", "leyla", "--role", "support", "--venue", "3", "--venue", "1", "--venue", "3")

    assert out.strip() == "leyla: role support, venues 1, 3"
    user = user_named("leyla")
    assert user.check_password(PASSWORD)
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert [g.name for g in user.groups.all()] == ["support"]
    assert role_of(user) == "support"
    assert user.staff_profile.venue_ids == [1, 3]
    assert not user.staff_profile.all_venues
    assert user.staff_profile.venues == frozenset({1, 3})
    assert user.has_perm("orders.view_order")
    assert not user.has_perm("orders.reveal_customer")


def test_create_staff_user_with_all_venues(staff_password):
    out = run("create_staff_user", "boss", "--role", "manager", "--all-venues")

    assert out.strip() == "boss: role manager, all venues"
    user = user_named("boss")
    assert user.staff_profile.all_venues
    assert user.staff_profile.venues is None
    assert all(user.has_perm(p) for p in EXPECTED_ROLES["manager"])


def test_create_staff_user_without_venue_says_so(staff_password):
    out = run("create_staff_user", "newbie", "--role", "support")

    assert out.strip() == "newbie: role support, no venues yet"
    assert user_named("newbie").staff_profile.venues == frozenset()


def test_admin_role_gets_the_staff_site_but_not_superuser(staff_password):
    run("create_staff_user", "root", "--role", "admin", "--all-venues")

    user = user_named("root")
    assert user.is_staff
    assert not user.is_superuser
    assert all(user.has_perm(p) for p in EXPECTED_ROLES["admin"])
    assert not user.has_perm("auth.change_group")
    assert not user.has_perm("audit.delete_auditentry")


def test_create_staff_user_is_an_idempotent_update(monkeypatch, staff_password):
    run("create_staff_user", "aysel", "--role", "admin", "--all-venues")
    run("create_staff_user", "aysel", "--role", "admin", "--all-venues")
    assert get_user_model().objects.filter(username="aysel").count() == 1
    assert StaffProfile.objects.filter(user__username="aysel").count() == 1

    monkeypatch.setenv("STAFF_PASSWORD", "another-Str0ng-passphrase")
    out = run("create_staff_user", "aysel", "--role", "support", "--venue", "1")

    assert out.strip() == "aysel: role support, venues 1"
    user = user_named("aysel")
    assert get_user_model().objects.filter(username="aysel").count() == 1
    assert [g.name for g in user.groups.all()] == ["support"]  # exactly one role, the new one
    assert not user.is_staff  # the staff site goes with the admin role
    assert user.staff_profile.venue_ids == [1]
    assert not user.staff_profile.all_venues
    assert user.check_password("another-Str0ng-passphrase")
    assert not user.check_password(PASSWORD)


def test_create_staff_user_reactivates_a_deactivated_user(staff_password):
    run("create_staff_user", "gone", "--role", "support", "--venue", "3")
    get_user_model().objects.filter(username="gone").update(is_active=False)

    run("create_staff_user", "gone", "--role", "support", "--venue", "3")

    assert user_named("gone").is_active


def test_create_staff_user_rejects_an_unknown_role(staff_password):
    with pytest.raises(CommandError, match="invalid choice: 'owner'"):
        run("create_staff_user", "eve", "--role", "owner", "--venue", "3")

    assert not get_user_model().objects.filter(username="eve").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("123", "This password is too short"),
        ("12345678901", "This password is entirely numeric"),
        ("password123", "This password is too common"),
        ("rashad.quliyev", "The password is too similar to the username"),
    ],
)
def test_create_staff_user_rejects_a_weak_password(monkeypatch, password, message):
    monkeypatch.setenv("STAFF_PASSWORD", password)

    with pytest.raises(CommandError, match=message):
        run("create_staff_user", "rashad.quliyev", "--role", "support", "--venue", "3")

    assert not get_user_model().objects.filter(username="rashad.quliyev").exists()
    assert not StaffProfile.objects.exists()


def test_weak_password_leaves_an_existing_user_unchanged(monkeypatch, staff_password):
    run("create_staff_user", "nigar", "--role", "manager", "--venue", "3")
    monkeypatch.setenv("STAFF_PASSWORD", "123")

    with pytest.raises(CommandError):
        run("create_staff_user", "nigar", "--role", "support", "--venue", "1")

    user = user_named("nigar")
    assert user.check_password(PASSWORD)
    assert role_of(user) == "manager"
    assert user.staff_profile.venue_ids == [3]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--venue", "3", "--all-venues"], "either venues or all venues"),
        (["--venue", "0"], "positive integers"),
        (["--venue", "-2"], "positive integers"),
    ],
)
def test_create_staff_user_rejects_bad_venues(staff_password, arguments, message):
    with pytest.raises(CommandError, match=message):
        run("create_staff_user", "tural", "--role", "support", *arguments)

    assert not get_user_model().objects.filter(username="tural").exists()


def test_create_staff_user_rejects_a_venue_that_is_not_a_number(staff_password):
    with pytest.raises(CommandError, match="invalid int value"):
        run("create_staff_user", "tural", "--role", "support", "--venue", "three")


def test_create_staff_user_requires_a_role(staff_password):
    with pytest.raises(CommandError, match="--role"):
        run("create_staff_user", "tural")


def test_create_staff_user_prompts_when_no_password_in_the_environment(monkeypatch):
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    run("create_staff_user", "elvin", "--role", "support", "--venue", "3")

    assert user_named("elvin").check_password(PASSWORD)


def test_create_staff_user_refuses_mismatched_prompted_passwords(monkeypatch):
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    with pytest.raises(CommandError, match="do not match"):
        run("create_staff_user", "elvin", "--role", "support", "--venue", "3")

    assert not get_user_model().objects.filter(username="elvin").exists()


def test_created_user_can_log_in(client, staff_password):
    run("create_staff_user", "samir", "--role", "support", "--venue", "3")

    response = client.post("/accounts/login/", {"username": "samir", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/orders/"  # the console's home, the orders list


# --- sync_roles ---------------------------------------------------------------------------------


def test_roles_are_pinned():
    assert {role: set(perms) for role, perms in ROLES.items()} == EXPECTED_ROLES
    for role, perms in ROLES.items():
        assert len(perms) == len(set(perms)), f"{role} lists a permission twice"


def test_every_role_permission_exists():
    for perms in EXPECTED_ROLES.values():
        for dotted in perms:
            app_label, codename = dotted.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), dotted


def test_migrate_leaves_one_group_per_role_with_exactly_its_permissions():
    """The test database was migrated; the post-migrate hook ran sync_roles."""
    for role, expected in EXPECTED_ROLES.items():
        assert group_permissions(role) == expected


def test_sync_roles_is_idempotent():
    first = run("sync_roles")
    groups_before = dict(Group.objects.values_list("name", "pk"))
    second = run("sync_roles")

    assert first == second == "support: 2 permissions\nmanager: 7 permissions\nadmin: 21 permissions\n"
    assert dict(Group.objects.values_list("name", "pk")) == groups_before
    assert Group.objects.filter(name__in=EXPECTED_ROLES).count() == 3
    for role, expected in EXPECTED_ROLES.items():
        assert group_permissions(role) == expected


def test_sync_roles_repairs_drift():
    Group.objects.get(name="support").permissions.add(
        Permission.objects.get(content_type__app_label="orders", codename="reveal_customer")
    )
    Group.objects.get(name="manager").permissions.remove(
        Permission.objects.get(content_type__app_label="orders", codename="view_audit_log")
    )
    Group.objects.get(name="admin").delete()

    run("sync_roles")

    for role, expected in EXPECTED_ROLES.items():
        assert group_permissions(role) == expected


def test_sync_roles_leaves_other_groups_alone():
    other = Group.objects.create(name="auditors")
    other.permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditentry"))

    run("sync_roles")

    assert group_permissions("auditors") == {"audit.view_auditentry"}


def test_sync_roles_keeps_members(staff_password):
    run("create_staff_user", "kamran", "--role", "manager", "--venue", "3")

    run("sync_roles")

    assert role_of(user_named("kamran")) == "manager"


# --- seed_demo_users ----------------------------------------------------------------------------


DEMO_LINE = re.compile(r"^\s+(\S+)\s+(demo-\S+)\s+role (\S+), (.+)$")


def demo_passwords(out: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for line in out.splitlines() if (m := DEMO_LINE.match(line))}


def test_seed_demo_users_creates_one_user_per_role(settings):
    assert settings.CLOPOS_DEMO  # tests/settings.py runs in demo mode

    out = run("seed_demo_users")

    assert out.startswith("Demo users (new passwords on every start):")
    passwords = demo_passwords(out)
    assert set(passwords) == {"manager", "support", "admin", "no-venue"}
    for username, role, venues, all_venues in DEMO_USERS:
        user = user_named(username)
        assert user.check_password(passwords[username]), username
        assert role_of(user) == role
        assert user.staff_profile.all_venues == all_venues
        assert user.staff_profile.venue_ids == venues
        assert user.is_staff == (role == "admin")
    assert user_named("support").staff_profile.venues == frozenset({3})
    assert user_named("no-venue").staff_profile.venues == frozenset()  # shows the no-access page


def test_seed_demo_users_renews_passwords_without_duplicates():
    first = demo_passwords(run("seed_demo_users"))
    second = demo_passwords(run("seed_demo_users"))

    assert get_user_model().objects.filter(username__in=first).count() == 4
    for username in first:
        assert first[username] != second[username]
        user = user_named(username)
        assert user.check_password(second[username])
        assert not user.check_password(first[username])


def test_seed_demo_users_refuses_outside_demo_mode(settings):
    settings.CLOPOS_DEMO = False

    with pytest.raises(CommandError, match="only with CLOPOS_DEMO=1"):
        run("seed_demo_users")

    assert not get_user_model().objects.filter(username__in=[u for u, *_ in DEMO_USERS]).exists()
