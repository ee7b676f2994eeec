"""staff.backends and staff.signals: the permission set is cached in the shared cache and any
change of roles or permissions invalidates it at once.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from staff.backends import StaffModelBackend
from staff.signals import PERMISSIONS_VERSION_KEY

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- Through the pages ----------------------------------------------------------------------


def test_role_change_takes_effect_on_the_next_request(api, client_for, users):
    client = client_for("support")
    assert client.get("/audit/").status_code == 403  # support: no audit log (and now cached)

    users["support"].groups.set([Group.objects.get(name="manager")])
    assert client.get("/audit/").status_code == 200

    Group.objects.get(name="manager").permissions.remove(Permission.objects.get(codename="view_audit_log"))
    assert client.get("/audit/").status_code == 403


def test_permissions_are_read_from_the_cache_after_the_first_request(api, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("manager")
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries.captured_queries if "auth_permission" in q["sql"]]


# --- StaffModelBackend and the signals that invalidate its cache ---------------------------------


def fresh(user):
    """The user as the next request loads it (no per-object permission cache)."""
    return get_user_model().objects.get(pk=user.pk)


def permission_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]


@pytest.fixture
def backend() -> StaffModelBackend:
    return StaffModelBackend()


def test_the_permission_set_is_cached_across_requests(users, backend):
    first = backend.get_all_permissions(fresh(users["support"]))

    with CaptureQueriesContext(connection) as queries:
        again = backend.get_all_permissions(fresh(users["support"]))

    assert again == first == {"orders.view_order", "orders.search_customers"}
    assert permission_queries(queries) == []


def cached_then_changed(user, backend, change) -> set[str]:
    backend.get_all_permissions(fresh(user))  # cached now
    change()
    return backend.get_all_permissions(fresh(user))


def test_a_new_group_for_the_user_invalidates(users, backend):
    manager = Group.objects.get(name="manager")

    after = cached_then_changed(users["support"], backend, lambda: users["support"].groups.set([manager]))

    assert "orders.reveal_customer" in after


def test_a_group_losing_a_permission_invalidates(users, backend):
    reveal = Permission.objects.get(codename="reveal_customer")

    after = cached_then_changed(
        users["manager"], backend, lambda: Group.objects.get(name="manager").permissions.remove(reveal)
    )

    assert "orders.reveal_customer" not in after


def test_a_direct_user_permission_invalidates(users, backend):
    status_panel = Permission.objects.get(codename="view_status_panel")

    after = cached_then_changed(users["support"], backend, lambda: users["support"].user_permissions.add(status_panel))

    assert "orders.view_status_panel" in after


def test_a_deleted_group_invalidates(users, backend):
    after = cached_then_changed(users["support"], backend, lambda: Group.objects.get(name="support").delete())

    assert after == set()


def test_a_deleted_permission_invalidates(users, backend):
    after = cached_then_changed(
        users["support"], backend, lambda: Permission.objects.get(codename="view_order").delete()
    )

    assert "orders.view_order" not in after


def test_an_evicted_version_starts_a_new_one(users, backend):
    after = cached_then_changed(users["support"], backend, lambda: cache.delete(PERMISSIONS_VERSION_KEY))

    assert after == {"orders.view_order", "orders.search_customers"}
    assert cache.get(PERMISSIONS_VERSION_KEY)


def test_the_cache_is_shared_by_every_worker(users, backend):
    """Another process has its own backend object; the shared cache holds the set."""
    backend.get_all_permissions(fresh(users["manager"]))

    with CaptureQueriesContext(connection) as queries:
        StaffModelBackend().get_all_permissions(fresh(users["manager"]))

    assert permission_queries(queries) == []


def test_superuser_status_has_its_own_entry(users, backend):
    user = users["support"]
    backend.get_all_permissions(fresh(user))
    get_user_model().objects.filter(pk=user.pk).update(is_superuser=True)

    assert "orders.reveal_customer" in backend.get_all_permissions(fresh(user))


def test_an_inactive_user_has_no_permissions(users, backend):
    user = users["manager"]
    backend.get_all_permissions(fresh(user))
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    assert backend.get_all_permissions(fresh(user)) == set()
    assert backend.get_user(user.pk) is None


def user_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"auth_user"' in q["sql"] or "staffprofile" in q["sql"]]


def test_get_user_loads_the_venue_assignment_with_the_user_then_from_the_cache(users, backend):
    with CaptureQueriesContext(connection) as first:
        user = backend.get_user(users["support"].pk)
        assert user.staff_profile.venues == frozenset({3})
        assert user.has_perm("orders.view_order")  # computed once, then cached
    with CaptureQueriesContext(connection) as again:
        cached = backend.get_user(users["support"].pk)
        assert cached.staff_profile.venues == frozenset({3})
        assert cached.has_perm("orders.view_order")

    assert len(user_queries(first)) == 1  # the user with its profile, in one query
    assert user_queries(again) == []  # then from the shared cache, permissions included
    assert permission_queries(again) == []
    assert backend.get_user(999_999) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda user: (user.set_password("Changed-Passw0rd-1"), user.save()),
        lambda user: (setattr(user, "is_active", False), user.save()),
        lambda user: (setattr(user.staff_profile, "venue_ids", [1]), user.staff_profile.save()),
    ],
    ids=["password", "deactivated", "venues"],
)
def test_a_changed_user_or_profile_is_read_again(users, backend, change):
    backend.get_user(users["support"].pk)  # cached now
    user = get_user_model().objects.select_related("staff_profile").get(pk=users["support"].pk)

    change(user)
    fresh_user = backend.get_user(users["support"].pk)

    if not user.is_active:
        assert fresh_user is None
    else:
        assert fresh_user.password == user.password
        assert fresh_user.staff_profile.venue_ids == user.staff_profile.venue_ids
