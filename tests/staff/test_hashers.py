"""The password hasher that runs at low CPU priority (staff/hashers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from staff import hashers
from staff.hashers import LowPriorityPBKDF2PasswordHasher
from tests.live import ROOT

# Few iterations: the tests check where and how the hash is computed, not its cost.
ITERATIONS = 1_000

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def test_it_makes_the_same_hash_as_django_and_verifies_django_hashes():
    ours, django = LowPriorityPBKDF2PasswordHasher(), PBKDF2PasswordHasher()

    encoded = ours.encode("s3cret-Pass", "fixedsalt1234567", ITERATIONS)

    assert encoded == django.encode("s3cret-Pass", "fixedsalt1234567", ITERATIONS)
    assert ours.algorithm == django.algorithm == "pbkdf2_sha256"
    made_by_django = django.encode("another one", django.salt(), ITERATIONS)
    assert ours.verify("another one", made_by_django)
    assert not ours.verify("another two", made_by_django)


@linux_only
def test_the_hash_runs_on_a_thread_niced_to_the_lowest_priority(monkeypatch):
    seen: dict[str, object] = {}
    real_encode = PBKDF2PasswordHasher.encode

    def spying_encode(self, password, salt, iterations=None):
        seen["thread"] = threading.get_native_id()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return real_encode(self, password, salt, iterations)

    monkeypatch.setattr(PBKDF2PasswordHasher, "encode", spying_encode)

    LowPriorityPBKDF2PasswordHasher().encode("guess", "saltsaltsalt1234", ITERATIONS)

    assert seen["thread"] != threading.get_native_id()  # not on the request's thread
    assert seen["nice"] == hashers.LOWEST_PRIORITY
    # The request thread keeps its priority: only the hashing threads are niced.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != hashers.LOWEST_PRIORITY


def test_a_forked_worker_gets_a_pool_of_its_own(monkeypatch):
    parent_pool = hashers.low_priority_pool()
    assert hashers.low_priority_pool() is parent_pool
    # After gunicorn forks, the inherited pool's threads do not exist in the child.
    monkeypatch.setattr(hashers, "_pool_pid", -1)

    assert hashers.low_priority_pool() is not parent_pool


def test_the_served_settings_hash_with_it_and_nothing_shadows_it():
    """Django picks the hasher that verifies a hash by algorithm name, the last one listed
    winning: a second pbkdf2_sha256 hasher would verify every login at full priority."""
    script = (
        "from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password; "
        "print(type(get_hasher()).__name__, type(identify_hasher(make_password('x'))).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOPOS_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "clopos_admin.settings", "CLOPOS_DEMO": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["LowPriorityPBKDF2PasswordHasher", "LowPriorityPBKDF2PasswordHasher"]


def test_the_request_thread_tells_the_accept_gate_it_waits_for_the_hash():
    # The gunicorn worker's gate counts threads running Python: a login thread waiting for its
    # niced hash runs none, so a login flood must not hold the gate (issue 9, issue 13).
    from clopos import waiting

    told, during = [], []
    real_encode = PBKDF2PasswordHasher.encode

    def encode(self, password, salt, iterations=None):
        during.append(sum(told))
        return real_encode(self, password, salt, iterations)

    waiting.forget_listeners()
    waiting.listen(told.append)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(PBKDF2PasswordHasher, "encode", encode)
            encoded = LowPriorityPBKDF2PasswordHasher().encode("guess", "saltsaltsalt1234", ITERATIONS)
    finally:
        waiting.forget_listeners()

    assert encoded.startswith("pbkdf2_sha256$")
    assert during == [1]  # the request thread was waiting while the hash ran
    assert told == [1, -1]
