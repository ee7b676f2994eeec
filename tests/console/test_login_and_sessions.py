"""Login, lockout, logout, CSRF and sessions around the console (Django auth, django-axes,
clopos_admin.views.csrf_failure).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from tests.conftest import (
    PASSWORD,
    RAW_PHONE_4101,
    calls,
)
from tests.pages import body, htmx_headers, text_of

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- Login and lockout ----------------------------------------------------------------------


def test_login_form_works_and_lands_on_the_console(users):
    client = Client()

    response = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order-list")  # the console's home
    assert client.get("/").status_code == 200


def test_lockout_after_failure_limit(users):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    statuses = [
        client.post("/accounts/login/", {"username": "manager", "password": "wrong"}).status_code
        for _ in range(limit - 1)
    ]
    assert statuses == [200] * (limit - 1)  # the form again, with an error
    locking = client.post("/accounts/login/", {"username": "manager", "password": "wrong"})
    after = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    for response in (locking, after):
        # django-axes answers with AXES_HTTP_RESPONSE_CODE, 429 by default.
        assert response.status_code == 429
        assert "registration/locked_out.html" in [t.name for t in response.templates]
        assert "Too many failed logins" in response.content.decode()
        assert "ask your admin to unlock it" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_lockout_is_per_username_and_address(users):
    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked.post("/accounts/login/", {"username": "manager", "password": "wrong"})

    other_user = Client().post("/accounts/login/", {"username": "support", "password": PASSWORD})
    other_address = Client(REMOTE_ADDR="10.9.9.9").post(
        "/accounts/login/", {"username": "manager", "password": PASSWORD}
    )

    assert other_user.status_code == 302
    assert other_address.status_code == 302


def test_wrong_password_shows_a_form_error(users):
    client = Client()
    response = client.post("/accounts/login/", {"username": "manager", "password": "nope"})

    assert response.status_code == 200
    assert 'class="error" role="alert"' in response.content.decode()
    assert "enter a correct username and password" in text_of(response.content).lower()
    assert "_auth_user_id" not in client.session


def test_lockout_message_states_the_wait_in_words(users):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "manager", "password": "wrong"})

    text = text_of(response.content)
    assert "PT15M" not in text
    assert "15 minutes" in text


def test_logout_is_post_only(client_for):
    client = client_for("manager")

    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200  # still logged in

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/orders/4101/customer/reveal/", {}),
        ("/orders/4103/refresh/", {}),
        ("/accounts/logout/", {}),
    ],
    ids=["reveal", "refresh", "logout"],
)
def test_csrf_is_enforced(api, users, path, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])

    for headers in ({}, htmx_headers(4101)):
        response = client.post(path, data, headers=headers)
        assert response.status_code == 403
    assert not AuditEntry.objects.exists()
    assert calls(api, "orders/4101") == calls(api, "orders/4103") == 0


def test_csrf_token_from_the_page_is_accepted(api, users):
    """The control case: htmx sends the token the page put in hx-headers."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])
    page = client.get("/orders/4101/").content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)

    response = client.post("/orders/4101/customer/reveal/", headers=htmx_headers(4101) | {"X-CSRFToken": token})

    assert response.status_code == 200
    assert RAW_PHONE_4101 in body(response)


def test_login_requires_csrf(users):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    assert response.status_code == 403


def test_htmx_post_without_session_or_csrf_cookie_goes_to_login(users):
    """A browser whose cookies all expired: the CSRF check fails first, and still sends it to login."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/orders/4103/refresh/", headers=htmx_headers(4103))

    assert response.status_code == 401
    assert urlsplit(response["HX-Redirect"]).path == "/accounts/login/"
    assert parse_qs(urlsplit(response["HX-Redirect"]).query)["next"] == ["/orders/4103/"]
    assert b"<form" not in response.content


def test_csrf_failure_of_a_signed_in_user_is_a_plain_403(client_for):
    client = client_for("manager")
    client.handler.enforce_csrf_checks = True
    response = client.post("/orders/4103/refresh/", headers=htmx_headers(4103))

    assert response.status_code == 403
    assert "HX-Redirect" not in response
    assert "Not allowed" in text_of(response.content)


# --- Sessions and `next` ----------------------------------------------------------------------


def test_session_key_rotates_on_login(users):
    client = Client()
    anonymous = client.session
    anonymous["probe"] = "before login"
    anonymous.save()
    before = anonymous.session_key

    client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["_auth_user_id"] == str(get_user_model().objects.get(username="manager").pk)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "http://testserver.evil.example/", "https:///evil.example/"],
)
def test_next_never_leaves_the_site(users, target):
    response = Client().post("/accounts/login/", {"username": "manager", "password": PASSWORD, "next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order-list")  # the console's home


def test_next_within_the_site_is_followed(users):
    client = Client()
    page = client.get("/accounts/login/", {"next": "/orders/4101/"})
    assert 'name="next" value="/orders/4101/"' in page.content.decode()

    response = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD, "next": "/orders/4101/"})

    assert response.status_code == 302
    assert response["Location"] == "/orders/4101/"
