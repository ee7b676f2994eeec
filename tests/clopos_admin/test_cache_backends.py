"""The project's cache backends (whichever the profile configures: the shared database cache or
Redis): batched counters that keep their expiry, batched writes, compare-and-delete."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import connection, connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clopos_admin import cache_backends
from clopos_admin.cache_backends import SharedDatabaseCache, _converted_datetime

pytestmark = pytest.mark.django_db


def test_incr_many_creates_counters_and_adds_to_existing_ones():
    first = cache.incr_many({"t:a": (1, 60), "t:b": (5, 60)})
    second = cache.incr_many({"t:a": (2, 60), "t:b": (-1, 60)})

    assert first == {"t:a": 1, "t:b": 5}
    assert second == {"t:a": 3, "t:b": 4}
    assert cache.get_many(["t:a", "t:b"]) == {"t:a": 3, "t:b": 4}  # plain cache reads see them
    assert cache.incr("t:a") == 4  # and Django's own incr too


def test_an_existing_counter_keeps_its_expiry():
    cache.set("t:c", 10, timeout=1000)
    cache.incr_many({"t:c": (1, 5)})

    assert cache.get("t:c") == 11
    assert remaining_seconds("t:c") > 900  # not the 5 s of a new counter


def remaining_seconds(key: str, backend: Any = None) -> float:
    backend = backend or caches["default"]
    made = backend.make_and_validate_key(key)
    if isinstance(backend, SharedDatabaseCache):
        connection = connections[router.db_for_read(backend.cache_model_class)]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT expires FROM {backend._table} WHERE cache_key = %s", [made])  # noqa: S608 - a test's own table name
            (expires,) = cursor.fetchone()
        return (_converted_datetime(expires, connection) - timezone.now()).total_seconds()
    return backend._cache.get_client().ttl(made)


def test_write_many_counts_and_sets_together():
    cache.write_many({"t:n": (2, 60)}, {"t:v": ({"at": 1.5}, 60), "t:w": ("x", 60)})

    assert cache.get_many(["t:n", "t:v", "t:w"]) == {"t:n": 2, "t:v": {"at": 1.5}, "t:w": "x"}


def test_delete_if_equal_deletes_only_its_own_value():
    cache.set("t:lock", "owner-1", timeout=60)

    assert cache.delete_if_equal("t:lock", "owner-2") is False
    assert cache.get("t:lock") == "owner-1"
    assert cache.delete_if_equal("t:lock", "owner-1") is True
    assert cache.get("t:lock") is None
    assert cache.delete_if_equal("t:lock", "owner-1") is False


def test_add_and_get_many_takes_a_free_key_and_reads_the_others_after_it():
    cache.set_many({"t:result": {"v": 1}, "t:other": 7}, timeout=60)

    assert cache.add_and_get_many("t:lock", "owner-1", 30, ["t:result", "t:missing", "t:other", "t:lock"]) == (
        True,
        {"t:result": {"v": 1}, "t:other": 7, "t:lock": "owner-1"},  # as get_many gives them, after the add
    )
    assert cache.get("t:lock") == "owner-1"
    assert 0 < remaining_seconds("t:lock") <= 30


def test_add_and_get_many_leaves_a_taken_key_alone():
    cache.set("t:lock", "owner-1", timeout=60)

    assert cache.add_and_get_many("t:lock", "owner-2", 30, ["t:missing"]) == (False, {})
    assert cache.get("t:lock") == "owner-1"


def test_add_and_get_many_counts_only_when_it_adds():
    cache.set("t:old", 10, timeout=1000)

    added = cache.add_and_get_many("t:lock", "owner-1", 30, ["t:result"], incr={"t:old": (2, 5), "t:new": (3, 20)})
    refused = cache.add_and_get_many("t:lock", "owner-2", 30, ["t:result"], incr={"t:old": (2, 5), "t:new": (3, 20)})

    assert added == (True, {"t:old": 12, "t:new": 3})  # the counts come with the keys read
    assert refused == (False, {})  # a taken lock counts nothing
    assert cache.get_many(["t:old", "t:new", "t:lock"]) == {"t:old": 12, "t:new": 3, "t:lock": "owner-1"}
    assert remaining_seconds("t:old") > 900  # an existing counter keeps its expiry
    assert 0 < remaining_seconds("t:new") <= 20


def test_set_and_delete_if_equal_stores_then_releases_only_its_own_lock():
    cache.set("t:lock", "owner-1", timeout=60)

    cache.set_and_delete_if_equal(("t:result", {"v": 2}, 120), "t:lock", "owner-2")  # someone else's lock
    assert cache.get_many(["t:result", "t:lock"]) == {"t:result": {"v": 2}, "t:lock": "owner-1"}
    assert 60 < remaining_seconds("t:result") <= 120

    cache.set_and_delete_if_equal(("t:result", {"v": 3}, 120), "t:lock", "owner-1")
    assert cache.get_many(["t:result", "t:lock"]) == {"t:result": {"v": 3}}


def test_set_and_delete_if_equal_follows_djangos_timeouts():
    cache.set("t:gone", "old", timeout=60)

    cache.set_and_delete_if_equal(("t:gone", "new", 0), "t:lock", "nobody")  # 0: delete, as set() does
    cache.set_and_delete_if_equal(("t:kept", "forever", None), "t:lock", "nobody")  # None: no expiry

    assert cache.get("t:gone") is None
    assert cache.get("t:kept") == "forever"


def test_set_and_delete_if_equal_writes_held_counters_and_values_with_the_release():
    cache.set_many({"t:lock": "owner-1", "t:count": 5}, timeout=1000)

    cache.set_and_delete_if_equal(
        ("t:result", "r", 120),
        "t:lock",
        "owner-1",
        incr={"t:count": (-2, 30), "t:new": (1, 30)},
        values={"t:health": ({"at": 1.5}, 60)},
    )

    assert cache.get_many(["t:result", "t:lock", "t:count", "t:new", "t:health"]) == {
        "t:result": "r",
        "t:count": 3,
        "t:new": 1,
        "t:health": {"at": 1.5},
    }
    assert remaining_seconds("t:count") > 900  # an existing counter keeps its expiry
    assert 0 < remaining_seconds("t:new") <= 30


def test_set_and_delete_if_equal_without_an_entry_writes_and_releases_only():
    cache.set("t:lock", "owner-1", timeout=60)

    cache.set_and_delete_if_equal(None, "t:lock", "owner-2", values={"t:health": ("down", 60)})  # not its lock
    assert cache.get_many(["t:lock", "t:health"]) == {"t:lock": "owner-1", "t:health": "down"}

    cache.set_and_delete_if_equal(None, "t:lock", "owner-1", incr={"t:failures": (1, 60)})
    assert cache.get_many(["t:lock", "t:health", "t:failures"]) == {"t:health": "down", "t:failures": 1}


# The shared database cache itself, on this run's database (SQLite, or PostgreSQL in the
# production profile, where the default cache is Redis): a table of its own, culled early.
@pytest.fixture
def database_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[SharedDatabaseCache]:
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table("default", "test_shared_cache", dry_run=False)
    monkeypatch.setattr(cache_backends, "_writes", itertools.count(1))  # no count on the first write
    backend = SharedDatabaseCache("test_shared_cache", {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    backend.clear()  # a transactional test's rows outlive it (the table is no model's: no flush)
    yield backend


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements run, without the transaction's own (BEGIN, SAVEPOINT, RELEASE...)."""
    control = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")
    return [query["sql"] for query in queries.captured_queries if not query["sql"].upper().startswith(control)]


