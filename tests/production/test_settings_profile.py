"""The production profile: deploy checks, security headers, CSP and error pages."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client

from tests.live import ROOT

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "orders.example.az",
    "CLOPOS_CLIENT_ID": "client",
    "CLOPOS_CLIENT_SECRET": "secret",
    "CLOPOS_BRAND": "brand",
    "CLOPOS_INTEGRATOR_ID": "integrator",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOPOS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | {"DJANGO_SETTINGS_MODULE": "clopos_admin.settings"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_in_the_production_profile():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "CLOPOS_CLIENT_ID", "CLOPOS_CLIENT_SECRET", "CLOPOS_BRAND", "CLOPOS_INTEGRATOR_ID"]
)
def test_missing_setting_stops_start_up_naming_it(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]


def test_production_profile_turns_on_https_settings():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.CACHES['default']['BACKEND'], s.DATABASES['default']['ENGINE'], "
        "s.DATABASES['default']['CONN_HEALTH_CHECKS'])",
        env=PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "False",
        "True",
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "Lax",
        "clopos_admin.cache_backends.SharedRedisCache",
        "django.db.backends.postgresql",
        "True",
    ]


@pytest.mark.django_db
def test_every_page_carries_the_security_headers():
    response = Client().get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style(admin_client):
    for client, url in ((Client(), "/accounts/login/"), (admin_client, "/")):
        html = client.get(url).content.decode()
        assert "<style" not in html
        assert " style=" not in html
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">", 1)[0], f"inline script in {url}"
        assert "hx-on" not in html


DEMO_ENV = {"CLOPOS_DEMO": "1", "DJANGO_HTTPS": "1"}


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "orders.example.az"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "127.0.0.1,orders.example.az"}, "DJANGO_ALLOWED_HOSTS"),
        ({"CLOPOS_CLIENT_ID": "real-client", "CLOPOS_CLIENT_SECRET": "real-secret"}, "CLOPOS_CLIENT_ID"),
        ({"CLOPOS_BASE_URL": "https://integrations.clopos.com/open-api"}, "CLOPOS_BASE_URL"),
    ],
)
def test_demo_mode_refuses_to_face_a_network_or_real_clopos(extra, named):
    """The issue's attack: CLOPOS_DEMO=1 DJANGO_HTTPS=1 DJANGO_ALLOWED_HOSTS=orders.example.az
    check --deploy used to report no issues, running on the public demo key."""
    result = manage("check", "--deploy", env=DEMO_ENV | extra)

    assert result.returncode != 0
    assert named in result.stderr
    assert "CLOPOS_DEMO=1" in result.stderr


def test_check_deploy_flags_the_demo_key_and_demo_mode():
    result = manage("check", "--deploy", "--fail-level", "ERROR", env=DEMO_ENV)

    assert result.returncode != 0
    assert "console.E001" in result.stderr + result.stdout
    assert "console.E002" in result.stderr + result.stdout


def test_check_deploy_flags_the_demo_key_outside_demo_mode():
    from django.conf import settings

    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "ERROR",
        env=PRODUCTION_ENV | {"DJANGO_SECRET_KEY": settings.DEMO_SECRET_KEY},
    )

    assert result.returncode != 0
    assert "console.E001" in result.stderr + result.stdout


def test_the_old_proxy_count_setting_is_refused_rather_than_ignored():
    result = manage("check", env=PRODUCTION_ENV | {"DJANGO_PROXY_COUNT": "1"})

    assert result.returncode != 0
    assert "DJANGO_TRUSTED_PROXIES" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_like_get(path):
    client = Client()

    get, head = client.get(path), client.head(path)

    assert get.status_code == head.status_code == 200
    assert head.content == b""


@pytest.mark.django_db
def test_anonymous_readyz_says_only_ready(admin_client):
    anonymous = Client().get("/readyz").json()
    operator = admin_client.get("/readyz").json()

    assert anonymous == {"status": "ready"}
    assert operator["status"] == "ready"
    assert {"database", "cache", "clopos_token", "clopos_circuit"} <= set(operator)


@pytest.mark.django_db
def test_healthz_touches_no_session_cache_or_database(admin_client, django_assert_num_queries):
    from unittest import mock

    with (
        mock.patch("staff.sessions.SessionStore.load", side_effect=AssertionError),
        django_assert_num_queries(0),
    ):
        response = admin_client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_permission_denied_pages_are_never_stored(client_for):
    response = client_for("support").get("/status/")

    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]
