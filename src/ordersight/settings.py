"""Django settings, read from the environment with safe defaults for the embedded demo."""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent
# Runtime files (SQLite databases, demo login) live outside the package, in ./var by default.
DATA_DIR = Path(os.environ.get("ORDERSIGHT_DATA_DIR", Path.cwd() / "var"))
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "ordersight-demo-only-secret-key-change-me-in-production"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "huey.contrib.djhuey",
    "ninja",
    "django_htmx",
    "bootstrap",
    "csp",
    "axes",
    "ordersight.core",
    "ordersight.accounts",
    "ordersight.customers",
    "ordersight.catalog",
    "ordersight.orders",
    "ordersight.payments",
    "ordersight.reports",
    "ordersight.subscriptions",
    "ordersight.campaigns",
    "ordersight.promotions",
    "ordersight.sync",
    "ordersight.web",
    "ordersight",
]

MIDDLEWARE = [
    # First, so what any layer below answers under /api/ leaves as the API's JSON error shape.
    "ordersight.http.api_errors.ApiErrorsAsJson",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ordersight.http.control_characters.RefuseControlCharacters",
    "ordersight.accounts.rate_limit.ApiRateLimit",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "ordersight.web.middleware.DomainErrorPages",
    "ordersight.http.idempotency.IdempotencyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ordersight.urls"
ASGI_APPLICATION = "ordersight.asgi.application"
WSGI_APPLICATION = "ordersight.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_SQLITE_OPTIONS = {
    # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at BEGIN,
    # so two writers queue instead of failing on a lock upgrade.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}

DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Connections per process to PostgreSQL: a bounded pool shared by every request thread.
# Persistent per-thread connections (CONN_MAX_AGE) grew without bound under ASGI, where each
# thread that touched the database kept its own; the pool caps them and queues the rest.
DB_POOL_MIN = int(os.environ.get("DB_POOL_MIN", 1))
DB_POOL_MAX = int(os.environ.get("DB_POOL_MAX", 8))
# Every wait on PostgreSQL is bounded, so an unreachable, stopped or overloaded database
# answers 503 well before a proxy gives up (60 s by default in nginx): a connection from the
# pool within DB_POOL_TIMEOUT, a new connection within DB_CONNECT_TIMEOUT, a statement within
# DB_STATEMENT_TIMEOUT (the server cancels it), and a server that stopped answering at all is
# given up DB_STATEMENT_TIMEOUT + 2 s after the query was sent (core/pg_connection.py).
# 0 turns a bound off, e.g. for a long one-off command.
DB_POOL_TIMEOUT = float(os.environ.get("DB_POOL_TIMEOUT", 5))
DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", 5))
DB_STATEMENT_TIMEOUT = float(os.environ.get("DB_STATEMENT_TIMEOUT", 15))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
    else:
        from ordersight.core.pg_connection import bounded_options

        DATABASES["default"]["OPTIONS"] = bounded_options(
            pool_min=DB_POOL_MIN,
            pool_max=DB_POOL_MAX,
            pool_timeout=DB_POOL_TIMEOUT,
            connect_timeout=DB_CONNECT_TIMEOUT,
            statement_timeout=DB_STATEMENT_TIMEOUT,
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "ordersight.sqlite3",
            "OPTIONS": dict(_SQLITE_OPTIONS),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds to connect to Redis or to wait for its answer: a stopped Redis costs a request at
# most this long (the rate limiter then lets requests through; see accounts/rate_limit.py).
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", 2))
# The cache holds rate-limit counts: shared through Redis when there is one.
if REDIS_URL:
    CACHES = {
        "default": {
            # One pool and client per process, not per request (see core/redis_pool.py).
            "BACKEND": "ordersight.core.redis_pool.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
    }
_HUEY_IMMEDIATE = _env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    from redis import ConnectionPool

    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "ordersight",
        # The worker's blocking read waits 1 s on the server, so its socket waits a second more.
        "connection_pool": ConnectionPool.from_url(
            REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT + 1
        ),
        "immediate": _HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "ordersight",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": _HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Where a customer sees a quote on the storefront; {external_id} or {number} is filled in.
# Empty: quotes in the sales history link nowhere.
STOREFRONT_QUOTE_URL = os.environ.get("STOREFRONT_QUOTE_URL", "")

# Payment systems with the Stripe provider charge through this API with this secret key.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Static files are served by WhiteNoise in every mode: collected by `ordersight serve`, and
# found in the installed packages when nothing was collected, so no manual step can leave
# the staff app unstyled.
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "ordersight.web.staticfiles.PlotlyFinder",
]
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
]
# Every page: scripts, styles and connections from this site only, no inline script or
# style, never framed. A reflected value can then never run, even if it reached a page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Two <style> elements plotly.js (as pinned) adds, allowed by their hashes: an empty one
        # it fills through the CSSOM (which CSP does not govern), and its fixed map-chart
        # stylesheet. No other inline style runs; the production browser test fails if
        # an upgrade changes either.
        "style-src": [SELF, *PLOTLY_STYLE_HASHES],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failed attempts for one username
# from one address, that pair is refused (429) for the cool-off time.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False  # its start-up banner would clutter every command's output

# API requests a minute, per API key and per client address (0 turns a limit off).
API_RATE_LIMIT_PER_KEY = int(os.environ.get("API_RATE_LIMIT_PER_KEY", 600))
API_RATE_LIMIT_PER_ADDRESS = int(os.environ.get("API_RATE_LIMIT_PER_ADDRESS", 120))

# Store sync, what the operator allows (SECURITY.md, "Store sync"). A connection reads its
# access token and webhook secret from environment variables whose names start with this
# prefix only, so no connection can name the server's own secrets (SECRET_KEY, DATABASE_URL).
SYNC_SECRET_ENV_PREFIX = os.environ.get("SYNC_SECRET_ENV_PREFIX") or "ORDERSIGHT_SYNC_"
if not re.fullmatch(r"[A-Z][A-Z0-9_]*_", SYNC_SECRET_ENV_PREFIX):
    raise RuntimeError("SYNC_SECRET_ENV_PREFIX must be capitals, digits and _, ending in _")
# Stores on private and loopback addresses (and plain http to them): off unless allowed.
SYNC_ALLOW_PRIVATE_NETWORKS = _env_bool("SYNC_ALLOW_PRIVATE_NETWORKS", False)
# The folder generic feeds may read file://… paths below; unset, file feeds are refused.
SYNC_FILE_ROOT = os.environ.get("SYNC_FILE_ROOT", "")

# When the sales rollups (reports, the dashboard) take in an order's change: "in-transaction"
# (the change's own transaction: figures current at once; the default) or "after-commit" (the
# change queues its order and `ordersight keep_figures`, which `serve` runs beside the
# worker, recounts the queue in batches: a write costs less, the figures trail by a second
# or so, and pages say by how much). See README, "Sales figures after commit".
SALES_FIGURES = os.environ.get("SALES_FIGURES", "in-transaction")
if SALES_FIGURES not in ("in-transaction", "after-commit"):
    raise RuntimeError("SALES_FIGURES must be in-transaction or after-commit")

LOGIN_URL = "/login/"
# Home: sales performance for those who may see it, else All Orders.
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# Bulk ingest takes up to 1,000 orders in one body; anything past this is refused with 413.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", 8 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Threads per web process for pages and the API (ordersight/serving.py). Four, and never
# more than the process's database connections (a thread past those would only wait for
# one): a process runs Python on one core, and threads past a few only contend for the
# interpreter's lock. At 10 connections All Orders took a median 50 ms of CPU a request on
# 8 threads, 38 on 4 and 33 on 2; four keep room for a request waiting on the network (a
# payment provider, a store's test call) without stalling the process's pages.
WEB_THREADS = int(os.environ.get("WEB_THREADS", min(4, DB_POOL_MAX)))

IDEMPOTENCY_TTL_HOURS = 24

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"worker": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "worker": {"class": "logging.StreamHandler", "formatter": "worker"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The worker's own lines, once: Huey's run_huey adds a handler of its own to the
        # "huey" logger when it has none, and that logger also passes every line on to the
        # root's console, so each line was printed twice. One handler here, not passed on.
        "huey": {
            "handlers": ["worker"],
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}

if not DEBUG:
    # Production: HTTPS only. Behind a TLS-terminating proxy, set
    # SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so Django knows the request was HTTPS
    # (the proxy must overwrite that header); see README, "Run in production".
    SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = _env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a promise to browser vendors that the whole domain stays on HTTPS
        # for good; that is the operator's decision, not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    _proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "")
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")
    # Health checks from the proxy or the orchestrator come over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
