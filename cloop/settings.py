"""Cloop settings: one module, driven by environment variables (12-factor).

Unset DATABASE_URL / REDIS_URL mean "embedded": Cloop's own PostgreSQL and Redis in
CLOOP_DATA_DIR on unix sockets (see cloop/embedded.py). Importing this module starts nothing:
the entry points (`make run`, manage.py, the test session) start those servers first. Production
sets both URLs, DEBUG=0 and a SECRET_KEY; `manage.py check --deploy --fail-level WARNING` is
then clean.

Every knob Cloop reads from the environment is declared here once, with its default; the README's
Configuration table lists each one (tests/cloop/test_settings.py keeps the two in step). Code
reads `settings.CLOOP_…` when it runs, never a default of its own.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from cloop import db, embedded, public_url, queues, redis_urls

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envlist(name: str, default: str = "") -> list[str]:
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


# Development is the default only where nothing is configured (embedded database); a
# deployment that sets DATABASE_URL runs with DEBUG off unless it asks otherwise.
DEBUG = envbool("DEBUG", "0" if os.environ.get("DATABASE_URL") else "1")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
# CLOOP_DEV=1: a development run with DEBUG off (benchmarks, production-like local runs) may
# use the development key; production never sets it.
if not SECRET_KEY:
    if not (DEBUG or envbool("CLOOP_DEV")):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    SECRET_KEY = "dev-only-not-secret-" + "x" * 40  # noqa: S105 - development only

# Sites live at <site_id>.<base domain>; Cloop's own pages at the base domain.
CLOOP_BASE_DOMAIN = os.environ.get("CLOOP_BASE_DOMAIN", "localhost").lower().strip(".")
# The embedded servers' data, beat's schedule, `make run`'s public URL, development mail.
CLOOP_DATA_DIR = Path(os.environ.get("CLOOP_DATA_DIR") or BASE_DIR / ".cloop")
# Where Cloop itself is reached (widget.js, the chat frame, the WebSocket, admin links). The
# one source: CLOOP_PUBLIC_URL, else derived (cloop/public_url.py): https://<base domain> in
# production; in development http://<base domain>:$PORT, or the URL `make run` serves on.
CLOOP_PUBLIC_URL = public_url.public_url_resolve(
    os.environ.get("CLOOP_PUBLIC_URL", ""),
    # Development: the port this shell's `make run` / uvicorn serves on.
    port=os.environ.get("PORT", ""),
    base_domain=CLOOP_BASE_DOMAIN,
    data_dir=CLOOP_DATA_DIR,
    debug=DEBUG,
)
# The model answering visitors (any litellm model name); the default answers offline.
CLOOP_LLM_MODEL = os.environ.get("CLOOP_LLM_MODEL", "cloop-offline/extractive")
# Seconds to the model's first streamed text, and for the whole answer (conversations/chat/llm.py).
CLOOP_LLM_FIRST_TOKEN_TIMEOUT = float(os.environ.get("CLOOP_LLM_FIRST_TOKEN_TIMEOUT", "15"))
CLOOP_LLM_TOTAL_TIMEOUT = float(os.environ.get("CLOOP_LLM_TOTAL_TIMEOUT", "60"))
# The offline model's pause between streamed chunks (ms), so the demo visibly streams.
CLOOP_OFFLINE_CHUNK_MS = int(os.environ.get("CLOOP_OFFLINE_CHUNK_MS", "25"))
# Optional litellm embedding model for dense retrieval; unset = lexical search only.
CLOOP_EMBEDDING_MODEL = os.environ.get("CLOOP_EMBEDDING_MODEL", "")
# The class deciding a conversation's phase (conversations/chat/phases.py): a dotted path.
CLOOP_PHASE_CLASSIFIER = os.environ.get(
    "CLOOP_PHASE_CLASSIFIER", "conversations.chat.phases.RuleClassifier"
)
# A chat socket with no frame from the visitor for this many seconds is closed (docs/protocol.md).
CLOOP_WS_IDLE_SECONDS = float(os.environ.get("CLOOP_WS_IDLE_SECONDS", "600"))
# The site `setup_demo` creates and /demo/ shows (not from the environment: `make run` prints
# its admin URL as demo.<base domain>; the browser tests point it at a test site).
CLOOP_DEMO_SITE_ID = "demo"
# The key of the erasure log's keyed hash of a subject's identifier (docs/admin.md); unset =
# SECRET_KEY. Set it to keep those hashes comparable across a SECRET_KEY rotation.
CLOOP_ERASURE_HMAC_KEY = os.environ.get("CLOOP_ERASURE_HMAC_KEY", "")
# Data residency (conversations/privacy/residency.py, docs/platform.md#data-residency). The privacy
# notice says visitors' data is stored and processed in the EU (Finland): CLOOP_DATA_REGION
# names where PostgreSQL, Redis and backups run (an EU country code or cloud region);
# CLOOP_LLM_REGION where the model provider processes requests, when its endpoint does not
# say (e.g. an Azure resource in swedencentral); CLOOP_LLM_REGION_ACK, the recorded basis for
# a provider outside the EU, silences `check --deploy`'s warning about it.
CLOOP_DATA_REGION = os.environ.get("CLOOP_DATA_REGION", "fi").strip().lower()
CLOOP_LLM_REGION = os.environ.get("CLOOP_LLM_REGION", "").strip().lower()
CLOOP_LLM_REGION_ACK = os.environ.get("CLOOP_LLM_REGION_ACK", "").strip()
# The refusal threshold: share of the question's meaningful words the retrieved passages must
# hold before an answer is attempted (conversations.chat.answer.coverage_of; docs/quality.md).
# Higher refuses more.
CLOOP_COVERAGE_MIN = float(os.environ.get("CLOOP_COVERAGE_MIN", "0.6"))
# With a real LLM configured (any CLOOP_LLM_MODEL but the offline answerer) the model decides
# whether the passages answer (prompt rule 4, NO_ANSWER); before the call Cloop refuses only
# when retrieval found nothing or the passages hold less than this share of the question's
# meaningful words (conversations.chat.answer.model_gate_refused; calibrated in docs/quality.md).
CLOOP_MODEL_COVERAGE_MIN = float(os.environ.get("CLOOP_MODEL_COVERAGE_MIN", "0.1"))
# With a real LLM, a question that gate would refuse first gets one more search with the model's
# own search words in the site's language (a question in another language, a paraphrase that
# shares no word with the page): conversations.chat.rewrite. One short extra call, for those
# questions only. "0" turns it off.
CLOOP_QUERY_REWRITE = envbool("CLOOP_QUERY_REWRITE", "1")
# With CLOOP_EMBEDDING_MODEL set the refusal also weighs meaning (conversations.chat.answer.
# answer_refused): a question whose best retrieved passage has at least this cosine with it is
# answered though its words are not covered; below the floor it is refused whatever its words
# (0: no floor). Cosines of all-MiniLM-L6-v2, chosen on the tuning questions (docs/quality.md);
# another embedding model needs its own values.
CLOOP_SEMANTIC_MIN = float(os.environ.get("CLOOP_SEMANTIC_MIN", "0.6"))
CLOOP_SEMANTIC_FLOOR = float(os.environ.get("CLOOP_SEMANTIC_FLOOR", "0"))
# 1 lets the crawler reach private and loopback addresses (development and tests only).
CLOOP_CRAWL_ALLOW_PRIVATE = envbool("CLOOP_CRAWL_ALLOW_PRIVATE", "0")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS") or [CLOOP_BASE_DOMAIN, f".{CLOOP_BASE_DOMAIN}"]
if DEBUG:
    ALLOWED_HOSTS += ["localhost", ".localhost", "127.0.0.1", "testserver"]

# --- database ---------------------------------------------------------------------------
# Unset: the embedded server's socket in CLOOP_DATA_DIR (started by the entry point, not here).
DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.postgres_address()

# Connections: a psycopg pool per process, never persistent per-thread connections (they leak
# under ASGI, where every request runs on a thread of its own); see cloop/db.py. Each process
# names itself in pg_stat_activity and holds at most CLOOP_DB_POOL_MAX connections.
# CLOOP_PROCESS names the process (else guessed from its command line); CLOOP_DB_POOL_MAX is
# its budget (else the default for its kind): both read by cloop/db.py, which budgets use too.
CLOOP_PROCESS = db.process_name()
CLOOP_DB_POOL_MAX = db.pool_max(CLOOP_PROCESS)
# Connections the pool keeps open when idle (at most CLOOP_DB_POOL_MAX).
CLOOP_DB_POOL_MIN = int(os.environ.get("CLOOP_DB_POOL_MIN", "1"))
# Seconds a request waits for a free connection before failing (503 on /healthz, a retryable
# error frame in the chat) rather than queueing without bound.
CLOOP_DB_POOL_TIMEOUT = float(os.environ.get("CLOOP_DB_POOL_TIMEOUT", "10"))
# Seconds an idle connection above CLOOP_DB_POOL_MIN stays open.
CLOOP_DB_POOL_MAX_IDLE = float(os.environ.get("CLOOP_DB_POOL_MAX_IDLE", "60"))
# The web process's thread pools for chat writes and retrieval (conversations/chat/threads.py);
# each thread borrows a pooled connection per call, so together they stay under the budget.
CLOOP_CHAT_DB_THREADS = int(os.environ.get("CLOOP_CHAT_DB_THREADS", "4"))
CLOOP_SEARCH_THREADS = int(os.environ.get("CLOOP_SEARCH_THREADS", "4"))
DATABASES = {
    # CONN_MAX_AGE must be 0 with a pool: closing a connection returns it to the pool.
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"].setdefault("OPTIONS", {}).update(
    application_name=CLOOP_PROCESS,
    pool=db.pool_options(
        CLOOP_PROCESS,
        max_size=CLOOP_DB_POOL_MAX,
        min_size=CLOOP_DB_POOL_MIN,
        timeout=CLOOP_DB_POOL_TIMEOUT,
        max_idle=CLOOP_DB_POOL_MAX_IDLE,
    ),
)
# The test suite's database; parallel runs / CI jobs sharing one server pick distinct names.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("CLOOP_TEST_DB", "test_cloop")}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

# --- redis --------------------------------------------------------------------------------
# Unset: the embedded server's socket in CLOOP_DATA_DIR (started by the entry point, not here).
REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_address()

# --- tenancy ------------------------------------------------------------------------------
TENANT_MODEL = "tenants.Site"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New sites are cloned from this schema (kept migrated by `manage.py migrate_platform`),
# which takes a fraction of the time of running every tenant migration.
TENANT_BASE_SCHEMA = "cloop_base"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
# Processes `migrate_platform` migrates sites with (each holds its own connection).
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("CLOOP_MIGRATION_PROCESSES", "2"))
TENANT_MULTIPROCESSING_CHUNKS = 2
PUBLIC_SCHEMA_URLCONF = "cloop.urls_public"
ROOT_URLCONF = "cloop.urls_tenant"
# Hosts that are not a site's (the bare base domain, 127.0.0.1) serve the public URLconf.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
# django-tenants paints the captions of site apps green in the admin: customers see one colour
# scheme (the admin's own), not a developer's marker of which schema an app lives in.
TENANT_COLOR_ADMIN_APPS = False

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    # Django's admin with Cloop's admin site (team/admin_site.py: two-step sign-in).
    "team.apps.CloopAdminConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Users live in both kinds of schema (staff in public, each customer's team in its
    # site's), so do their throttling records, authenticators and preferences.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "team",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "team.apps.CloopAdminConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "team",
    "rest_framework.authtoken",
    "crawler",
    "conversations",
    "widget",
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

MIDDLEWARE = [
    # First: /healthz must answer (503) even when the tenant lookup cannot reach the database.
    "cloop.health.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before the tenant lookup: static files are served without touching the database.
    "cloop.static.AsyncFileWhiteNoiseMiddleware",
    "tenants.middleware.SiteTenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session proved a two-factor code.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

# The lockout check runs before the password check (django-axes' backend).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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
            ],
        },
    }
]

WSGI_APPLICATION = "cloop.wsgi.application"
ASGI_APPLICATION = "cloop.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fi", "Finnish")]
# Cloop's own translations (the privacy notice): locale/<language>/LC_MESSAGES/django.po.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development, also with DEBUG off (CLOOP_DEV: benchmarks, the tests' production-like
# children), serves static files from the apps' folders: it has no collectstatic output.
WHITENOISE_USE_FINDERS = DEBUG or envbool("CLOOP_DEV")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if WHITENOISE_USE_FINDERS
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
if WHITENOISE_USE_FINDERS:
    import warnings

    # Development serves static files from the apps' folders; no collectstatic output exists.
    warnings.filterwarnings("ignore", message="No directory at")

# --- cache, channels, celery -------------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Cache keys carry the schema so one site's entries never answer for another's.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "cloop"},
    }
}

# Kombu spells a unix-socket Redis `redis+socket://`, with the database as its virtual host;
# redis-py and channels-redis `unix://...?db=N` (cloop/redis_urls.py).
CELERY_BROKER_URL = redis_urls.redis_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# Redelivery happens after the visibility timeout: keep it well above the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT + 600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(CLOOP_DATA_DIR / "celerybeat-schedule")
# Long work (crawls) and short work (e-mails, reminders, retention, checks) on queues of their
# own, each with its own workers, so a big crawl never delays a summary e-mail (cloop/queues.py).
# Declared, not created on demand, so a worker started without -Q consumes every queue.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in queues.QUEUES]
CELERY_TASK_DEFAULT_QUEUE = queues.SHORT
CELERY_TASK_ROUTES = {task: {"queue": queue} for task, queue in queues.ROUTES.items()}
CELERY_TASK_CREATE_MISSING_QUEUES = False
# Beat runs once however many are started: each holds a Redis lock (cloop/beat.py) that its
# heartbeat renews every TTL/3 seconds; another beat stands by and takes over once the lock is
# released (clean stop) or has expired (the holder died).
CLOOP_BEAT_LOCK_TTL = int(os.environ.get("CLOOP_BEAT_LOCK_TTL", "60"))
CELERY_BEAT_SCHEDULE_FILENAME = str(CLOOP_DATA_DIR / "celerybeat-schedule")
# Modules with tasks that autodiscovery (which imports `<app>.tasks` only) would miss.
CELERY_IMPORTS = ["conversations.privacy.tasks", "conversations.leads.tasks"]
# TenantAwareScheduler (see cloop/run.py) runs each entry in every site's schema.
CELERY_BEAT_SCHEDULE = {
    "retention-purge-nightly": {
        "task": "conversations.retention_purge",
        "schedule": 24 * 3600,  # daily: nothing outlives its retention period by over a day
    },
    "data-requests-reminder-daily": {
        "task": "conversations.requests_remind",
        "schedule": 24 * 3600,
    },
    # Monday 07:00 UTC in every site: the week's counts to the users who opted in.
    "weekly-digest": {
        "task": "conversations.weekly_digest",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
    # Hourly check per site; crawls only sites whose re-crawl interval has passed.
    "crawl-due-hourly": {"task": "crawler.crawl_due", "schedule": 3600},
}

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cloop customer API",
    "DESCRIPTION": "Conversations, leads, data requests, settings and crawls of one site.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI / Redoc assets served by us (drf-spectacular-sidecar), not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- e-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "0")
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"Cloop <no-reply@{CLOOP_BASE_DOMAIN}>")
# Development without an SMTP server: every e-mail is a file in .cloop/mail/ (one per message,
# readable with any text editor) instead of being lost on a console or a closed port 25.
EMAIL_FILE_PATH = str(CLOOP_DATA_DIR / "mail")
if DEBUG and "EMAIL_BACKEND" not in os.environ and "EMAIL_HOST" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

# --- security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"  # the chat frame sets its own CSP frame-ancestors instead
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz is probed over plain HTTP by load balancers and process supervisors.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# --- logging: never the visitor's IP or message text -------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger puts the remote address in some records; keep it at ERROR
        # without request details by routing through our console formatter only.
        "django.server": {"level": "WARNING"},
        # Django's default config gives "django" a console handler of its own in DEBUG; with
        # the root's, every "Not Found: /robots.txt" was printed twice. One handler: the root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "uvicorn.access": {"level": "WARNING", "propagate": False, "handlers": []},
        # uvicorn logs every WebSocket handshake ("<client ip> - WebSocket ... [accepted]/403")
        # at INFO on uvicorn.error; WARNING keeps real errors and drops the visitor's address.
        "uvicorn.error": {"level": "WARNING"},
        "LiteLLM": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- crawler: runs whose worker died -------------------------------------------------------
# A running crawl with no heartbeat for this long, while nobody holds the site's crawl lock,
# lost its worker; beat's crawl-stale check queues it again to resume (crawler/runs.py).
CLOOP_CRAWL_STALE_SECONDS = int(os.environ.get("CLOOP_CRAWL_STALE_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["crawl-stale-check"] = {"task": "crawler.crawl_stale", "schedule": 300}

# --- Cloop's own privacy policy page (/privacy/cloop/): who answers questions about Cloop ----
CLOOP_PRIVACY_CONTACT = os.environ.get("CLOOP_PRIVACY_CONTACT", "").strip()

# --- summary e-mails: per-site cap (the per-address cap is fixed, conversations/chat/limits.py) -----
CLOOP_SUMMARY_SITE_HOURLY = int(os.environ.get("CLOOP_SUMMARY_SITE_HOURLY", "60"))

# --- the customer's team: login throttling, two-factor sign-in, password links ---------------
# django-axes, keyed on the account only: N failed passwords for one username lock that
# username for the cool-off time, whoever tries. No IP address or user agent is looked at or
# stored (team/throttling.py); successful logins are not logged by axes.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = int(os.environ.get("CLOOP_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("CLOOP_LOGIN_LOCKOUT_MINUTES", "15")) / 60  # hours
AXES_CLIENT_IP_CALLABLE = "team.throttling.no_ip_address"
AXES_HANDLER = "team.throttling.AccountOnlyHandler"
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "team/locked_out.html"
# axes.W006 asks for ip_address among the lockout parameters: deliberately not (see above);
# keyed on the username, rotating user agents or cookies does not reset a lockout.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# The authenticator app shows this name beside the account.
OTP_TOTP_ISSUER = os.environ.get("CLOOP_OTP_ISSUER", "Cloop")
# Invitation and password-reset links work once, for this long (Django's token generator).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("CLOOP_PASSWORD_LINK_DAYS", "3")) * 24 * 3600

# --- GDPR desk: the export sent to a subject as a one-time link, valid this many days --------
CLOOP_EXPORT_LINK_DAYS = int(os.environ.get("CLOOP_EXPORT_LINK_DAYS", "7"))

# --- the team's lead notifications: at most this many per site and hour (a bot typing
# addresses into a widget must not flood the team's inboxes; the weekly digest counts all).
CLOOP_LEAD_NOTIFY_HOURLY = int(os.environ.get("CLOOP_LEAD_NOTIFY_HOURLY", "30"))