@pytest.mark.django_db(transaction=True)  # autocommit, as a served request runs
def test_set_and_add_are_one_statement_each(database_cache: SharedDatabaseCache) -> None:
    with CaptureQueriesContext(connection) as queries:
        database_cache.set("k", {"v": 1}, timeout=60)
    assert len(queries) == 1, statements(queries)  # Django's: COUNT, then SELECT and UPDATE/INSERT in a transaction
    with CaptureQueriesContext(connection) as queries:
        assert database_cache.add("lock", "owner-1", timeout=60) is True
        assert database_cache.add("lock", "owner-2", timeout=60) is False
    assert len(queries) == 2, statements(queries)
    assert database_cache.get_many(["k", "lock"]) == {"k": {"v": 1}, "lock": "owner-1"}


def test_a_set_in_a_transaction_is_one_statement(
    database_cache: SharedDatabaseCache,
) -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        database_cache.set("k", 1, timeout=60)
        database_cache.set("k", 2, timeout=60)
    assert len(statements(queries)) == 2
    if connection.vendor == "sqlite":  # no SAVEPOINT either (PostgreSQL needs one: an error aborts its transaction)
        assert len(queries) == 2, [query["sql"] for query in queries.captured_queries]
    assert database_cache.get("k") == 2


def test_counters_and_values_written_together_are_one_transaction(database_cache: SharedDatabaseCache) -> None:
    database_cache.set("n", 1, timeout=60)
    with CaptureQueriesContext(connection) as queries:
        database_cache.write_many({"n": (2, 60), "m": (5, 60)}, {"v": ("x", 60)})
    # add n (taken), read n, write n; add m; set v.
    assert len(statements(queries)) == 5, statements(queries)
    assert database_cache.get_many(["n", "m", "v"]) == {"n": 3, "m": 5, "v": "x"}


