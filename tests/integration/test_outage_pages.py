"""The console's own error pages still render when the database and the cache are down."""

from __future__ import annotations

import pytest
import requests

from tests.live import LiveApp, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broken_app(sandbox_handle, tmp_path_factory):
    dead = free_port()  # nothing listens there
    app = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp_path_factory.mktemp("broken"),
        name="broken",
        workers=1,
        extra_env={
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead}/nothing",
            "REDIS_URL": f"redis://127.0.0.1:{dead}/0",
        },
    )
    app.manage("collectstatic", "--noinput", "-v0")  # needs neither the database nor the cache
    app.start()
    yield app
    app.stop()


@pytest.mark.parametrize("path", ["/", "/orders/4101/", "/orders/4101/receipt/", "/audit/", "/no-such-page/"])
def test_outage_gives_our_503_page(broken_app, path):
    # A signed-in user's session must be loaded from the cache/database that are down.
    response = requests.get(f"{broken_app.base_url}{path}", cookies={"sessionid": "x" * 32}, timeout=15)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.text
    assert "Clopos Admin" in response.text
    for leak in ("Traceback", "psycopg", "redis", "127.0.0.1", "OperationalError"):
        assert leak not in response.text


def test_login_form_still_renders_but_signing_in_gives_503(broken_app):
    session = requests.Session()
    page = session.get(f"{broken_app.base_url}/accounts/login/", timeout=15)
    assert page.status_code == 200  # the form needs neither the database nor the cache
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = session.post(
        f"{broken_app.base_url}/accounts/login/",
        data={"username": "manager", "password": "whatever-1234", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{broken_app.base_url}/accounts/login/"},
        timeout=15,
    )
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.text
    assert "Traceback" not in response.text


def test_static_files_and_liveness_survive_the_outage(broken_app):
    assert requests.get(f"{broken_app.base_url}/healthz", timeout=5).status_code == 200
    # A browser's or a probe's session cookie must not make liveness touch the dead session store.
    with_session = requests.get(f"{broken_app.base_url}/healthz", cookies={"sessionid": "a" * 32}, timeout=5)
    assert with_session.status_code == 200
    assert requests.head(f"{broken_app.base_url}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"{broken_app.base_url}/readyz", timeout=15)
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready"}
    page = requests.get(f"{broken_app.base_url}/accounts/login/", timeout=15)
    css_path = page.text.split('rel="stylesheet" href="')[1].split('"')[0]
    css = requests.get(f"{broken_app.base_url}{css_path}", timeout=5)
    assert css.status_code == 200
    assert "max-age=315360000" in css.headers["Cache-Control"]  # hashed name: cached for years
