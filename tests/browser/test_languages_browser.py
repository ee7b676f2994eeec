"""The console in Azerbaijani, Russian and English in a real browser (Debian's Chromium):
login, the orders list, the order page and error pages follow the browser's Accept-Language
before login; the header's switcher changes the language after it, for good (the user's
preference) and everywhere (any browser). No English is left on the az and ru pages: every
English source phrase of the catalogues is looked for (tests/i18n/english.py)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in
from tests.i18n.english import english_left
from tests.live import PASSWORD

pytestmark = pytest.mark.browser

NOW = "2026-11-27T14:00:00+04:00"
#: What each language calls a few things, and how it writes a sum.
WORDS = {
    "az": {
        "log_in": "Daxil ol",
        "orders": "Sifarişlər",
        "order": "Sifariş 4103",
        "total": "38,20 ₼",
        "missing": "tapılmadı",
    },
    "ru": {"log_in": "Войти", "orders": "Заказы", "order": "Заказ 4103", "total": "38,20 ₼", "missing": "не найден"},
    "en": {"log_in": "Log in", "orders": "Orders", "order": "Order 4103", "total": "38.20 AZN", "missing": "not found"},
}


@pytest.fixture
def pinned(sandbox):
    sandbox.config(now=NOW)
    return sandbox


def browser_in(chromium, language: str):
    """A fresh browser whose Accept-Language asks for `language` first."""
    context = chromium.new_context(locale={"az": "az-AZ", "ru": "ru-RU", "en": "en-GB"}[language])
    context.set_extra_http_headers({"Accept-Language": f"{language};q=1.0, de;q=0.5"})
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


def text(page, selector: str = "body") -> str:
    return " ".join(page.locator(selector).inner_text().replace("\xa0", " ").split())


def assert_in_language(page, language: str) -> None:
    assert page.locator("html").get_attribute("lang") == language
    if language != "en":
        assert english_left(page.content()) == [], page.url


def wait_for_receipt(page) -> None:
    page.locator("#receipt.receipt").wait_for(timeout=10_000)


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_login_list_order_and_errors_follow_the_browsers_language(chromium, live_app, pinned, language):
    words = WORDS[language]
    context, page = browser_in(chromium, language)
    try:
        # Login: the browser's language, before anyone is known.
        page.goto(f"{live_app.base_url}/orders/?day=2026-11-26")
        assert "/accounts/login/" in page.url
        assert page.locator("h1").inner_text() == words["log_in"]
        assert_in_language(page, language)

        # The orders list (26 Nov, a settled business day of the sandbox's living dataset).
        log_in(page, live_app.base_url, "manager")
        page.wait_for_url(re.compile(r"/orders/\?day=2026-11-26"))
        page.locator("[data-order-row]").first.wait_for()
        assert page.locator("h1").inner_text() == words["orders"]
        assert_in_language(page, language)
        assert page.locator('[data-order-row] span[lang="az"]').count() > 0  # venue and customer names

        # The order page, with its receipt loaded by htmx.
        page.goto(f"{live_app.base_url}/orders/4103/")
        wait_for_receipt(page)
        assert page.locator("h1").inner_text() == words["order"]
        assert words["total"] in text(page, "#receipt")
        assert page.locator('#customer span[lang="az"]', has_text="Nigar Əliyeva").count() == 1
        assert page.locator('#receipt span[lang="az"]', has_text="Nağd").count() == 1
        assert_in_language(page, language)

        # Errors: an unknown order and a page that does not exist.
        page.goto(f"{live_app.base_url}/orders/999999/")
        assert words["missing"] in page.locator("h1").inner_text()
        assert_in_language(page, language)
        response = page.goto(f"{live_app.base_url}/no-such-page/")
        assert response.status == 404
        assert_in_language(page, language)
        assert page.console_errors == []
    finally:
        context.close()


def test_the_switcher_changes_the_language_for_good(chromium, live_app, sandbox):
    live_app.manage(
        "create_staff_user", "polyglot", "--role", "manager", "--all-venues", extra_env={"STAFF_PASSWORD": PASSWORD}
    )
    english, page = browser_in(chromium, "en")
    russian = None
    try:
        page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4103/")
        log_in(page, live_app.base_url, "polyglot")
        page.wait_for_url(f"{live_app.base_url}/orders/4103/")
        wait_for_receipt(page)
        assert page.locator("h1").inner_text() == "Order 4103"

        # The switcher: a select and a button (a POST with the CSRF token), back to the same order.
        page.select_option("#language-select", "az")
        page.get_by_role("button", name="Switch").click()
        page.wait_for_url(f"{live_app.base_url}/orders/4103/")
        wait_for_receipt(page)
        assert page.locator("h1").inner_text() == "Sifariş 4103"
        assert page.locator("#language-select").input_value() == "az"
        assert_in_language(page, "az")

        # The choice is the user's: a browser asking for Russian still gets Azerbaijani.
        russian, other = browser_in(chromium, "ru")
        other.goto(f"{live_app.base_url}/accounts/login/")
        assert other.locator("h1").inner_text() == "Войти"  # before login, the browser decides
        log_in(other, live_app.base_url, "polyglot")
        other.wait_for_url(re.compile(r"/orders/"))
        assert_in_language(other, "az")

        # After logging out, this browser keeps the language it chose (the cookie).
        page.get_by_role("button", name="Çıxış").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))
        assert page.locator("h1").inner_text() == "Daxil ol"
        assert_in_language(page, "az")

        # And back to English, from the login page: before login only the cookie changes.
        page.select_option("#language-select", "en")
        page.get_by_role("button", name="Dəyiş").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))
        assert page.locator("h1").inner_text() == "Log in"
    finally:
        english.close()
        if russian is not None:
            russian.close()
