"""staff.sessions: a session this worker has seen is read in one cache round trip with the user
and permission set it names; the values are still read on every request, and what one request
read ahead is never used by another request or for another user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache, caches
from django.core.signals import request_started
from django.db import close_old_connections

from staff import backends, sessions
from staff.signals import PERMISSIONS_VERSION_KEY, user_key

pytestmark = pytest.mark.django_db


@contextmanager
def cache_reads() -> Iterator[list[list[str]]]:
    """The keys of every get_many on the shared cache, one list per call (get() is a get_many of
    one key on the database cache; on Redis it is recorded here as one key too)."""
    backend = type(caches["default"])
    reads: list[list[str]] = []
    get_many, get = backend.get_many, backend.get

    def recorded_get_many(self: Any, keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(list(keys))
        return get_many(self, keys, *args, **kwargs)

    def recorded_get(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        reads.append([key])
        return get(self, key, *args, **kwargs)

    with mock.patch.object(backend, "get_many", recorded_get_many), mock.patch.object(backend, "get", recorded_get):
        yield reads


def session_cache_key(client) -> str:
    return sessions.SessionStore.cache_key_prefix + client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_known_session_is_read_with_its_user_in_one_round_trip(api, client_for, users):
    client = client_for("manager")
    assert client.get("/orders/4103/").status_code == 200  # this worker learns whose session it is
    with cache_reads() as reads:
        assert client.get("/orders/4103/").status_code == 200

    user_reads = [keys for keys in reads if user_key(users["manager"].pk) in keys]
    assert user_reads == [[session_cache_key(client), *backends.read_ahead_keys(users["manager"].pk)]]


def test_a_session_not_seen_before_is_read_as_django_reads_it(api, client_for, users):
    client = client_for("manager")
    with cache_reads() as reads:
        assert client.get("/orders/4103/").status_code == 200

    assert [session_cache_key(client)] in reads
    assert backends.read_ahead_keys(users["manager"].pk) in reads


def test_a_role_taken_away_is_refused_on_the_next_request(api, client_for, users):
    client = client_for("manager")
    assert client.get("/audit/").status_code == 200
    assert client.get("/audit/").status_code == 200  # read ahead with the session from now on

    users["manager"].groups.set([Group.objects.get(name="support")])
    assert client.get("/audit/").status_code == 403


def test_a_deactivated_user_is_logged_out_on_the_next_request(api, client_for, users):
    client = client_for("manager")
    assert client.get("/orders/4103/").status_code == 200
    assert client.get("/orders/4103/").status_code == 200

    users["manager"].is_active = False
    users["manager"].save()
    response = client.get("/orders/4103/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/orders/4103/"


def forged_offer(user) -> dict[str, Any]:
    """Entries as the session store would offer them, naming a permission nobody has."""
    backends.StaffModelBackend().get_user(user.pk)  # the version exists
    version = cache.get(PERMISSIONS_VERSION_KEY)
    return {
        PERMISSIONS_VERSION_KEY: version,
        user_key(user.pk): (version, user),
        backends._permissions_key(user.pk, False): (version, {"orders.forged"}),
    }


def test_what_one_request_read_ahead_is_dropped_when_the_next_request_starts(users):
    support = users["support"]
    backends.read_ahead(support.pk, forged_offer(support))
    # As Django's test client does: the test's own database connection must stay open.
    request_started.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
    finally:
        request_started.connect(close_old_connections)

    user = backends.StaffModelBackend().get_user(support.pk)
    assert not user.has_perm("orders.forged")


def test_what_was_read_ahead_serves_one_read_and_only_for_its_user(users):
    support, manager = users["support"], users["manager"]
    backends.read_ahead(support.pk, forged_offer(support))
    assert not backends.StaffModelBackend().get_user(manager.pk).has_perm("orders.forged")
    assert not backends.StaffModelBackend().get_user(support.pk).has_perm("orders.forged")  # dropped above

    backends.read_ahead(support.pk, forged_offer(support))
    assert backends.StaffModelBackend().get_user(support.pk).has_perm("orders.forged")  # the lever itself
    assert not backends.StaffModelBackend().get_user(support.pk).has_perm("orders.forged")  # once


def test_a_session_that_now_holds_another_user_offers_nothing(client_for, users):
    client = client_for("manager")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    sessions._SESSION_USERS[key] = users["support"].pk  # a hint gone wrong

    store = sessions.SessionStore(key)
    assert store.load()["_auth_user_id"] == str(users["manager"].pk)
    assert backends._read_ahead.get() is None
    assert sessions._SESSION_USERS[key] == users["manager"].pk


def test_a_logged_out_session_forgets_its_hint(client_for, users):
    client = client_for("manager")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    sessions.SessionStore(key).load()
    assert sessions._SESSION_USERS[key] == users["manager"].pk

    client.logout()
    assert sessions.SessionStore(key).load() == {}
    assert key not in sessions._SESSION_USERS


def test_the_hints_stay_bounded(users, monkeypatch):
    monkeypatch.setattr(sessions, "_MAX_HINTS", 3)
    monkeypatch.setattr(sessions, "_SESSION_USERS", {})
    for number in range(10):
        sessions._remember(f"session-{number}", users["manager"].pk)
        assert len(sessions._SESSION_USERS) <= 3
    assert get_user_model().objects.filter(pk=users["manager"].pk).exists()
