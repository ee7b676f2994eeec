"""The order page, its main block and its receipt slot, kept rendered per process
(console/fragments.py): a hit is the same HTML a fresh render gives, for that user, role,
language and moment; the CSRF token is the request's own; a refresh shows what it fetched."""

from __future__ import annotations

import copy
import re
import time

import pytest
import responses
import time_machine
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client

from console import fragments
from tests.conftest import ORDERS, RECEIPTS, api_url, later, load_payload, make_users
from tests.pages import body, htmx_headers, normalised

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_the_top_of_a_minute():
    """Kept fragments are keyed by the minute (relative times): each test starts at the top of
    one and the clock runs on, so no hit-versus-first comparison straddles a minute's turn (the
    likeliest cause of one failed run of the production profile: a hit rendered anew)."""
    with time_machine.travel(time.time() // 60 * 60, tick=True):
        yield


@pytest.fixture
def main_renders(monkeypatch):
    """How many times the main block was rendered rather than served from the fragment cache."""
    rendered: list[str] = []
    real = fragments.render_to_string

    def counting(template, *args, **kwargs):
        # Blocks only: the header's navigation and whole pages have tests of their own below.
        if "#" in template:
            rendered.append(template)
        return real(template, *args, **kwargs)

    monkeypatch.setattr(fragments, "render_to_string", counting)
    return rendered


@pytest.fixture
def page_renders(monkeypatch):
    """How many times the whole order page was rendered rather than served as a kept page."""
    rendered: list[str] = []
    real = fragments.render_to_string

    def counting(template, *args, **kwargs):
        if template == "orders/order_detail.html":
            rendered.append(template)
        return real(template, *args, **kwargs)

    monkeypatch.setattr(fragments, "render_to_string", counting)
    return rendered


@pytest.mark.parametrize("username", ["support", "manager", "admin"])
@pytest.mark.parametrize("order_id", sorted(ORDERS))
def test_a_hit_is_the_page_a_fresh_render_gives(api, client_for, username, order_id, main_renders, page_renders):
    client = client_for(username)
    client.get(f"/orders/{order_id}/")  # fetched live: says so, a block of its own
    first = client.get(f"/orders/{order_id}/")  # served from the shared cache
    hit = client.get(f"/orders/{order_id}/")
    assert len(main_renders) == 2  # the third page did not render the block again
    # The page around the block was rendered once: the second page (a new block) was put
    # together from the kept shell, and the third was kept whole.
    assert len(page_renders) == 1

    fragments.clear()  # nothing kept: this page renders afresh
    fresh = client.get(f"/orders/{order_id}/")

    assert first.status_code == hit.status_code == fresh.status_code == 200
    assert len(main_renders) == 3
    assert len(page_renders) == 2
    assert normalised(hit) == normalised(first) == normalised(fresh)


def test_a_new_order_is_put_together_in_the_kept_page_around_it(api, client_for, page_renders):
    """The header, navigation and the rest of the page are rendered once per user (and language,
    zone, minute): a second order's page renders only its own parts, and is the page a fresh
    render gives, with its own title and list links."""
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14"})
    for order_id in (4101, 4103):  # both fetched: every page below shows them from the cache
        client.get(f"/orders/{order_id}/")
    fragments.clear()
    page_renders.clear()
    client.get("/orders/4101/")
    second = client.get("/orders/4103/", {"list": "day=2026-03-14"})
    assert len(page_renders) == 1

    fragments.clear()
    fresh = client.get("/orders/4103/", {"list": "day=2026-03-14"})

    assert len(page_renders) == 2
    assert normalised(second) == normalised(fresh)
    assert "<title>Order 4103 · Clopos Admin</title>" in body(second)
    assert "data-list-back" in body(second)


def test_the_kept_page_around_an_order_holds_no_order(api, client_for):
    """The shell is rendered from placeholders alone: nothing of the order it was first made for
    (id, customer, title) is kept in it for the next order's page."""
    client_for("manager").get("/orders/4101/")
    shells = [html for key, html in fragments._entries.items() if "shell" in key[0][1]]

    assert len(shells) == 1
    assert "4101" not in shells[0]
    assert "+994" not in shells[0]
    assert all(fragments._part_placeholder(name) in shells[0] for name in ("order_title", "order_main_html"))


def test_users_do_not_share_the_page_around_an_order(api, client_for, users):
    """Another role, or another user with the same role, gets a shell of its own."""
    other_client = Client()
    other_client.force_login(make_users({"manager-b": ("manager", [], True)})["manager-b"])
    client_for("manager").get("/orders/4101/")  # the manager's shell is kept first
    support = nav_of(client_for("support").get("/orders/4103/"))
    other = nav_of(other_client.get("/orders/4103/"))

    assert "/audit/" not in support and ">support<" in support
    assert ">manager-b<" in other and ">manager<" not in other


def test_parts_go_into_the_page_in_one_pass(rf, users):
    """A part's HTML is put in as it is: a placeholder in it (which no upstream string can know)
    is never replaced by another part."""
    request = rf.get("/orders/4101/")
    request.user = users["manager"]
    title, main = (fragments._part_placeholder(name) for name in ("order_title", "order_main_html"))
    # Each part holds the other's placeholder: replacing one after the other, in either order,
    # would put one part inside the other.
    parts = {"order_title": lambda: main, "list_nav_html": lambda: "", "order_main_html": lambda: f"<p>{title}</p>"}

    page = fragments.render_kept_page(request, "orders/order_detail.html", {}, ("one-pass", 1), parts=parts)

    assert f"<title>{main} · Clopos Admin</title>" in page.content.decode()
    assert f"<p>{title}</p>" in page.content.decode()


def test_roles_do_not_share_a_rendered_block(api, client_for):
    """A manager's rendered block (refresh, reveal) is never what support receives."""
    manager_page = body(client_for("manager").get("/orders/4101/"))
    support_page = body(client_for("support").get("/orders/4101/"))

    assert "/orders/4101/refresh/" in manager_page
    assert "/orders/4101/refresh/" not in support_page
    assert "/orders/4101/customer/reveal/" in manager_page
    assert "/orders/4101/customer/reveal/" not in support_page
    assert "+994 50 *** ** 67" in support_page


def test_each_language_gets_its_own_block(api, client_for):
    client = client_for("manager")
    english = body(client.get("/orders/4103/"))
    azerbaijani = body(client.get("/orders/4103/", headers={"accept-language": "az"}))

    assert "Customer" in english
    assert "Müştəri" in azerbaijani
    assert "Müştəri" not in english


def test_the_cached_block_carries_no_nonce(api, client_for):
    """A CSP nonce is per response: one inside a cached block would be a stale nonce (blocked)."""
    client_for("manager").get("/orders/4103/")

    assert fragments._entries
    assert not any("nonce" in html for html in fragments._entries.values())


def test_the_csrf_token_in_a_cached_block_is_the_requests_own(api, client_for):
    """Two users, one cached block: each posts the reveal form with the token their page gave them."""
    for _ in range(2):  # the second user's page is a cache hit
        client = client_for("manager", enforce_csrf_checks=True)
        page = body(client.get("/orders/4101/"))
        assert fragments.CSRF_PLACEHOLDER not in page
        form = page.split('action="/orders/4101/customer/reveal/"', 1)[1]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]

        reveal = client.post("/orders/4101/customer/reveal/", {"csrfmiddlewaretoken": token})

        assert reveal.status_code == 200
        assert "+994503214567" in body(reveal)


