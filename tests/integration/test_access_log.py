"""The access log stays available to operators, lean and without what users typed."""

from __future__ import annotations

import re

import pytest

from tests.live import LiveApp, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def logged(sandbox_handle, live_app, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accesslog")
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp,
        name="accesslog",
        workers=1,
        extra_env={"GUNICORN_ACCESSLOG": str(tmp / "access.log")},
    )
    app.prepare_like(live_app)
    app.start()
    yield app
    app.stop()


def test_each_request_is_one_line_without_its_query_string(logged, sandbox):
    session = logged.login("manager")
    session.get(f"{logged.base_url}/orders/4103/?list=q%3D0503332211", timeout=30)
    log = logged.tmp_dir / "access.log"

    lines = wait_until(lambda: [line for line in log.read_text().splitlines() if "/orders/4103/" in line], timeout=10)

    assert re.fullmatch(r'<\d+> 127\.0\.0\.1 \[[^]]+\] "GET /orders/4103/" 200 \d+ [\d.]+ms', lines[-1]), lines[-1]
    assert "0503332211" not in log.read_text()
