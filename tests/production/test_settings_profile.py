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
        "django.core.cache.backends.redis.RedisCache",
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
