"""Where the answers are on screen: the paid badge and the total above the fold on a laptop and
on a phone, a compact sticky header, nothing wider than a phone, the print styles."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, wait_js
from tests.live import PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1280, 800), "mobile": (390, 844)}


def layout(page) -> dict:
    return page.evaluate(
        """() => {
            const top = (selector) =>
                Math.round(document.querySelector(selector).getBoundingClientRect().top + scrollY);
            return {
                badge: top('#paid-state'), total: top('#summary-total'), methods: top('#payment-methods'),
                header: Math.round(document.querySelector('.topbar').getBoundingClientRect().height),
                scrollWidth: document.documentElement.scrollWidth, width: innerWidth,
            };
        }"""
    )


def open_order(page, base_url, order_id, viewport):
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{base_url}/accounts/login/?next=/orders/{order_id}/")
    log_in(page, base_url, "manager")
    page.wait_for_url(f"{base_url}/orders/{order_id}/")
    page.locator("#receipt[data-loaded]").wait_for(timeout=10_000)


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_paid_state_and_total_are_above_the_fold(page, live_app, sandbox, viewport):
    open_order(page, live_app.base_url, 4103, viewport)
    _, height = VIEWPORTS[viewport]

    where = layout(page)
    print(f"\n{viewport}: {where}")  # the README's figures (pytest -s)

    assert "Paid" in page.locator("#paid-state").inner_text()
    assert page.locator("#summary-total").inner_text().startswith("38.20\xa0AZN")
    assert where["badge"] < height / 3
    assert where["total"] < height * 0.6
    assert where["methods"] < height * 0.7
    assert where["scrollWidth"] <= where["width"]  # no sideways scrolling
    if viewport == "mobile":
        assert where["header"] < 60


def test_the_header_stays_on_screen_when_scrolling(page, live_app, sandbox):
    open_order(page, live_app.base_url, 4103, "mobile")

    page.mouse.wheel(0, 2000)
    wait_js(page, "scrollY > 500")

    assert page.locator(".topbar").bounding_box()["y"] == 0
    assert page.locator("#lookup-order-id").is_visible()


def test_the_phone_menu_folds_the_navigation(page, live_app, sandbox):
    open_order(page, live_app.base_url, 4103, "mobile")
    toggle = page.locator("[data-menu-toggle]")

    assert not page.locator("#main-nav").is_visible()
    toggle.click()
    assert page.locator("#main-nav").get_by_role("button", name="Log out").is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert not page.locator("#main-nav").is_visible()


def test_on_a_phone_the_language_is_chosen_from_the_menu_by_keyboard(page, live_app, sandbox):
    """The switcher folds into "Menu" (a one-line header) and still works without a mouse. Its own
    user: the choice is saved on the user, and the other tests read the manager's pages in English."""
    live_app.manage(
        "create_staff_user", "pocket", "--role", "manager", "--all-venues", extra_env={"STAFF_PASSWORD": PASSWORD}
    )
    page.set_viewport_size({"width": VIEWPORTS["mobile"][0], "height": VIEWPORTS["mobile"][1]})
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4103/")
    log_in(page, live_app.base_url, "pocket")
    page.wait_for_url(f"{live_app.base_url}/orders/4103/")

    assert not page.locator("#language-select").is_visible()
    page.locator("[data-menu-toggle]").focus()
    page.keyboard.press("Enter")
    select = page.locator("#main-nav #language-select")
    assert select.is_visible()
    select.focus()
    select.select_option("az")  # what arrow keys do on a focused select, without the native popup
    page.keyboard.press("Tab")  # to the switcher's button
    assert page.evaluate("document.activeElement.textContent.trim()") == "Switch"
    page.keyboard.press("Enter")
    # The switch posts and reloads the page: a locator assertion survives the navigation.
    expect(page.locator("html")).to_have_attribute("lang", "az", timeout=10_000)

    assert page.locator("h1").inner_text() == "Sifariş 4103"
    assert page.locator(".topbar").bounding_box()["height"] < 60


def test_narrow_tables_become_label_and_value_rows(page, live_app, sandbox):
    open_order(page, live_app.base_url, 4103, "mobile")

    cell = page.locator("#items tbody td").first
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label.strip('"') == "Qty"
    assert page.locator("#items thead").bounding_box()["height"] <= 1


def test_printing_hides_the_console_chrome(page, live_app, sandbox):
    open_order(page, live_app.base_url, 4103, "desktop")

    page.emulate_media(media="print")

    for chrome in (".topbar", "#main-nav", ".lookup", "form.reveal", ".print-links"):
        assert not page.locator(chrome).first.is_visible(), chrome
    assert page.locator("#summary-total").is_visible()


@pytest.mark.parametrize(("paper", "width_mm"), [("80mm", 80), ("a4", 210)])
def test_the_receipt_copy_prints_on_its_paper(page, live_app, sandbox, paper, width_mm):
    query = "" if paper == "80mm" else "?paper=a4"
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4103/receipt/print/{query}")
    log_in(page, live_app.base_url, "manager")
    page.wait_for_url(f"**/orders/4103/receipt/print/{query}")

    pdf = page.pdf(prefer_css_page_size=True, print_background=True)

    # The page box comes from the @page rule of the chosen paper (PDF points: 1 mm = 2.835 pt).
    import re

    width_pt = float(re.search(rb"/MediaBox \[0 0 ([\d.]+) [\d.]+\]", pdf).group(1))
    assert abs(width_pt / 2.8346 - width_mm) < 1.5
    page.emulate_media(media="print")
    assert not page.locator(".print-toolbar").is_visible()
    assert not page.locator(".topbar").is_visible()
    assert "Copy — not a fiscal receipt" in page.locator(".receipt-copy").inner_text()