def test_add_takes_a_key_whose_value_expired(database_cache: SharedDatabaseCache) -> None:
    """A lock whose holder died expires: the next add must take it (clopos.singleflight)."""
    database_cache.set("lock", "dead-owner", timeout=1)
    assert database_cache.add("lock", "owner-2", timeout=60) is False
    time.sleep(2.05)  # expiry is stored in whole seconds
    assert database_cache.add("lock", "owner-2", timeout=60) is True
    assert database_cache.get("lock") == "owner-2"
    assert 50 < remaining_seconds("lock", database_cache) <= 60


def test_set_replaces_value_and_expiry_as_djangos_does(
    database_cache: SharedDatabaseCache,
) -> None:
    database_cache.set("k", "old", timeout=1000)
    database_cache.set("k", "new", timeout=30)
    assert database_cache.get("k") == "new"
    assert 20 < remaining_seconds("k", database_cache) <= 30
    database_cache.set("forever", "x", timeout=None)
    database_cache.set("k", "gone", timeout=0)  # 0: expired at once, as Django's
    assert database_cache.get_many(["k", "forever"]) == {"forever": "x"}
    assert remaining_seconds("forever", database_cache) > 10 * 365 * 24 * 3600


def test_incr_keeps_the_expiry_and_a_missing_or_expired_key_is_an_error(database_cache: SharedDatabaseCache) -> None:
    database_cache.set("n", 10, timeout=1000)
    with CaptureQueriesContext(connection) as queries:
        assert database_cache.incr("n", 5) == 15
    assert len(statements(queries)) == 2  # read the value and its expiry, write the value
    assert database_cache.decr("n") == 14
    assert database_cache.get("n") == 14
    assert remaining_seconds("n", database_cache) > 990
    with pytest.raises(ValueError, match="not found"):
        database_cache.incr("missing")
    database_cache.set("stale", 1, timeout=0)
    with pytest.raises(ValueError, match="not found"):
        database_cache.incr("stale")


def test_the_table_is_still_culled(database_cache: SharedDatabaseCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_backends, "CULL_CHECK_EVERY", 4)
    for number in range(100):
        database_cache.set(f"k{number}", number, timeout=60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM test_shared_cache")
        (count,) = cursor.fetchone()
    assert count <= 10 + 4  # MAX_ENTRIES, and the writes between two counts
    assert database_cache.get("k99") == 99  # the newest write is kept
