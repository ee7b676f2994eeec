"""Clopos Admin settings: the one module that reads the environment.

Every variable is listed with its default in `.env.example` and the README. Two profiles come
from the same code:

* the embedded default (`make run`, tests): SQLite, a database-backed cache that every gunicorn
  worker shares, and the project's Clopos sandbox (`CLOPOS_DEMO=1`);
* production: `DATABASE_URL` (PostgreSQL), `REDIS_URL` (cache), real Clopos credentials.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_time(name: str, default: str) -> str:
    """A time of day as HH:MM (00:00 to 23:59), checked at start-up."""
    value = env_str(name, default)
    hours, sep, minutes = value.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) in (1, 2)):
        raise ImproperlyConfigured(f"{name} must be a time of day as HH:MM, got {value!r}")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ImproperlyConfigured(f"{name} must be a time of day between 00:00 and 23:59, got {value!r}")
    return f"{int(hours):02d}:{minutes}"


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
# Demo mode: the shipped sandbox stands in for Clopos and demo credentials are allowed.
CLOPOS_DEMO = env_bool("CLOPOS_DEMO", False)

# Public, in this repository: only demo mode (local hosts, the sandbox) may run on it.
DEMO_SECRET_KEY = "demo-only-insecure-key-never-use-in-production-0123456789abcdef"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or CLOPOS_DEMO):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set (required outside demo mode).")
    SECRET_KEY = DEMO_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
if CLOPOS_DEMO:
    # Demo mode runs on a public secret key and the sandbox's credentials: it must never face a
    # network or reach the real Clopos. `check --deploy` flags it too (console/checks.py).
    _public = sorted(set(ALLOWED_HOSTS) - LOCAL_HOSTS)
    if _public:
        raise ImproperlyConfigured(f"CLOPOS_DEMO=1 serves only local hosts; DJANGO_ALLOWED_HOSTS has {_public}.")
    if env_str("CLOPOS_CLIENT_SECRET") or env_str("CLOPOS_CLIENT_ID"):
        raise ImproperlyConfigured("CLOPOS_DEMO=1 uses the sandbox's credentials: unset CLOPOS_CLIENT_ID/SECRET.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Served over HTTPS (production): secure cookies, HSTS and the HTTP→HTTPS redirect. Off by
# default only for the embedded demo and DEBUG, which run on plain http://127.0.0.1.
DJANGO_HTTPS = env_bool("DJANGO_HTTPS", not (DEBUG or CLOPOS_DEMO))

INSTALLED_APPS = [
    "clopos_admin.apps.ConsoleAdminConfig",  # django.contrib.admin, branded as the console
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    # Ours, lowest layer first (see the README's architecture section). staff stays last: its
    # post_migrate handler builds the role groups once every app's permissions exist.
    "console",
    "audit",
    "orders",
    "staff",
]

MIDDLEWARE = [
    "console.middleware.LivenessMiddleware",
    "console.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language before login: cookie, then Accept-Language, then LANGUAGE_CODE (no URL prefixes).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After login: the user's own language (StaffProfile.language), when they chose one.
    "console.middleware.UserLanguageMiddleware",
    # Deny by default: every view needs a login unless it opts out explicitly.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.IdleSessionTimeoutMiddleware",
    "console.middleware.HtmxLoginRedirectMiddleware",
    # Last, as django-axes requires: it turns locked-out login attempts into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clopos_admin.urls"
WSGI_APPLICATION = "clopos_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # No csp context processor: the policy below allows no inline code, so no page
                # needs a nonce, and a per-response nonce would be stale in a kept page
                # (console/fragments.py). django-htmx's script tag adds one only when given.
                "console.context_processors.console",
            ],
        },
    },
]

# --- Security headers -----------------------------------------------------------------------

# No inline script or style anywhere, no eval: htmx is configured by a <meta> tag accordingly.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "fullscreen",
        "display-capture",
    )
}
CSRF_FAILURE_VIEW = "clopos_admin.views.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page (hx-headers), not the cookie
if DJANGO_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    # Behind a TLS-terminating proxy, trust its X-Forwarded-Proto (set DJANGO_PROXY_SSL_HEADER=0 if none).
    if env_bool("DJANGO_PROXY_SSL_HEADER", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # The directive alone preloads nothing: the domain owner must still submit it to the list.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load-balancer probes speak plain HTTP

# --- Database ---------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes every atomic block take SQLite's write lock up front, which is what
        # makes the shared database cache's add()/incr() atomic across gunicorn workers.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No request waits on a lock or a statement until the worker is killed: it gets an error
    # (our 503 page) after these. 0 turns either off (e.g. for a long data migration).
    DATABASES["default"]["OPTIONS"] = {
        "options": (
            f"-c statement_timeout={env_int('DJANGO_DB_STATEMENT_TIMEOUT_MS', 15000)}"
            f" -c lock_timeout={env_int('DJANGO_DB_LOCK_TIMEOUT_MS', 5000)}"
        )
    }


# --- Cache ------------------------------------------------------------------------------------
# The Clopos token, single-flight locks, the rate budget and cached responses must be visible to
# every worker process, so the served app never uses LocMemCache.

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "clopos_admin.cache_backends.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("DJANGO_CACHE_PREFIX", "clopos-admin"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "clopos_admin.cache_backends.SharedDatabaseCache",
            "LOCATION": "clopos_admin_cache",
            "KEY_PREFIX": env_str("DJANGO_CACHE_PREFIX", "clopos-admin"),
            "OPTIONS": {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 4},
        }
    }

# cached_db sessions, read in one round trip with the user they hold (staff/sessions.py).
SESSION_ENGINE = "staff.sessions"

# --- Auth -------------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "staff.backends.StaffModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:order-list"
LOGOUT_REDIRECT_URL = "login"

# Django's PBKDF2, computed at low CPU priority so a login flood cannot slow pages
# (staff/hashers.py). It replaces Django's own pbkdf2_sha256 hasher rather than joining it: Django
# verifies with the last hasher listed for an algorithm. The rest are Django's defaults.
PASSWORD_HASHERS = [
    "staff.hashers.LowPriorityPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Idle timeout: a session ends this many seconds after the last request (renewed once a minute).
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Login lockout (django-axes): this many failures for one username from one IP locks them out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_MINUTES", 15) / 60  # hours, as axes expects
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Reverse proxies whose X-Forwarded-For we believe (addresses or CIDR networks). A request from
# any other address is its own client, whatever headers it sends: an app port reached directly
# cannot forge its IP. The same function gives axes, the login throttle and the audit log the
# client address.
DJANGO_TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES")
if env_str("DJANGO_PROXY_COUNT"):
    raise ImproperlyConfigured("DJANGO_PROXY_COUNT is replaced by DJANGO_TRUSTED_PROXIES (the proxies' addresses).")
AXES_CLIENT_IP_CALLABLE = "console.net.client_ip"

# A reveal of personal data is audited before it is shown; if the row cannot be written within
# this time (a locked table), the reveal is refused.
AUDIT_WRITE_TIMEOUT_MS = env_int("AUDIT_WRITE_TIMEOUT_MS", 2000)
# Login attempts (POSTs) one client address may make, before any password is checked
# (django-ratelimit's format: count/period). django-ratelimit is used as a library only, on our
# shared cache, whose incr() is atomic (Redis INCRBY, or SharedDatabaseCache's transaction).
LOGIN_RATE_PER_IP = env_str("LOGIN_RATE_PER_IP", "20/m")
RATELIMIT_IP_META_KEY = "console.net.client_ip"
# Where this instance's audit journals live (audit/journal.py, a file per worker process): a
# local directory that survives a restart. On both profiles: on the embedded one, a row written
# straight to the audit table waits for SQLite's one write lock behind every cache write (a login
# flood's throttle counters pushed a cached page's p99 to ~450 ms, issue 9); a journal is a file
# of its own. Empty: rows go straight to the audit table.
AUDIT_JOURNAL_DIR = env_str("AUDIT_JOURNAL_DIR", str(BASE_DIR / "var"))
AUDIT_JOURNAL_DRAIN_SECONDS = env_float("AUDIT_JOURNAL_DRAIN_SECONDS", 0.5)
# Audit log retention (prune with `manage.py prune_audit_log`).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 180)

# --- Languages, formats and time --------------------------------------------------------------

# The console's languages, each named in its own language (the switcher shows them so). Every
# user-facing string is in locale/<code>/LC_MESSAGES/django.po; the admin site's own strings come
# from Django's catalogues. No URL prefixes: a shared order link opens in each reader's language.
LANGUAGES = [("az", "Azərbaycanca"), ("ru", "Русский"), ("en", "English")]
# Before login (and for a user with no preference), Django's LocaleMiddleware picks the language
# from the language cookie, then the browser's Accept-Language, then this default.
LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in {code for code, _ in LANGUAGES}:
    raise ImproperlyConfigured(
        f"DJANGO_LANGUAGE_CODE must be one of {', '.join(code for code, _ in LANGUAGES)}, got {LANGUAGE_CODE!r}"
    )
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date and time formats for English (24-hour clock, day before month: "27 Nov 2026, 14:02"),
# in clopos_admin/formats/en/; az and ru use Django's ("27 noyabr 2026, 14:02", "27 ноября 2026 г. 14:02").
FORMAT_MODULE_PATH = ["clopos_admin.formats"]
# The language switcher remembers the choice in this cookie too (for the login page after a logout).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = DJANGO_HTTPS
# The language of what Clopos sends (names, comments, addresses): marked with lang="…" in pages,
# so a screen reader does not read Azerbaijani with Russian or English rules.
CLOPOS_DATA_LANGUAGE = env_str("CLOPOS_DATA_LANGUAGE", "az")
if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*", CLOPOS_DATA_LANGUAGE):
    raise ImproperlyConfigured(f"CLOPOS_DATA_LANGUAGE must be a language tag such as az, got {CLOPOS_DATA_LANGUAGE!r}")
USE_TZ = True
# Clopos sends naive local timestamps on receipts; they are read and shown in the venue zone.
CLOPOS_TIME_ZONE = env_str("CLOPOS_TIME_ZONE", "Asia/Baku")
TIME_ZONE = CLOPOS_TIME_ZONE

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names + gzip/brotli variants, served by WhiteNoise with far-future cache headers.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Clopos -----------------------------------------------------------------------------------

CLOPOS_BASE_URL = env_str(
    "CLOPOS_BASE_URL", "http://127.0.0.1:8100/open-api" if CLOPOS_DEMO else "https://integrations.clopos.com/open-api"
).rstrip("/")
if CLOPOS_DEMO and (urlsplit(CLOPOS_BASE_URL).hostname or "") not in LOCAL_HOSTS:
    raise ImproperlyConfigured("CLOPOS_DEMO=1 talks only to the local sandbox; CLOPOS_BASE_URL is not local.")
CLOPOS_CLIENT_ID = env_str("CLOPOS_CLIENT_ID")
CLOPOS_CLIENT_SECRET = env_str("CLOPOS_CLIENT_SECRET")
CLOPOS_BRAND = env_str("CLOPOS_BRAND")
CLOPOS_INTEGRATOR_ID = env_str("CLOPOS_INTEGRATOR_ID")
CLOPOS_VENUE_ID = env_str("CLOPOS_VENUE_ID")
CLOPOS_CURRENCY = env_str("CLOPOS_CURRENCY", "AZN")

if CLOPOS_DEMO:
    # The sandbox's own credentials; they open nothing but the sandbox.
    CLOPOS_CLIENT_ID = CLOPOS_CLIENT_ID or "sandbox-client"
    CLOPOS_CLIENT_SECRET = CLOPOS_CLIENT_SECRET or "sandbox-secret"
    CLOPOS_BRAND = CLOPOS_BRAND or "kohnesheher"
    CLOPOS_INTEGRATOR_ID = CLOPOS_INTEGRATOR_ID or "sandbox-integrator"
else:
    for _name in ("CLOPOS_CLIENT_ID", "CLOPOS_CLIENT_SECRET", "CLOPOS_BRAND", "CLOPOS_INTEGRATOR_ID"):
        if not globals()[_name]:
            raise ImproperlyConfigured(f"{_name} is not set. Set it in the environment, or set CLOPOS_DEMO=1.")

# Per-attempt timeouts (seconds). The read timeout also caps the whole body download, so a
# response that drips slowly cannot hold a worker longer than connect + read per attempt.
CLOPOS_CONNECT_TIMEOUT = env_float("CLOPOS_CONNECT_TIMEOUT", 2.0)
CLOPOS_READ_TIMEOUT = env_float("CLOPOS_READ_TIMEOUT", 5.0)
# Extra attempts for GETs on connection errors and 502/503/504 only.
CLOPOS_MAX_RETRIES = env_int("CLOPOS_MAX_RETRIES", 1)
CLOPOS_RETRY_BACKOFF = env_float("CLOPOS_RETRY_BACKOFF", 0.25)
# Renew the shared token this many seconds before its expires_at.
CLOPOS_TOKEN_RENEW_MARGIN = env_int("CLOPOS_TOKEN_RENEW_MARGIN", 300)

# Freshness by state (seconds). Fresh age: served as is. Stale age: served at once while one
# worker refreshes it in the background. Beyond that the request waits for Clopos.
CLOPOS_TTL_ORDER_ACTIVE = env_int("CLOPOS_TTL_ORDER_ACTIVE", 15)  # PENDING, RECEIVED
CLOPOS_STALE_ORDER_ACTIVE = env_int("CLOPOS_STALE_ORDER_ACTIVE", 120)
CLOPOS_TTL_ORDER_FINAL = env_int("CLOPOS_TTL_ORDER_FINAL", 600)  # DELIVERED, IGNORE
CLOPOS_STALE_ORDER_FINAL = env_int("CLOPOS_STALE_ORDER_FINAL", 86400)
CLOPOS_TTL_RECEIPT_OPEN = env_int("CLOPOS_TTL_RECEIPT_OPEN", 15)
CLOPOS_STALE_RECEIPT_OPEN = env_int("CLOPOS_STALE_RECEIPT_OPEN", 120)
CLOPOS_TTL_RECEIPT_CLOSED = env_int("CLOPOS_TTL_RECEIPT_CLOSED", 3600)
CLOPOS_STALE_RECEIPT_CLOSED = env_int("CLOPOS_STALE_RECEIPT_CLOSED", 86400)
CLOPOS_TTL_CATALOGUE = env_int("CLOPOS_TTL_CATALOGUE", 3600)  # venues, sale types, products
CLOPOS_STALE_CATALOGUE = env_int("CLOPOS_STALE_CATALOGUE", 86400)
# "This order is unknown or outside your venues" is remembered this long per order and venue
# scope, so probing ids answers from the cache either way (a refresh forgets it).
CLOPOS_TTL_NOT_FOUND = env_int("CLOPOS_TTL_NOT_FOUND", 120)
# A page of the orders list: "today" is a list whose business-day window contains now.
CLOPOS_TTL_LIST_TODAY = env_int("CLOPOS_TTL_LIST_TODAY", 30)
CLOPOS_STALE_LIST_TODAY = env_int("CLOPOS_STALE_LIST_TODAY", 120)
CLOPOS_TTL_LIST_PAST = env_int("CLOPOS_TTL_LIST_PAST", 600)
CLOPOS_STALE_LIST_PAST = env_int("CLOPOS_STALE_LIST_PAST", 86400)
# A previous good copy is kept this much longer, to be shown (with a banner) when Clopos fails.
CLOPOS_STALE_IF_ERROR_SECONDS = env_int("CLOPOS_STALE_IF_ERROR_SECONDS", 86400)

# Our share of the brand's 300 requests/min, for all workers and instances together.
CLOPOS_RATE_BUDGET_PER_MINUTE = env_int("CLOPOS_RATE_BUDGET_PER_MINUTE", 240)
# Of each budget window, this share is kept for managers' "Refresh from Clopos"; best-effort calls
# (catalogue names, background refreshes) leave twice as much.
CLOPOS_RATE_RESERVE_PERCENT = env_int("CLOPOS_RATE_RESERVE_PERCENT", 20)
# One user may cause at most this many requests that need Clopos (cached pages are free): per
# 10-second window and per minute. Over it, that user alone gets 429 with Retry-After.
CLOPOS_USER_BUDGET_PER_WINDOW = env_int("CLOPOS_USER_BUDGET_PER_WINDOW", 6)
CLOPOS_USER_BUDGET_PER_MINUTE = env_int("CLOPOS_USER_BUDGET_PER_MINUTE", 20)
# Per process, at most this many request threads wait on Clopos at once (half of gunicorn's
# threads by default); a request finding none free within the wait gives up ("Clopos is busy").
CLOPOS_UPSTREAM_CONCURRENCY = env_int("CLOPOS_UPSTREAM_CONCURRENCY", max(1, env_int("GUNICORN_THREADS", 8) // 2))
CLOPOS_UPSTREAM_SLOT_WAIT = env_float("CLOPOS_UPSTREAM_SLOT_WAIT", 1.0)
# Circuit breaker: this many consecutive failures stop all calls for CLOPOS_CIRCUIT_OPEN_SECONDS.
CLOPOS_CIRCUIT_FAILURES = env_int("CLOPOS_CIRCUIT_FAILURES", 5)
CLOPOS_CIRCUIT_OPEN_SECONDS = env_int("CLOPOS_CIRCUIT_OPEN_SECONDS", 30)
# No new Clopos call (or wait for another worker's call) starts this long into a request.
CLOPOS_REQUEST_BUDGET_SECONDS = env_float("CLOPOS_REQUEST_BUDGET_SECONDS", 10.0)

# --- Orders list --------------------------------------------------------------------------------

# Start of the business day (Clopos' "cash register opening time", which its API does not expose),
# in the venue's zone; a venue may override it in the admin site (orders.VenueSettings).
CLOPOS_BUSINESS_DAY_START = env_time("CLOPOS_BUSINESS_DAY_START", "06:00")
# A PENDING order older than this is marked overdue (list and order page); a RECEIVED one older
# than the second (accepted, but not delivered in time).
CLOPOS_OVERDUE_MINUTES = env_int("CLOPOS_OVERDUE_MINUTES", 30)
CLOPOS_OVERDUE_RECEIVED_MINUTES = env_int("CLOPOS_OVERDUE_RECEIVED_MINUTES", 120)
# Orders per list page asked of Clopos (its `limit`, 1 to 100).
CLOPOS_LIST_PAGE_SIZE = env_int("CLOPOS_LIST_PAGE_SIZE", 50)
if not 1 <= CLOPOS_LIST_PAGE_SIZE <= 100:
    raise ImproperlyConfigured(f"CLOPOS_LIST_PAGE_SIZE must be from 1 to 100, got {CLOPOS_LIST_PAGE_SIZE}")
if CLOPOS_OVERDUE_MINUTES < 1:
    raise ImproperlyConfigured(f"CLOPOS_OVERDUE_MINUTES must be at least 1, got {CLOPOS_OVERDUE_MINUTES}")
if CLOPOS_OVERDUE_RECEIVED_MINUTES < 1:
    raise ImproperlyConfigured(
        f"CLOPOS_OVERDUE_RECEIVED_MINUTES must be at least 1, got {CLOPOS_OVERDUE_RECEIVED_MINUTES}"
    )

# --- Receipts, customers, export -----------------------------------------------------------------

# Receipts per page of the receipts list asked of Clopos (its `limit`, 1 to 200).
CLOPOS_RECEIPT_PAGE_SIZE = env_int("CLOPOS_RECEIPT_PAGE_SIZE", 100)
if not 1 <= CLOPOS_RECEIPT_PAGE_SIZE <= 200:
    raise ImproperlyConfigured(f"CLOPOS_RECEIPT_PAGE_SIZE must be from 1 to 200, got {CLOPOS_RECEIPT_PAGE_SIZE}")
# A customer record and a search's results (fresh / stale ages, seconds).
CLOPOS_TTL_CUSTOMER = env_int("CLOPOS_TTL_CUSTOMER", 300)
CLOPOS_STALE_CUSTOMER = env_int("CLOPOS_STALE_CUSTOMER", 3600)
# A customer search shows at most this many customers (one Clopos page), then "narrow the search".
CLOPOS_CUSTOMER_SEARCH_RESULTS = env_int("CLOPOS_CUSTOMER_SEARCH_RESULTS", 20)
if not 1 <= CLOPOS_CUSTOMER_SEARCH_RESULTS <= 100:
    raise ImproperlyConfigured("CLOPOS_CUSTOMER_SEARCH_RESULTS must be from 1 to 100")
# Customer searches one user may make (django-ratelimit's count/period), whatever the cache holds.
CUSTOMER_SEARCH_RATE_PER_USER = env_str("CUSTOMER_SEARCH_RATE_PER_USER", "20/m")
# A customer's page: their receipts and orders of the last N days (default, and at most), and at
# most this many list pages of each fetched.
CLOPOS_CUSTOMER_HISTORY_DAYS = env_int("CLOPOS_CUSTOMER_HISTORY_DAYS", 30)
CLOPOS_CUSTOMER_HISTORY_MAX_DAYS = env_int("CLOPOS_CUSTOMER_HISTORY_MAX_DAYS", 90)
CLOPOS_CUSTOMER_HISTORY_MAX_PAGES = env_int("CLOPOS_CUSTOMER_HISTORY_MAX_PAGES", 2)
if not 1 <= CLOPOS_CUSTOMER_HISTORY_DAYS <= CLOPOS_CUSTOMER_HISTORY_MAX_DAYS:
    raise ImproperlyConfigured("CLOPOS_CUSTOMER_HISTORY_DAYS must be from 1 to CLOPOS_CUSTOMER_HISTORY_MAX_DAYS")
if CLOPOS_CUSTOMER_HISTORY_MAX_PAGES < 1:
    raise ImproperlyConfigured("CLOPOS_CUSTOMER_HISTORY_MAX_PAGES must be at least 1")
# An export (CSV, XLSX) holds at most this many rows; a list whose Clopos total is larger is refused.
CLOPOS_EXPORT_MAX_ROWS = env_int("CLOPOS_EXPORT_MAX_ROWS", 10000)
# How long an export waits in all for the shared rate budget before it gives up on a page.
CLOPOS_EXPORT_BUDGET_WAIT_SECONDS = env_float("CLOPOS_EXPORT_BUDGET_WAIT_SECONDS", 30.0)

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
