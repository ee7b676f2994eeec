"""Clopos Admin settings: the one module that reads the environment.

Every variable is listed with its default in `.env.example` and the README. Two profiles come
from the same code:

* the embedded default (`make run`, tests): SQLite, a database-backed cache that every gunicorn
  worker shares, and the project's Clopos sandbox (`CLOPOS_DEMO=1`);
* production: `DATABASE_URL` (PostgreSQL), `REDIS_URL` (cache), real Clopos credentials.
"""

import os
from pathlib import Path

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


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
# Demo mode: the shipped sandbox stands in for Clopos and demo credentials are allowed.
CLOPOS_DEMO = env_bool("CLOPOS_DEMO", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or CLOPOS_DEMO):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set (required outside demo mode).")
    SECRET_KEY = "demo-only-insecure-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Served over HTTPS (production): secure cookies, HSTS and the HTTP→HTTPS redirect. Off by
# default only for the embedded demo and DEBUG, which run on plain http://127.0.0.1.
DJANGO_HTTPS = env_bool("DJANGO_HTTPS", not (DEBUG or CLOPOS_DEMO))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "orders",
    "staff",
]

MIDDLEWARE = [
    "orders.timing.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a login unless it opts out explicitly.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "staff.middleware.IdleSessionTimeoutMiddleware",
    "staff.middleware.HtmxLoginRedirectMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "orders.context_processors.console",
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
PERMISSIONS_POLICY = {
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------------
# The Clopos token, single-flight locks, the rate budget and cached responses must be visible to
# every worker process, so the served app never uses LocMemCache.

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("DJANGO_CACHE_PREFIX", "clopos-admin"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "orders.cache_backends.SharedDatabaseCache",
            "LOCATION": "clopos_admin_cache",
            "KEY_PREFIX": env_str("DJANGO_CACHE_PREFIX", "clopos-admin"),
            "OPTIONS": {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 4},
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth -------------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "staff.backends.StaffModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:order-lookup"
LOGOUT_REDIRECT_URL = "login"

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
# Trusted reverse proxies in front of the app (0: the socket address is the client). The same
# function gives axes and the audit log the client address.
DJANGO_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "staff.audit.client_ip"

# Audit log retention (prune with `manage.py prune_audit_log`).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 180)

# --- I18n and time ----------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
USE_I18N = True
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

CLOPOS_BASE_URL = env_str("CLOPOS_BASE_URL", "https://integrations.clopos.com/open-api").rstrip("/")
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
# A previous good copy is kept this much longer, to be shown (with a banner) when Clopos fails.
CLOPOS_STALE_IF_ERROR_SECONDS = env_int("CLOPOS_STALE_IF_ERROR_SECONDS", 86400)

# Our share of the brand's 300 requests/min, for all workers and instances together.
CLOPOS_RATE_BUDGET_PER_MINUTE = env_int("CLOPOS_RATE_BUDGET_PER_MINUTE", 240)
# Circuit breaker: this many consecutive failures stop all calls for CLOPOS_CIRCUIT_OPEN_SECONDS.
CLOPOS_CIRCUIT_FAILURES = env_int("CLOPOS_CIRCUIT_FAILURES", 5)
CLOPOS_CIRCUIT_OPEN_SECONDS = env_int("CLOPOS_CIRCUIT_OPEN_SECONDS", 30)
# No new Clopos call (or wait for another worker's call) starts this long into a request.
CLOPOS_REQUEST_BUDGET_SECONDS = env_float("CLOPOS_REQUEST_BUDGET_SECONDS", 10.0)

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
