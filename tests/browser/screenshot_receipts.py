"""The README's screenshots of the receipts list and the customer search, taken the way the browser
tests run the app.

    python -m tests.browser.screenshot_receipts [docs/screenshots]    (make screenshots)

Starts the sandbox on the real clock (its living dataset always has a "today"), the app under
gunicorn (tests.live.LiveApp, the embedded profile), and in Debian's Chromium saves today's
receipts list as a manager sees it, and a customer search by phone as support staff see it
(phones masked).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import start_sandbox  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in  # noqa: E402
from tests.live import LiveApp  # noqa: E402

DEFAULT_FOLDER = ROOT / "docs" / "screenshots"


def main(folder: Path = DEFAULT_FOLDER) -> None:
    from playwright.sync_api import sync_playwright

    sandbox = start_sandbox(port=0, auth_rate_limit=10_000)
    tmp = Path(tempfile.mkdtemp(prefix="screenshot-"))
    app = LiveApp(sandbox_url=sandbox.base_url, tmp_dir=tmp, name="screenshot", workers=1)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        app.prepare()
        app.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1100}, device_scale_factor=1)
            page.goto(f"{app.base_url}/accounts/login/?next=/receipts/")
            log_in(page, app.base_url, "manager")
            page.wait_for_url(f"{app.base_url}/receipts/")
            page.locator("[data-receipt-row]").first.wait_for()
            page.screenshot(path=str(folder / "receipts-list.png"), full_page=False)
            page.context.clear_cookies()

            page.goto(f"{app.base_url}/accounts/login/?next=/customers/")
            log_in(page, app.base_url, "support")
            page.wait_for_url(f"{app.base_url}/customers/")
            page.locator("#id_q").fill("050 333 22 11")
            page.locator("#id_q").press("Enter")
            page.locator("[data-customer-row]").first.wait_for()
            page.set_viewport_size({"width": 1280, "height": 700})
            page.screenshot(path=str(folder / "customer-search.png"), full_page=False)
            browser.close()
    finally:
        app.stop()
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"saved {folder / 'receipts-list.png'} and {folder / 'customer-search.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER)
