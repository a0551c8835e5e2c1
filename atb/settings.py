"""ATB Portal settings: one module, every value from the environment.

Defaults are safe for production (DEBUG off, no secret key invented) except where a
value is only needed to try the portal: with no DATABASE_URL or REDIS_URL it runs on
an embedded SQLite database and a file-system Celery broker. `.env.example` lists
every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --- Core -------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused CSRF check is recorded in the audit trail like every refusal.
CSRF_FAILURE_VIEW = "core.audit.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "pgtrigger",
    # The layers, lowest first (README, "Layout"): the shared core, the features, and the
    # pages that compose them. tools/ (demo, scale data, benchmarks) is not installed here.
    "core.apps.CoreConfig",
    "referrals",
    "recovery_at_home",
    "teams",
    "feedback",
    "mdt",
    "partners",
    "closed_loop",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: a NUL, which PostgreSQL cannot store, is a 400.
    "core.input.RefuseNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.audit.AuditContextMiddleware",
    "core.audit.AuditRefusalsMiddleware",
    "core.middleware.SessionRenewalMiddleware",
    "core.middleware.NoStoreWhenSignedInMiddleware",
    "core.middleware.SignInRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.AbsoluteSessionLimitMiddleware",
    "core.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy: everything from the portal itself, no inline script or style
# (there is none: behaviour lives in static/js, htmx's indicator style is switched off).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "atb.urls"
WSGI_APPLICATION = "atb.wsgi.application"
ASGI_APPLICATION = "atb.asgi.application"

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
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Reports (the dashboard, the exports) may read from a streaming replica; never the live
# queue (core/replica.py). Unset, or behind by more than the lag allowed: the primary.
REPORTS_FROM_REPLICA = bool(env.str("DATABASE_REPLICA_URL", default=""))
if REPORTS_FROM_REPLICA:
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.replica.ReportsRouter"]
REPLICA_MAX_LAG_SECONDS = env.int("REPLICA_MAX_LAG_SECONDS", default=30)
# Two PostgreSQL roles (README, "How it holds patient data"): migrations run as the owner
# (DATABASE_URL's user then); the web, worker and beat connect as DATABASE_RUNTIME_ROLE,
# which owns nothing and may only read and append to the audit trail. Each migration
# grants it what it needs. DATABASE_ADMIN_URL (a superuser) is for `manage.py
# database_roles` alone, which creates both roles.
DATABASE_RUNTIME_ROLE = env.str("DATABASE_RUNTIME_ROLE", default="")
DATABASE_ADMIN_URL = env.str("DATABASE_ADMIN_URL", default="")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # The planner's price of reading a page out of order. PostgreSQL's 4 assumes spinning
    # disks; on SSDs 1.1 lets it probe an index (e.g. the episodes of a few recent events)
    # where it would otherwise scan a whole table of history.
    _random_page_cost = env.float("POSTGRES_RANDOM_PAGE_COST", default=1.1)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c random_page_cost={_random_page_cost}"
    # Prepared statements: a query the connection has run five times is parsed and planned
    # once, not on every request (planning the queue's six-table join costs more than
    # running it). Off for a pooler that cannot keep them (PgBouncer in transaction mode
    # before 1.21).
    if env.bool("POSTGRES_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
else:
    # The demo's SQLite ignores an index's covering columns (the queue's index carries
    # them for PostgreSQL's index-only counts); nothing to warn anyone trying the demo of.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------------

# Empty means "no Redis": the demo then uses a local-memory cache and a file-system
# broker, which needs no server but is for one machine only.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Longer than any task may run; tasks never use long ETAs (alerts are swept).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)  # the transport expects it to exist
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }

# How often each coordinator's queue asks for new rows (htmx).
RAH_QUEUE_POLL_SECONDS = env.int("RAH_QUEUE_POLL_SECONDS", default=15)
# How often each web process looks whether Redis answers (for the "degraded" banner).
BACKGROUND_RECHECK_SECONDS = env.int("BACKGROUND_RECHECK_SECONDS", default=15)
CELERY_TIMEZONE = "Europe/London"
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has run, and re-queued if its worker dies,
# so every task must be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# What a task prints (the console email backend's messages) is information, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Two or more beat processes may run: only the holder of the beat lease sends
# (core/leases.py). Another takes over within the lease's seconds of the holder dying.
CELERY_BEAT_SCHEDULER = "core.scheduler:LeaderScheduler"
BEAT_LEASE_SECONDS = env.int("BEAT_LEASE_SECONDS", default=30)
BEAT_STANDBY_SECONDS = env.int("BEAT_STANDBY_SECONDS", default=5)
# Save each task's last run at once, so a scheduler taking over knows what was sent.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Authentication and sessions --------------------------------------------------

AUTH_USER_MODEL = "atb.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in failures: after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is locked out for AXES_COOLOFF_MINUTES (django-axes).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.auth.PortalBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-factor sign-in (TOTP authenticator apps, django-otp): required for administrators
# unless ADMIN_TWO_FACTOR is off (the demo turns it off); optional for everyone else.
ADMIN_TWO_FACTOR = env.bool("ADMIN_TWO_FACTOR", default=True)
OTP_TOTP_ISSUER = "ATB Portal"
OTP_LOGIN_URL = "/accounts/two-factor/"
OTP_SETUP_URL = "/accounts/two-factor/set-up/"
# The admin never shows another person's authenticator key or QR code (and its pages for
# them, which answered a server error for an unknown device, are refused).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Idle sessions end after 30 minutes; AbsoluteSessionLimitMiddleware ends any session
# 12 hours after sign-in.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
# The idle timeout is renewed by core.middleware.SessionRenewalMiddleware, at most once a
# SESSION_RENEW_SECONDS: saving the session on every request cost the queue's 15-second
# poll three queries. A session therefore ends 29 to 30 minutes after the last request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = env.int("SESSION_RENEW_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Security headers (production) ------------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Asks browsers' preload lists to know the site is HTTPS-only; turn off only if the
# domain's owner has not agreed to preloading.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation and time ------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"  # shown to people; everything is stored in UTC
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Bootstrap from the npm registry, installed by `make` (package.json pins it).
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and a fresh checkout render pages before `collectstatic` has run.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ATB Portal <atb-portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people open the portal: emails link here (they are sent by workers, with no request).
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Messages to the person or carer: GOV.UK Notify ---------------------------------
# Without a key nothing is sent (messages wait, queued). Templates are made in Notify and
# configured here by id; each takes the personalisation `closed_loop.person_messages` gives.
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY", default="")
NOTIFY_BASE_URL = env.str("NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk")
NOTIFY_TEMPLATES = {
    "on_the_way_sms": env.str("NOTIFY_TEMPLATE_ON_THE_WAY_SMS", default=""),
    "on_the_way_email": env.str("NOTIFY_TEMPLATE_ON_THE_WAY_EMAIL", default=""),
    "visit_changed_sms": env.str("NOTIFY_TEMPLATE_VISIT_CHANGED_SMS", default=""),
    "visit_changed_email": env.str("NOTIFY_TEMPLATE_VISIT_CHANGED_EMAIL", default=""),
    "feedback_sms": env.str("NOTIFY_TEMPLATE_FEEDBACK_SMS", default=""),
    "feedback_email": env.str("NOTIFY_TEMPLATE_FEEDBACK_EMAIL", default=""),
}
# How long posting a response to a sending system may take before it counts as failed
# (and is tried again with back-off: `closed_loop.response_delivery`).
SYSTEM_RESPONSE_TIMEOUT_SECONDS = env.float("SYSTEM_RESPONSE_TIMEOUT_SECONDS", default=10.0)
# How often a referrer's "What happened to my referrals" refreshes itself (htmx).
UPDATES_POLL_SECONDS = env.int("UPDATES_POLL_SECONDS", default=15)
# The number a person can call back on, in every message.
RAH_PHONE = env.str("RAH_PHONE", default="0191 000 0000")

# --- Forms, API -------------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    # Token first, so an unauthenticated call answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every refusal (403, 404) is recorded in the audit trail (`core.audit.record_refusal`).
    "EXCEPTION_HANDLER": "core.audit.api_exception_handler",
    # JSON with a bound on its depth and no NUL characters (`core.input`).
    "DEFAULT_PARSER_CLASSES": [
        "core.input.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ATB Portal API",
    "DESCRIPTION": "Referrals and case management for All Together Better, Sunderland.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; each gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.models.Status",
        "ContactKindEnum": "teams.models.Contact.Kind",
        "DischargeReasonEnum": "teams.models.DischargeReason",
        "ReferralReasonEnum": "referrals.models.Reason",
        "ReferralEventKindEnum": "referrals.models.ReferralEvent.Kind",
        "MeetingStatusEnum": "mdt.models.Meeting.Status",
        "ActionStatusEnum": "mdt.models.Action.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "referrals.fhir_views.keep_fhir_operation_names",
    ],
}

# --- Logging ----------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_without_traceback": {"()": "core.log_filters.RefusalWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refusal_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler (DEBUG only) would print each of its messages a second
    # time beside the root's: its records go to the root alone.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
