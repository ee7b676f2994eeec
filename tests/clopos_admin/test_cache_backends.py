"""The project's cache backends (whichever the profile configures: the shared database cache or
Redis): batched counters that keep their expiry, batched writes, compare-and-delete."""

from __future__ import annotations

import pytest
from django.core.cache import cache

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


def remaining_seconds(key: str) -> float:
    made = cache.make_and_validate_key(key)
    if hasattr(cache, "_expires"):  # the shared database cache
        from django.db import router
        from django.utils import timezone

        return (cache._expires(router.db_for_write(cache.cache_model_class), made) - timezone.now()).total_seconds()
    return cache._cache.get_client().ttl(made)


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