def test_a_kept_page_holds_no_requests_token(api, client_for):
    """The CSRF token is filled in on the way out: no kept page, nor any block in it, holds a
    token some response carried (the next user would post with it)."""
    responses_ = [client_for(name).get("/orders/4101/") for name in ("manager", "manager", "admin")]
    tokens = {token for response in responses_ for token in re.findall(r'value="([A-Za-z0-9]{64})"', body(response))}

    assert len(tokens) == 3  # one per response: the second manager's page was a hit
    kept = list(fragments._entries.values())
    assert any(fragments.CSRF_PLACEHOLDER in html and "<html" in html for html in kept)
    assert not any(token in html for token in tokens for html in kept)


def test_users_with_the_same_rights_do_not_share_a_page(api, client_for, users):
    """The same role, venues and order: the header still names who is signed in."""
    other_client = Client()
    other_client.force_login(make_users({"manager-b": ("manager", [], True)})["manager-b"])
    manager = body(client_for("manager").get("/orders/4103/"))
    other = body(other_client.get("/orders/4103/"))

    assert '<span class="nav-user">manager</span>' in manager
    assert '<span class="nav-user">manager-b</span>' in other
    assert "manager-b" not in manager


def test_a_waiting_message_is_shown_once_and_never_kept(api, client_for):
    """Messages belong to one request: a page that shows one is not kept, and the next view of
    the same page (kept or not) does not show it again."""
    client = client_for("manager")
    client.get("/orders/4103/")  # kept without a message
    storage = CookieStorage(HttpRequest())
    client.cookies[storage.cookie_name] = storage._encode([Message(constants.INFO, "Saved <b>for</b> you")])

    with_message = client.get("/orders/4103/").content.decode()  # as sent: entities not decoded
    after = body(client.get("/orders/4103/"))

    assert "Saved &lt;b&gt;for&lt;/b&gt; you" in with_message
    assert "Saved" not in after
    assert not any("Saved" in html for html in fragments._entries.values())


