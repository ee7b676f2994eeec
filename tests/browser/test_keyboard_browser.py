"""Every task of the order page by keyboard alone, in a real Chromium: log in, look up, open,
reveal, refresh, print, switch the colour scheme, log out; after each swap or page the focus is
where the next step starts, and what changed is announced (#announcer, aria-live)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import wait_js
from tests.live import PASSWORD

pytestmark = pytest.mark.browser


def active(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            tag: e.tagName, id: e.id, text: (e.innerText || e.value || '').trim(),
            name: e.getAttribute('name'), value: e.getAttribute('value'),
            inTopbar: !!e.closest('.topbar') }; }"""
    )


def tab_to(page, matches, *, key: str = "Tab", limit: int = 120) -> dict:
    """Press Tab (or Shift+Tab) until the focused element satisfies `matches`."""
    for _ in range(limit):
        page.keyboard.press(key)
        element = active(page)
        if matches(element):
            return element
    raise AssertionError(f"{key} never reached the element; last focus: {active(page)}")


def test_every_task_by_keyboard_with_the_focus_where_it_should_be(page, live_app, sandbox):
    base = live_app.base_url
    page.set_viewport_size({"width": 1280, "height": 800})

    # Log in: the username field has the focus.
    page.goto(f"{base}/accounts/login/?next=/orders/")
    assert active(page)["id"] == "id_username"
    page.keyboard.type("manager")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/orders/")

    # Look up: "/" focuses the lookup box.
    page.keyboard.press("/")
    assert active(page)["id"] == "lookup-order-id"
    page.keyboard.type("#4103")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/orders/4103/")
    page.locator("#receipt[data-loaded]").wait_for(timeout=10_000)
    # The receipt arrived: its paid state is in the summary, announced without taking the focus.
    assert "Paid" in page.locator("#paid-state").inner_text()
    assert "Kart 20.00 · Nağd 18.20" in page.locator("#payment-methods").inner_text()
    wait_js(page, "document.getElementById('announcer').textContent.includes('Paid')")

    # Reveal: the focus goes to the customer section, the change is announced.
    tab_to(page, lambda e: e["text"] == "Reveal phone and address")
    page.keyboard.press("Enter")
    page.locator("#customer a.phone").wait_for(timeout=10_000)
    wait_js(page, "document.activeElement.id === 'customer-title'")
    wait_js(page, "document.getElementById('announcer').textContent.includes('revealed')")
    phone = page.locator("#customer a.phone")
    assert phone.inner_text() == "+994 70 240 99 81"
    assert phone.get_attribute("href") == "tel:+994702409981"
    focused = tab_to(page, lambda e: e["tag"] == "A" and e["text"] == "+994 70 240 99 81", limit=3)
    assert focused["tag"] == "A"
    assert tab_to(page, lambda e: e["text"].startswith("Copy"), limit=2)

    # Refresh: confirmed, the focus on the order's heading, order and receipt equally fresh.
    tab_to(page, lambda e: e["text"] == "Refresh from Clopos", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.locator("#order .refreshed").wait_for(timeout=10_000)
    wait_js(page, "document.activeElement.id === 'order-title'")
    assert re.search(r"Refreshed at \d\d:\d\d", page.locator("#order .refreshed").inner_text())
    wait_js(page, "document.getElementById('announcer').textContent.includes('refreshed')")
    sources = page.locator("#order .freshness").evaluate_all("els => els.map(e => e.dataset.source)")
    assert sources == ["live", "live"], sources  # the order's and the receipt's

    # Print: the print view opens with the focus on its Print button.
    tab_to(page, lambda e: e["text"] == "Print a copy (80 mm)")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/orders/4103/receipt/print/")
    assert active(page)["id"] == "print-button"
    assert "Copy — not a fiscal receipt, printed by manager" in page.locator(".receipt-copy").inner_text()

    # Colour scheme: applied at once, the focus stays on the button, and it is kept by the server.
    tab_to(page, lambda e: e["name"] == "theme" and e["value"] == "dark", key="Shift+Tab")
    page.keyboard.press("Enter")
    wait_js(page, "document.documentElement.dataset.theme === 'dark'")
    assert active(page)["value"] == "dark"
    assert page.locator("button[name=theme][value=dark]").get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"

    # Log out: back on the login page, the focus in the username field.
    tab_to(page, lambda e: e["text"] == "Log out")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert active(page)["id"] == "id_username"
