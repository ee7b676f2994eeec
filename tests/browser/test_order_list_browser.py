"""The orders list in a real browser: htmx swaps and the URL, the back button, previous/next,
the keyboard (j, k, Enter, /), focus after a swap, and today's self-refresh."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import log_in, wait_js

pytestmark = pytest.mark.browser

NOW = "2026-11-27T14:00:00+04:00"
DAY = "2026-11-26"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def row_ids(page) -> list[str]:
    return page.locator("[data-order-row]").evaluate_all("rows => rows.map(r => r.dataset.orderRow)")


def open_list(page, live_app, query: str = f"day={DAY}", username: str = "manager") -> None:
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/%3F{query.replace('&', '%26')}")
    log_in(page, live_app.base_url, username)
    page.wait_for_url(re.compile(r"/orders/\?"))
    page.locator("[data-order-row]").first.wait_for()


def mark_document(page) -> None:
    """A marker that survives htmx swaps but not a full page load."""
    page.evaluate("window.__sameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


@pytest.fixture
def pinned(sandbox):
    sandbox.config(now=NOW)
    return sandbox


def test_a_filter_change_swaps_the_results_and_pushes_the_url(page, live_app, pinned):
    open_list(page, live_app)
    mark_document(page)
    everything = row_ids(page)

    with page.expect_request(lambda r: "/orders/?" in r.url and r.headers.get("hx-request") == "true"):
        page.get_by_role("checkbox", name="Delivered", exact=True).check()
    page.wait_for_url(re.compile(r"status=DELIVERED"))
    expect(page.locator("#results-title")).to_be_focused()

    assert same_document(page), "only the results were swapped"
    assert query_of(page.url) == {"day": [DAY], "status": ["DELIVERED"]}
    delivered = row_ids(page)
    assert delivered and delivered != everything
    statuses = page.locator("[data-order-row] td .status[title]").evaluate_all("els => els.map(e => e.title)")
    assert statuses == ["DELIVERED"] * len(delivered)
    # The focus moved to the new results' heading, and the summary was announced.
    assert page.evaluate("document.activeElement.id") == "results-title"
    assert "those in the business day are shown" in page.locator("#list-announcer").inner_text()
    assert page.console_errors == []


def test_the_back_button_restores_the_list(page, live_app, pinned):
    open_list(page, live_app)
    everything = row_ids(page)
    page.get_by_role("checkbox", name="Ignored", exact=True).check()
    page.wait_for_url(re.compile(r"status=IGNORE"))
    expect(page.locator("#results-title")).to_be_focused()
    ignored = row_ids(page)
    assert 0 < len(ignored) < len(everything)

    # historyCacheSize is 0: htmx asks the server for the page again, as a history restore.
    with page.expect_response(lambda r: r.request.headers.get("hx-history-restore-request") == "true") as restore:
        page.go_back()
    assert restore.value.status == 200
    expect(page.locator("[data-order-row]")).to_have_count(len(everything))
    assert query_of(page.url) == {"day": [DAY]}
    assert row_ids(page) == everything
    assert not page.get_by_role("checkbox", name="Ignored", exact=True).is_checked()

    page.go_forward()
    expect(page.locator("[data-order-row]")).to_have_count(len(ignored))
    assert row_ids(page) == ignored
    assert page.get_by_role("checkbox", name="Ignored", exact=True).is_checked()
    assert page.console_errors == []


def test_two_quick_backs_show_the_entry_they_land_on(page, live_app, pinned):
    """htmx fetches each history entry from the server; left alone, it lets the first fetch's late
    answer swap over the second's, which showed the Ignored list under the unfiltered URL. Here the
    first Back's answer is held back until the second Back's has landed."""
    open_list(page, live_app)
    everything = row_ids(page)
    page.get_by_role("checkbox", name="Ignored", exact=True).check()
    page.wait_for_url(re.compile(r"status=IGNORE$"))
    page.get_by_role("checkbox", name="Delivered", exact=True).check()
    page.wait_for_url(re.compile(r"status=DELIVERED&status=IGNORE$"))
    page.evaluate("window.__restores = 0; document.addEventListener('htmx:historyRestore', () => window.__restores++)")

    held = []

    def hold_the_ignored_entry(route):
        request = route.request
        ignored_only = query_of(request.url) == {"day": [DAY], "status": ["IGNORE"]}
        if ignored_only and request.headers.get("hx-history-restore-request") == "true":
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/orders/\?"), hold_the_ignored_entry)
    with page.expect_request(lambda r: query_of(r.url) == {"day": [DAY], "status": ["IGNORE"]}) as first:
        page.go_back()
    with page.expect_response(lambda r: r.request.headers.get("hx-history-restore-request") == "true") as second:
        page.go_back()
    assert query_of(second.value.url) == {"day": [DAY]}
    expect(page.locator("[data-order-row]")).to_have_count(len(everything))

    # The first answer may come now: the page cancelled its request when the second Back began.
    assert len(held) == 1
    with contextlib.suppress(PlaywrightError):  # the browser may have dropped the cancelled request
        held[0].continue_()
    assert first.value.response() is None, "the first Back's fetch was cancelled"
    assert first.value.failure
    assert page.evaluate("window.__restores") == 1
    assert query_of(page.url) == {"day": [DAY]}
    assert row_ids(page) == everything
    assert not page.get_by_role("checkbox", name="Ignored", exact=True).is_checked()
    assert page.console_errors == []


def test_back_while_a_filter_is_on_its_way_drops_the_filters_answer(page, live_app, pinned):
    """A filter's late answer would swap its list in and push its URL over the entry Back landed on."""
    open_list(page, live_app)
    everything = row_ids(page)
    page.get_by_role("checkbox", name="Ignored", exact=True).check()
    page.wait_for_url(re.compile(r"status=IGNORE$"))
    # On the form itself: Back replaces it, and htmx's events on a detached element stay there.
    page.evaluate(
        "window.__answered = 0;"
        "document.getElementById('list-filters').addEventListener('htmx:afterRequest', () => window.__answered++)"
    )

    held = []
    page.route(re.compile(r"/orders/\?.*status=DELIVERED"), lambda route: held.append(route))
    with page.expect_request(lambda r: "status=DELIVERED" in r.url) as filtering:
        page.get_by_role("checkbox", name="Delivered", exact=True).check()
    with page.expect_response(lambda r: r.request.headers.get("hx-history-restore-request") == "true"):
        page.go_back()
    expect(page.locator("[data-order-row]")).to_have_count(len(everything))

    # The filter's answer comes now, after Back's; htmx has done with it once afterRequest fires.
    url_after_back = page.url
    assert len(held) == 1
    held[0].continue_()
    assert filtering.value.response().status == 200
    wait_js(page, "window.__answered >= 1")
    assert page.url == url_after_back
    assert query_of(page.url) == {"day": [DAY]}
    assert row_ids(page) == everything
    assert not page.get_by_role("checkbox", name="Ignored", exact=True).is_checked()
    assert page.console_errors == []


