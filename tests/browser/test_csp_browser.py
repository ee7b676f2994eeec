"""htmx under the Content-Security-Policy, in a real browser: it works and nothing is blocked."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

# Playwright injects this through DevTools, so the page's CSP does not apply to it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.mark.parametrize("username", ["manager", "support", "admin"])
def test_htmx_works_under_the_csp_without_violations(page, live_app, sandbox, username):
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4105/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp

    log_in(page, live_app.base_url, username)
    page.wait_for_url(f"{live_app.base_url}/orders/4105/")
    page.locator("#receipt").get_by_text("Receipt id").wait_for(timeout=10_000)  # htmx swapped it in

    visited = ["/orders/4105/"]
    for path in (
        "/",
        "/orders/",
        "/orders/?day=bad",
        "/audit/",
        "/status/",
        "/orders/4105/receipt/",
        "/orders/abc/",
        "/orders/999999/",
    ):
        page.goto(f"{live_app.base_url}{path}")
        visited.append(path)
        assert page.evaluate("window.__cspViolations") == [], path

    if username == "manager":
        page.goto(f"{live_app.base_url}/orders/4105/")
        page.get_by_role("button", name="Refresh from Clopos").click()  # hx-post with the CSRF header
        page.locator("#order .order-header .freshness", has_text="live").wait_for(timeout=10_000)
        page.get_by_role("button", name="Reveal phone and address").click()
        page.locator("#customer", has_text="Revealed for you").wait_for(timeout=10_000)
        assert page.evaluate("window.__cspViolations") == []

    assert page.console_errors == [] or all("404" in e or "403" in e or "400" in e for e in page.console_errors)


def test_django_admin_works_under_the_csp(page, live_app, sandbox):
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_app.base_url}/accounts/login/?next=/admin/")
    log_in(page, live_app.base_url, "admin")
    page.wait_for_url(f"{live_app.base_url}/admin/")
    page.goto(f"{live_app.base_url}/admin/auth/user/")
    page.locator("#result_list").get_by_role("link", name="manager").click()
    page.wait_for_load_state()
    assert "Venue access" in page.content()
    assert page.evaluate("window.__cspViolations") == []
