"""Test settings: the project's settings in demo mode, with no route to any real Clopos.

Unit and view tests use `responses` against CLOPOS_BASE_URL below; integration tests point the
app at the sandbox on 127.0.0.1. Setting DATABASE_URL and REDIS_URL runs the same suite on the
production profile (PostgreSQL + Redis).
"""

import os

os.environ.setdefault("CLOPOS_DEMO", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")

from clopos_admin.settings import *  # noqa: E402,F403

# A loopback address nothing listens on: a test that forgets to mock fails fast, offline.
CLOPOS_BASE_URL = "http://127.0.0.1:9/open-api"
CLOPOS_CONNECT_TIMEOUT = 0.5
CLOPOS_READ_TIMEOUT = 1.0
CLOPOS_RETRY_BACKOFF = 0.0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests render templates without running collectstatic first.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves from the finders in tests; there is no collected STATIC_ROOT to scan.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Unit tests read audit rows right after a request: straight to the audit table, on either
# profile (tests/audit/test_journal.py exercises the journal itself).
AUDIT_JOURNAL_DIR = ""