def test_the_list_links_are_part_of_a_kept_page(api, client_for):
    client = client_for("manager")
    client.get("/orders/", {"day": "2026-03-14"})
    plain = body(client.get("/orders/4102/"))  # kept without list links
    from_list = body(client.get("/orders/4102/", {"list": "day=2026-03-14"}))
    plain_again = body(client.get("/orders/4102/"))

    assert "data-list-back" not in plain and "data-list-back" not in plain_again
    assert "data-list-back" in from_list


def test_a_refresh_shows_what_it_fetched(api, client_for):
    client = client_for("manager")
    assert "Delivered" in body(client.get("/orders/4103/"))
    changed = copy.deepcopy(load_payload(ORDERS[4103]))
    changed["data"]["payload"]["customer"]["name"] = "Renamed After Refresh"
    api.replace(responses.GET, api_url("orders/4103"), json=changed)

    client.post("/orders/4103/refresh/", headers=htmx_headers(4103))
    page = body(client.get("/orders/4103/"))

    assert "Renamed After Refresh" in page


def test_relative_times_move_on_with_the_minute(api, client_for, main_renders):
    client = client_for("manager")
    client.get("/orders/4101/")
    client.get("/orders/4101/")
    client.get("/orders/4101/")
    assert len(main_renders) == 2  # live, then cached (twice: one render)
    with later(120):
        client.get("/orders/4101/")

    assert len(main_renders) == 3


# --- The receipt slot (htmx) -----------------------------------------------------------------


def receipt_slot(client, order_id: int):
    return client.get(f"/orders/{order_id}/receipt/", headers=htmx_headers(order_id))


@pytest.mark.parametrize("username", ["support", "manager", "admin"])
@pytest.mark.parametrize("order_id", sorted(ORDERS))
def test_a_receipt_slot_hit_is_the_slot_a_fresh_render_gives(api, client_for, username, order_id, main_renders):
    client = client_for(username)
    client.get(f"/orders/{order_id}/")  # the page fills the order's cache entry
    receipt_slot(client, order_id)  # the receipt fetched live: says so
    first = receipt_slot(client, order_id)
    renders = len(main_renders)
    hit = receipt_slot(client, order_id)
    assert len(main_renders) == renders  # served from the fragment cache

    fragments.clear()
    fresh = receipt_slot(client, order_id)

    assert len(main_renders) == renders + 1
    assert first.status_code == hit.status_code == fresh.status_code == 200
    assert normalised(hit) == normalised(first) == normalised(fresh)


def test_roles_do_not_share_a_receipt_slot(api, client_for):
    """A manager's slot (payment lines, printing) is never what support receives."""
    manager = client_for("manager")
    manager.get("/orders/4103/")
    receipt_slot(manager, 4103)  # fetched live
    manager_slot = body(receipt_slot(manager, 4103))  # from the cache, as support's will be
    support = client_for("support")
    support.get("/orders/4103/")
    support_slot = body(receipt_slot(support, 4103))

    assert "/orders/4103/receipt/print/" in manager_slot
    assert "/orders/4103/receipt/print/" not in support_slot
    assert "Receipt lines, payment details and printing are for managers." in support_slot


def test_a_refreshed_receipt_shows_in_the_slot(api, client_for):
    client = client_for("manager")
    client.get("/orders/4103/")
    receipt_slot(client, 4103)
    assert "Kart" in body(receipt_slot(client, 4103))  # kept rendered
    changed = copy.deepcopy(load_payload(RECEIPTS[20855]))
    for payment in changed["data"]["payment_methods"]:
        payment["name"] = "Renamed Method"
    api.replace(responses.GET, api_url("receipts/20855"), json=changed)

    client.post("/orders/4103/refresh/", headers=htmx_headers(4103))
    slot = body(receipt_slot(client, 4103))

    assert "Renamed Method" in slot
    assert "Kart" not in slot


