"""The README's screenshots, taken the way the browser tests run the app.

    python -m tests.browser.screenshots [docs/screenshots]    (make screenshots)

Starts the sandbox on the real clock (its living dataset always has a "today"), the app under
gunicorn (tests.live.LiveApp, the embedded profile), logs in as a manager through the login form
in Debian's Chromium and saves each picture of SHOTS: today's orders list, and the order page at
desktop width, at phone width, in the dark scheme and in Azerbaijani.

Languages: a shot may name a `locale` (sent as the browser's Accept-Language, which decides for a
user who has not chosen a language): the order page in Azerbaijani.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import start_sandbox  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in  # noqa: E402
from tests.live import LiveApp  # noqa: E402

DEFAULT_OUTPUT = ROOT / "docs" / "screenshots"


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    width: int
    height: int
    scheme: str = "light"
    locale: str = "en-GB"


SHOTS = [
    Shot("orders-list.png", "/orders/", 1280, 1100),
    Shot("order-page-desktop.png", "/orders/4103/", 1280, 900),
    Shot("order-page-mobile.png", "/orders/4103/", 390, 844),
    Shot("order-page-dark.png", "/orders/4103/", 1280, 900, scheme="dark"),
    Shot("order-page-az.png", "/orders/4103/", 1280, 900, locale="az"),
]


def take(browser, app: LiveApp, shot: Shot, output: Path) -> None:
    context = browser.new_context(
        viewport={"width": shot.width, "height": shot.height},
        device_scale_factor=1,
        color_scheme=shot.scheme,
        locale=shot.locale,
    )
    page = context.new_page()
    page.goto(f"{app.base_url}/accounts/login/?next={shot.path}")
    log_in(page, app.base_url, "manager")
    page.wait_for_url(f"{app.base_url}{shot.path}")
    if shot.path == "/orders/":
        page.locator("[data-order-row]").first.wait_for()
        page.keyboard.press("j")  # show the keyboard selection on the first row
        page.keyboard.press("j")
    else:
        page.locator("#receipt[data-loaded]").wait_for()
    page.screenshot(path=str(output / shot.name), full_page=False)
    context.close()
    print(f"saved {output / shot.name}")


def main(output: Path = DEFAULT_OUTPUT) -> None:
    from playwright.sync_api import sync_playwright

    sandbox = start_sandbox(port=0, auth_rate_limit=10_000)
    tmp = Path(tempfile.mkdtemp(prefix="screenshot-"))
    app = LiveApp(sandbox_url=sandbox.base_url, tmp_dir=tmp, name="screenshot", workers=1)
    try:
        app.prepare()
        app.start()
        output.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for shot in SHOTS:
                take(browser, app, shot, output)
            browser.close()
    finally:
        app.stop()
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT)