def test_a_page_link_swaps_results_and_back_returns_to_page_one(page, live_app, pinned):
    open_list(page, live_app)
    first_page = row_ids(page)
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator(".pager")).to_contain_text("Page 2 of")
    assert row_ids(page)[0] not in first_page

    page.go_back()
    expect(page.locator(".pager")).to_contain_text("Page 1 of")
    assert row_ids(page) == first_page
    assert "page" not in query_of(page.url)


def test_previous_next_and_back_to_list_keep_the_filters(page, live_app, pinned):
    open_list(page, live_app, f"day={DAY}&venue=3&status=DELIVERED")
    ids = row_ids(page)
    assert len(ids) >= 3

    page.locator(f'[data-order-row="{ids[0]}"] [data-row-link]').click()
    page.wait_for_url(re.compile(rf"/orders/{ids[0]}/\?list="))
    assert page.locator("h1").inner_text() == f"Order {ids[0]}"
    assert page.locator("[data-list-previous]").count() == 0  # the first row of the only page

    page.locator("[data-list-next]").click()
    page.wait_for_url(re.compile(rf"/orders/{ids[1]}/\?list="))
    assert page.locator("h1").inner_text() == f"Order {ids[1]}"
    page.locator("[data-list-previous]").wait_for()
    assert ids[0] in page.locator("[data-list-previous]").inner_text()

    page.locator("[data-list-back]").click()
    page.wait_for_url(re.compile(r"/orders/\?"))
    assert query_of(page.url) == {"day": [DAY], "venue": ["3"], "status": ["DELIVERED"]}
    assert row_ids(page) == ids


def test_without_a_list_an_order_page_has_no_previous_next(page, live_app, pinned):
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4103/")
    log_in(page, live_app.base_url, "manager")
    page.wait_for_url(f"{live_app.base_url}/orders/4103/")
    assert page.locator("[data-list-back], [data-list-previous], [data-list-next]").count() == 0


