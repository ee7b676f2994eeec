"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against LiveApp."""

from __future__ import annotations

import os

import pytest

from tests.integration.conftest import live_app, sandbox, sandbox_handle  # noqa: F401
from tests.live import PASSWORD, wait_until

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context per test; console errors and CSP violations are collected."""
    context = chromium.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type in ("error", "warning") and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Fill the login form the page is on and submit it."""
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")


def wait_js(page, expression: str, timeout: float = 10) -> None:
    """Poll a JavaScript expression from Python. Playwright's wait_for_function evaluates a string
    with eval() once its first check fails, which the page's CSP (no 'unsafe-eval') forbids."""
    wait_until(lambda: page.evaluate(expression), timeout=timeout, what=expression)
