"""The colour scheme saved per user, the admin site branded as the console (with the console's
403 for non-admins and a 24-hour clock), and error pages that keep the navigation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import formats

from staff.models import StaffProfile
from tests.pages import body, htmx_headers, nav_of, text_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("theme", ["light", "dark", "system"])
def test_the_colour_scheme_is_saved_and_applied_by_the_server(api, client_for, users, theme):
    client = client_for("support")

    response = client.post("/preferences/theme/", {"theme": theme, "next": "/orders/4103/"})

    assert response.status_code == 302
    assert response["Location"] == "/orders/4103/"
    assert StaffProfile.objects.get(user=users["support"]).theme == theme
    page = body(client.get("/"))
    if theme == "system":
        assert "data-theme=" not in page
        assert '<meta name="color-scheme" content="light dark">' in page
    else:
        assert f'<html lang="en" data-theme="{theme}">' in page
        assert f'<meta name="color-scheme" content="{theme}">' in page
    assert f'value="{theme}" aria-pressed="true"' in page


def test_with_htmx_the_scheme_applies_without_a_reload(client_for, users):
    response = client_for("manager").post("/preferences/theme/", {"theme": "dark"}, headers=htmx_headers("/orders/"))

    assert response.status_code == 204
    assert response["HX-Trigger"] == '{"console:theme": {"theme": "dark"}}'
    assert StaffProfile.objects.get(user=users["manager"]).theme == "dark"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", ""])
def test_the_scheme_form_never_redirects_off_site(client_for, target):
    response = client_for("support").post("/preferences/theme/", {"theme": "dark", "next": target})

    assert response.status_code == 302
    assert response["Location"] == "/orders/"


def test_an_unknown_scheme_is_refused(client_for, users):
    response = client_for("support").post("/preferences/theme/", {"theme": "sepia"})

    assert response.status_code == 400
    assert StaffProfile.objects.get(user=users["support"]).theme == "system"


def test_the_scheme_needs_a_post_with_csrf(client_for):
    assert client_for("support").get("/preferences/theme/").status_code == 405
    strict = client_for("support", enforce_csrf_checks=True)
    assert strict.post("/preferences/theme/", {"theme": "dark"}).status_code == 403


def test_a_user_without_a_profile_gets_one_with_the_scheme(client_for, users):
    StaffProfile.objects.filter(user=users["admin"]).delete()

    client_for("admin").post("/preferences/theme/", {"theme": "light"})

    assert StaffProfile.objects.get(user=users["admin"]).theme == "light"


# --- The admin site, as the console -------------------------------------------------------------


def test_the_admin_site_is_branded_as_the_console(client_for):
    content = body(client_for("admin").get("/admin/"))

    assert "Django administration" not in content
    assert "Django site admin" not in content
    assert "<title>Staff admin | Clopos Admin</title>" in content
    assert 'class="console-brand">Clopos Admin</a>' in content
    assert '<meta name="console-theme" content="system">' in content
    assert "admin/js/theme.js" not in content  # the console's scheme, not Django's localStorage toggle


def test_the_admin_site_follows_the_users_scheme(client_for, users):
    StaffProfile.objects.filter(user=users["admin"]).update(theme="dark")

    assert '<meta name="console-theme" content="dark">' in body(client_for("admin").get("/admin/"))


@pytest.mark.parametrize("username", ["support", "manager", "no-venue", "norole"])
def test_non_admins_get_the_consoles_403_not_djangos_login(client_for, username):
    for path in ("/admin/", "/admin/auth/user/", "/admin/login/"):
        response = client_for(username).get(path)

        assert response.status_code == 403, path
        content = body(response)
        assert "Not allowed" in content
        assert "log in to a different account" not in content.lower()
        assert "Log out" in nav_of(response)


def test_anonymous_visitors_of_the_admin_use_the_consoles_login(client):
    first = client.get("/admin/")
    assert first.status_code == 302 and first["Location"].startswith("/admin/login/")

    second = client.get(first["Location"])

    assert second.status_code == 302
    assert second["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_times_use_the_24_hour_clock():
    moment = dt.datetime(2026, 11, 27, 16, 40)

    assert formats.time_format(moment.time()) == "16:40"
    assert formats.date_format(moment, "DATETIME_FORMAT") == "27 Nov 2026, 16:40"


def test_the_admin_change_list_shows_24_hour_times(client_for, users):
    users["support"].last_login = dt.datetime(2026, 11, 27, 12, 40, tzinfo=dt.UTC)  # 16:40 in Baku
    users["support"].save(update_fields=["last_login"])

    text = text_of(client_for("admin").get("/admin/auth/user/").content)

    assert "16:40" in text
    assert "p.m." not in text


# --- Error pages keep the navigation -------------------------------------------------------------


def test_a_404_keeps_the_lookup_box_and_logout_for_a_signed_in_user(client_for):
    response = client_for("support").get("/no/such/page/")

    assert response.status_code == 404
    assert 'id="lookup-order-id"' in body(response)
    assert "Log out" in nav_of(response)


def test_a_403_keeps_the_lookup_box_and_logout(client_for):
    response = client_for("support").get("/audit/")

    assert response.status_code == 403
    assert 'id="lookup-order-id"' in body(response)
    assert "Log out" in nav_of(response)


def test_the_lookup_page_has_one_lookup_box(client_for):
    content = body(client_for("support").get("/"))

    assert content.count('name="order_id"') == 1
    assert "data-lookup-box" in content  # the "/" key focuses it