def test_the_cache_is_bounded(api, client_for, monkeypatch):
    monkeypatch.setattr(fragments, "MAX_ENTRIES", 2)
    client = client_for("admin")
    for order_id in sorted(ORDERS):
        client.get(f"/orders/{order_id}/")

    assert len(fragments._entries) == 2


# --- The header's navigation (console/templatetags/console_nav.py) --------------------------------


@pytest.fixture
def nav_renders(monkeypatch):
    """How many times the header's navigation was rendered rather than served from the cache."""
    rendered: list[str] = []
    real = fragments.render_to_string

    def counting(template, *args, **kwargs):
        if template == "includes/nav.html":
            rendered.append(template)
        return real(template, *args, **kwargs)

    monkeypatch.setattr(fragments, "render_to_string", counting)
    return rendered


def nav_of(response) -> str:
    return re.search(r'<nav class="nav" id="main-nav".*?</nav>', body(response), re.S).group(0)


def next_fields(response) -> list[str]:
    return re.findall(r'name="next" value="([^"]*)"', nav_of(response))


def test_one_rendered_navigation_serves_every_page_with_its_own_path(api, client_for, nav_renders):
    client = client_for("manager")

    order = client.get("/orders/4103/")
    lookup = client.get("/orders/lookup/")
    fragments.clear()
    fresh = client.get("/orders/lookup/")

    assert len(nav_renders) == 2  # the lookup page reused the order page's navigation
    assert next_fields(order) == ["/orders/4103/", "/orders/4103/"]  # language, colour scheme
    assert next_fields(lookup) == ["/orders/lookup/", "/orders/lookup/"]
    assert normalised(lookup) == normalised(fresh)


def test_the_path_in_a_cached_navigation_is_escaped(api, client_for):
    """The page to come back to is the request's, put in after the cache: still escaped."""
    client = client_for("manager")
    client.get("/orders/lookup/")

    # A query string as a browser may send it, raw: quotes and brackets unencoded.
    hostile = client.get('/orders/lookup/?order_id=1&x="><script>alert(1)</script>')
    markup = hostile.content.decode()  # as sent: entities not decoded

    assert "<script>alert(1)</script>" not in markup
    assert (
        re.findall(r'name="next" value="([^"]*)"', markup)
        == ["/orders/lookup/?order_id=1&amp;x=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"] * 2
    )


def test_roles_do_not_share_a_navigation(api, client_for):
    manager = nav_of(client_for("manager").get("/orders/4103/"))
    support = nav_of(client_for("support").get("/orders/4103/"))
    admin = nav_of(client_for("admin").get("/orders/4103/"))

    assert "/audit/" in manager and "/audit/" not in support
    assert "/admin/" in admin and "/admin/" not in manager
    assert ">manager<" in manager and ">support<" in support


def test_the_csrf_token_in_a_cached_navigation_is_the_requests_own(api, client_for):
    client = client_for("manager")
    client.get("/orders/4103/")

    page = client.get("/orders/4103/")
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', nav_of(page)))

    assert fragments.CSRF_PLACEHOLDER not in body(page)
    assert len(tokens) == 1  # one masked token per response, Django's own
    assert client.post("/preferences/theme/", {"theme": "dark", "csrfmiddlewaretoken": tokens.pop()}).status_code in (
        302,
        303,
    )


def test_a_new_colour_scheme_or_language_renders_a_new_navigation(api, client_for, users):
    client = client_for("manager")
    client.get("/orders/4103/")

    client.post("/preferences/theme/", {"theme": "dark", "next": "/orders/4103/"})
    dark = nav_of(client.get("/orders/4103/"))
    client.post("/language/", {"language": "az", "next": "/orders/4103/"})
    azerbaijani = nav_of(client.get("/orders/4103/"))

    assert 'value="dark" aria-pressed="true"' in dark
    assert "Çıxış" in azerbaijani and 'value="dark" aria-pressed="true"' in azerbaijani


def test_a_withdrawn_permission_leaves_the_navigation_at_once(api, client_for, users):
    client = client_for("manager")
    assert "/audit/" in nav_of(client.get("/orders/4103/"))

    users["manager"].groups.clear()  # the role taken away: the permission cache is invalidated
    page = client.get("/orders/4103/")

    assert page.status_code == 403
    assert "/audit/" not in nav_of(page) and "/orders/receipts/" not in nav_of(page)
