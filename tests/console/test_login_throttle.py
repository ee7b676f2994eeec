"""A flood of sign-in attempts from one address is cut off before any password is hashed.

Random usernames never trip django-axes' per-username lockout; each guess would still cost a
password hash (the CPU every page needs). Over LOGIN_RATE_PER_IP the address gets 429 at once,
no credentials are checked and no axes record is written.
"""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.test import Client

pytestmark = pytest.mark.django_db

FLOOD = 30


def attempt(client: Client, *, remote_addr: str = "203.0.113.7", **extra: str):
    return client.post(
        "/accounts/login/",
        {"username": f"guess-{uuid.uuid4().hex[:8]}", "password": "wrong-Passw0rd!"},
        REMOTE_ADDR=remote_addr,
        **extra,
    )


def test_a_flood_from_one_address_gets_429_before_the_password_check(settings):
    settings.LOGIN_RATE_PER_IP = "10/m"
    client = Client()

    with mock.patch("django.contrib.auth.backends.ModelBackend.authenticate", return_value=None) as check:
        answers = [attempt(client).status_code for _ in range(FLOOD)]

    assert answers[:10] == [200] * 10  # the form again, with its error
    assert answers[10:] == [429] * (FLOOD - 10)
    assert check.call_count == 10
    assert AccessAttempt.objects.count() <= 10
    throttled = attempt(client)
    assert throttled["Retry-After"] == "60"
    assert "Too many sign-in attempts from your address" in throttled.content.decode()


def test_other_addresses_can_still_sign_in(settings, users):
    settings.LOGIN_RATE_PER_IP = "5/m"
    for _ in range(10):
        attempt(Client())

    response = Client().post(
        "/accounts/login/", {"username": "support", "password": "access-test-Passw0rd!"}, REMOTE_ADDR="198.51.100.9"
    )

    assert response.status_code == 302


def test_a_forged_forwarded_for_does_not_get_a_fresh_counter(settings):
    """Without DJANGO_TRUSTED_PROXIES (or from an untrusted peer), X-Forwarded-For is ignored:
    rotating it does not reset the count."""
    settings.LOGIN_RATE_PER_IP = "5/m"
    settings.DJANGO_TRUSTED_PROXIES = ["10.0.0.1"]
    client = Client()

    answers = [attempt(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(10)]

    assert answers[5:] == [429] * 5


def test_forged_forwarded_for_does_not_reset_the_axes_lockout(settings, users):
    """The attack: the app port reached directly, a new X-Forwarded-For per guess. The lockout
    counts the socket address, so after AXES_FAILURE_LIMIT guesses even the right password fails."""
    settings.DJANGO_TRUSTED_PROXIES = ["10.0.0.1"]
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT + 2):
        client.post(
            "/accounts/login/",
            {"username": "support", "password": f"guess-{n}"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    right = client.post(
        "/accounts/login/",
        {"username": "support", "password": "access-test-Passw0rd!"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )

    assert right.status_code != 302
    assert "_auth_user_id" not in client.session
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(settings, users):
    settings.DJANGO_TRUSTED_PROXIES = ["10.0.0.1"]
    client = Client()

    client.post(
        "/accounts/login/",
        {"username": "support", "password": "wrong"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="spoofed, 192.0.2.44",
    )

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.44"]