def test_j_and_k_move_a_visible_focus_and_enter_opens(page, live_app, pinned):
    open_list(page, live_app, f"day={DAY}&venue=3")
    ids = row_ids(page)
    page.locator("body").click(position={"x": 5, "y": 5})

    def focused_row() -> str | None:
        return page.evaluate("document.activeElement.closest('[data-order-row]')?.dataset.orderRow ?? null")

    page.keyboard.press("j")
    assert focused_row() == ids[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_row() == ids[2]
    page.keyboard.press("k")
    assert focused_row() == ids[1]
    row = page.locator(f'[data-order-row="{ids[1]}"]')
    assert "is-selected" in row.get_attribute("class")
    # The focus is visible: the selected row is highlighted, whatever the browser's focus ring.
    assert row.evaluate("r => getComputedStyle(r).boxShadow") != "none"

    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/orders/{ids[1]}/\?list="))
    assert page.locator("h1").inner_text() == f"Order {ids[1]}"


def test_slash_focuses_the_lookup_box_unless_typing(page, live_app, pinned):
    open_list(page, live_app)
    page.locator("body").click(position={"x": 5, "y": 5})

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "lookup-order-id"
    assert page.locator("#lookup-order-id").input_value() == ""  # the slash was not typed in

    # While typing in a field, "/" and "j" are just characters.
    page.locator("#lookup-order-id").fill("")
    page.locator("#lookup-order-id").type("/orders/4103/")
    assert page.locator("#lookup-order-id").input_value() == "/orders/4103/"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_app.base_url}/orders/4103/")
    assert page.locator("h1").inner_text() == "Order 4103"


@pytest.mark.parametrize("typed", ["#4103", " 4103. "])
def test_the_lookup_box_forgives(page, live_app, pinned, typed):
    open_list(page, live_app)
    page.locator("#lookup-order-id").fill(typed)
    page.locator("#lookup-order-id").press("Enter")
    page.wait_for_url(f"{live_app.base_url}/orders/4103/")


def test_the_lookup_box_explains_briefly(page, live_app, pinned):
    open_list(page, live_app)
    page.locator("#lookup-order-id").fill("table 12")
    page.locator("#lookup-order-id").press("Enter")
    page.locator("#order-id-error").wait_for()
    assert page.locator("#order-id-error").inner_text() == (
        "Type an order number, e.g. 4103, or r and a receipt number, e.g. r20855"
    )
    assert pinned.calls("order") == 0


def test_filters_work_without_javascript(chromium, live_app, pinned):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/%3Fday%3D{DAY}")
        log_in(page, live_app.base_url, "manager")
        page.wait_for_url(re.compile(r"/orders/\?day="))
        page.get_by_role("checkbox", name="Pending", exact=True).check()
        page.get_by_role("checkbox", name="Delivered", exact=True).check()
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(re.compile(r"status=PENDING&status=DELIVERED"))
        assert page.locator("[data-order-row]").count() > 0
        page.get_by_role("link", name="Next →").count()  # present or not, a plain link
    finally:
        context.close()


def test_todays_list_refreshes_itself_only_while_visible(page, live_app, sandbox):
    """The sandbox runs on the real clock here: the app's "today" has orders."""
    page.clock.install()
    open_list(page, live_app, query="")
    assert page.locator("#results").get_attribute("data-auto-refresh") == "60"
    refreshes = []
    page.on(
        "request",
        lambda r: refreshes.append(r.url) if r.headers.get("hx-request") == "true" and "/orders/" in r.url else None,
    )

    page.clock.run_for(30_000)
    assert refreshes == [], "never sooner than 60 s"
    page.clock.run_for(35_000)
    page.wait_for_timeout(300)
    assert len(refreshes) == 1 and urlsplit(refreshes[0]).path == "/orders/"

    # A hidden tab does not refresh.
    page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true})")
    page.clock.run_for(180_000)
    page.wait_for_timeout(300)
    assert len(refreshes) == 1
    # Visible again: the overdue refresh happens at once.
    page.evaluate(
        "Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.wait_for_timeout(500)
    page.clock.run_for(1000)  # htmx settles the swap on a timer
    assert len(refreshes) == 2
    assert page.evaluate("document.activeElement.id") != "results-title", "a self-refresh moves no focus"


def test_enter_on_a_button_does_what_the_button_does_not_open_the_selected_row(page, live_app, pinned):
    open_list(page, live_app, f"day={DAY}&venue=3")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.get_by_role("button", name="Apply").focus()

    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.keyboard.press("Enter")

    assert re.search(r"/orders/\?", page.url), "still on the list"
    # The swap ends by moving focus to the results' heading; wait for it, not a fixed time.
    expect(page.locator("#results-title")).to_be_focused()
    # A focused checkbox is not a text field: "/" still reaches the lookup box.
    page.get_by_role("checkbox", name="Pending", exact=True).focus()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "lookup-order-id"
