"""Navigation shows only what the user may use; the no-access page offers only logout
(templates/includes/nav.html with console.context_processors).
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from console import context_processors
from tests.pages import nav_of

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


def test_support_navigation_and_page_hide_manager_actions(api, client_for):
    client = client_for("support")
    lookup, detail = client.get("/"), client.get("/orders/4101/")

    for response in (lookup, detail):
        nav = nav_of(response)
        assert "Find order" in nav
        assert "Audit log" not in nav
        assert "/audit/" not in response.content.decode()
        assert "Staff admin" not in nav
        assert "/admin/" not in response.content.decode()
        assert "Log out" in nav
    page = detail.content.decode()
    assert "Refresh from Clopos" not in page
    assert "/orders/4101/refresh/" not in page
    assert "Reveal phone and address" not in page
    assert "/orders/4101/customer/reveal/" not in page


def test_manager_navigation_and_page_offer_manager_actions(api, client_for):
    client = client_for("manager")
    detail = client.get("/orders/4101/")

    nav = nav_of(detail)
    assert 'href="/audit/">Audit log</a>' in nav
    assert "Staff admin" not in nav
    page = detail.content.decode()
    assert "Refresh from Clopos" in page
    assert 'hx-post="/orders/4101/refresh/"' in page
    assert "Reveal phone and address" in page
    assert 'hx-post="/orders/4101/customer/reveal/"' in page


def test_admin_navigation_has_staff_admin(api, client_for):
    nav = nav_of(client_for("admin").get("/"))

    assert 'href="/admin/">Staff admin</a>' in nav
    assert 'href="/audit/">Audit log</a>' in nav


@pytest.mark.parametrize("username", ["no-venue", "norole"])
def test_no_access_page_offers_only_logout(api, client_for, username):
    response = client_for(username).get("/")

    assert response.status_code == 403
    assert [t.name for t in response.templates][0] == "console/no_access.html"
    nav = nav_of(response)
    assert "Find order" not in nav
    assert "Audit log" not in nav
    assert "Log out" in nav


def test_no_access_page_has_no_order_lookup_box(api, client_for):
    response = client_for("no-venue").get("/")

    assert 'role="search"' not in response.content.decode()


# --- console.context_processors --------------------------------------------------------------------


@pytest.mark.parametrize(("username", "expected"), [("support", True), ("no-venue", False), ("norole", False)])
def test_console_access_in_templates(users, username, expected):
    request = RequestFactory().get("/")
    request.user = users[username]

    assert bool(context_processors.console(request)["console_access"]) is expected


def test_console_access_is_computed_only_when_a_template_asks(users, monkeypatch):
    checked = []
    monkeypatch.setattr(context_processors, "has_console_access", lambda user: checked.append(user) or True)
    request = RequestFactory().get("/")
    request.user = users["support"]

    context = context_processors.console(request)
    assert checked == []

    assert bool(context["console_access"]) is True
    assert checked == [users["support"]]
