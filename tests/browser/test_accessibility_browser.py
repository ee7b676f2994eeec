"""axe-core (WCAG 2.1 A and AA rules) on every page of the console, in a real Chromium, at desktop
and phone width, in the light and the dark colour scheme: no violation anywhere.

axe ships inside `axe-playwright-python` (axe.min.js), injected through DevTools, so the page's
CSP does not apply to it. Each page is checked once it has settled (the order page with its
receipt swapped in). The users log in once per session; each case opens a fresh context with
their cookies, the viewport and the colour scheme.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 390, "height": 844}}
SCHEMES = ("light", "dark")


def _settle_receipt(page):
    page.locator("#receipt[data-loaded]").wait_for(timeout=10_000)


def _open_admin_change_form(page, base_url):
    page.goto(f"{base_url}/admin/auth/user/?q=support1")
    page.get_by_role("link", name="support1", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/auth/user/\d+/change/"))


# page -> (user, path or opener, settle)
PAGES = {
    "login": (None, "/accounts/login/", None),
    "orders-list": ("manager", "/orders/", lambda page: page.locator("#results").wait_for()),
    "order-page": ("manager", "/orders/4103/", _settle_receipt),
    "order-page-support": ("support", "/orders/4103/", _settle_receipt),
    "receipt-page": ("manager", "/orders/4103/receipt/", None),
    "lookup": ("manager", "/", None),
    "audit-log": ("manager", "/audit/", None),
    "status-panel": ("manager", "/status/", None),
    "no-access": ("no-venue", "/orders/", None),
    "403": ("support", "/audit/", None),
    "404": ("manager", "/no/such/page/", None),
    "admin-index": ("admin", "/admin/", None),
    "admin-change-form": ("admin", _open_admin_change_form, None),
    "print-80mm": ("manager", "/orders/4103/receipt/print/", None),
    "print-a4": ("manager", "/orders/4103/receipt/print/?paper=a4", None),
}

CASES = [(name, width, scheme) for name in PAGES for width in VIEWPORTS for scheme in SCHEMES]


@pytest.fixture(scope="session")
def signed_in(chromium, live_app):
    """Storage state (cookies) of each user, logged in once through the login form."""
    states = {}

    def state_for(username):
        if username not in states:
            context = chromium.new_context()
            page = context.new_page()
            page.goto(f"{live_app.base_url}/accounts/login/")
            log_in(page, live_app.base_url, username)
            page.wait_for_load_state()
            states[username] = context.storage_state()
            context.close()
        return states[username]

    return state_for


def violations_of(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options=WCAG_AA).response["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {len(v['nodes'])}× {v['nodes'][0]['target']} "
        f"{v['nodes'][0]['failureSummary'][:200]}"
        for v in violations
    )


@pytest.mark.parametrize(("name", "width", "scheme"), CASES, ids=[f"{n}-{w}-{s}" for n, w, s in CASES])
def test_no_axe_violations(chromium, live_app, sandbox, signed_in, name, width, scheme):
    username, where, settle = PAGES[name]
    context = chromium.new_context(
        viewport=VIEWPORTS[width],
        color_scheme=scheme,
        storage_state=signed_in(username) if username else None,
    )
    try:
        page = context.new_page()
        if callable(where):
            where(page, live_app.base_url)
        else:
            page.goto(f"{live_app.base_url}{where}")
        if settle:
            settle(page)
        page.wait_for_load_state("networkidle")
        violations = violations_of(page)
        assert violations == [], f"{name} at {width}, {scheme}:\n{describe(violations)}"
    finally:
        context.close()
