"""Settings shared by every environment, read from the environment through django-environ."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("REELFORGE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_secret(name: str, default=environ.Env.NOTSET) -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (container secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


SECRET_KEY = env_secret("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("REELFORGE_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "billing",
    "orgs",
    "assets",
    "jobs",
    "media_tools",
    "generation",
    "studio",
    "hosting",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "jobs.fastpath.StatusFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "core.context_processors.site",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# SQLite under var/ unless DATABASE_URL names another database (PostgreSQL in production).
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Reused connections are checked first: without it the first request per worker
        # after a database restart fails.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "reelforge.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers queue on
    # the busy timeout instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 25

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
                "region_name": env.str("AWS_S3_REGION_NAME", default=None),
                "access_key": env_secret("AWS_ACCESS_KEY_ID", default=None),
                "secret_key": env_secret("AWS_SECRET_ACCESS_KEY", default=None),
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
                "file_overwrite": False,
            },
        },
    }
else:
    STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT},
        },
    }
STORAGES["staticfiles"] = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    if not DEBUG
    else "django.contrib.staticfiles.storage.StaticFilesStorage",
}

# --- Cache, broker ------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "rf",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The embedded broker keeps messages as files under var/: no server to install, and unlike
# the SQLAlchemy transport it answers broadcasts, so `celery inspect` and remote control work.
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Must exceed the longest job: an unacked message is redelivered after this.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 60 * 60),
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # How often a worker looks for new message files: short enough for snappy jobs and
        # control replies, long enough to cost nothing.
        "polling_interval": 0.2,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULE = {
    "grant-monthly-credits": {
        "task": "billing.tasks.grant_monthly_credits",
        "schedule": 60 * 60,
    },
    "expire-credits": {
        "task": "billing.tasks.expire_credits",
        "schedule": 5 * 60,
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": 24 * 60 * 60,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Reelforge <noreply@localhost>")

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The first class names the 401 challenge (Bearer), so a missing credential is a 401.
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.JwtAuthentication",
        "accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitOffsetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_secret("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Reelforge API",
    "DESCRIPTION": (
        "Programmatic access to AI video, image and audio generation, editing, studio "
        "projects and billing. Authenticate with `Authorization: Bearer <API key or JWT>`. "
        "Every error is `{\"error\", \"code\", \"fields\"}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "ENUM_NAME_OVERRIDES": {
        "VideoModelEnum": "generation.serializers.VIDEO_IDS",
        "ImageModelEnum": "generation.serializers.IMAGE_IDS",
        "ModelIdEnum": "generation.serializers.ALL_IDS",
        "ElementKindEnum": "studio.models.Element.Kind",
        "TransitionEnum": "studio.models.Shot.Transition",
        "VerticalPositionEnum": "studio.stories.options.CAPTION_POSITIONS",
    },
}

# --- Reelforge ----------------------------------------------------------------------------
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
API_KEYS_PER_USER = env.int("API_KEYS_PER_USER", default=25)
AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_SIZE = 256
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)

# --- Stripe (each part is off until its setting is given) ---------------------------------
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET", default="")
# Another API address (a test double, stripe-mock); empty means Stripe itself.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_CURRENCY = env.str("STRIPE_CURRENCY", default="gbp")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Monthly price of each plan, unless the plan's own Stripe price id is set in admin.
STRIPE_PRICE_IDS = {
    slug: env.str(f"STRIPE_PRICE_{slug.upper()}", default="")
    for slug in ("starter", "creator", "pro", "studio", "enterprise")
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# --- Uploads and media --------------------------------------------------------------------
UPLOAD_MAX_BYTES = {
    "image": env.int("UPLOAD_MAX_IMAGE_BYTES", default=10 * 1024 * 1024),
    "video": env.int("UPLOAD_MAX_VIDEO_BYTES", default=500 * 1024 * 1024),
    "audio": env.int("UPLOAD_MAX_AUDIO_BYTES", default=100 * 1024 * 1024),
}
UPLOAD_MAX_DURATION = env.int("UPLOAD_MAX_DURATION", default=30 * 60)
MAX_VIDEO_PIXELS = env.int("MAX_VIDEO_PIXELS", default=3840 * 2160)

# --- Jobs ---------------------------------------------------------------------------------
JOB_HEARTBEAT_INTERVAL = env.float("JOB_HEARTBEAT_INTERVAL", default=5.0)
JOB_HEARTBEAT_TIMEOUT = env.int("JOB_HEARTBEAT_TIMEOUT", default=60)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_REQUEUE_AFTER = env.int("JOB_REQUEUE_AFTER", default=300)
JOB_SCRATCH_DIR = env.str("JOB_SCRATCH_DIR", default="") or None
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
CELERY_BEAT_SCHEDULE["reap-jobs"] = {"task": "jobs.tasks.reap_jobs", "schedule": 30}
CELERY_BEAT_SCHEDULE["deliver-webhooks"] = {"task": "jobs.tasks.deliver_due_webhooks",
                                            "schedule": 60}
JOB_EVENTS_MAX_SECONDS = env.int("JOB_EVENTS_MAX_SECONDS", default=600)
# POST /api/stories with `Prefer: wait=N` holds the answer at most this long.
STORY_MAX_WAIT = env.int("STORY_MAX_WAIT", default=60)

# --- Generation ---------------------------------------------------------------------------
GENERATION_DEFAULT_ENGINE = env.str("GENERATION_DEFAULT_ENGINE", default="preview")
GENERATION_MODEL_ENGINES = env.json("GENERATION_MODEL_ENGINES", default={})
URL_FETCH_TIMEOUT = env.float("URL_FETCH_TIMEOUT", default=20.0)
URL_FETCH_ALLOW_PRIVATE = env.bool("URL_FETCH_ALLOW_PRIVATE", default=False)
COMFYUI_URLS = env.list("COMFYUI_URLS", default=[])
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env_secret("OPENAI_API_KEY", default="")
OPENAI_CHAT_MODEL = env.str("OPENAI_CHAT_MODEL", default="")
OPENAI_SPEECH_MODEL = env.str("OPENAI_SPEECH_MODEL", default="")
OPENAI_TRANSCRIPTION_MODEL = env.str("OPENAI_TRANSCRIPTION_MODEL", default="")
OPENAI_IMAGE_MODEL = env.str("OPENAI_IMAGE_MODEL", default="")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=60.0)

# --- Stock video for stories (Pexels, Pixabay); each provider is on when its key is set -------
PEXELS_API_KEY = env_secret("PEXELS_API_KEY", default="")
PIXABAY_API_KEY = env_secret("PIXABAY_API_KEY", default="")
PEXELS_API_URL = env.str("PEXELS_API_URL", default="https://api.pexels.com")
PIXABAY_API_URL = env.str("PIXABAY_API_URL", default="https://pixabay.com/api")
STOCK_TIMEOUT = env.float("STOCK_TIMEOUT", default=20.0)
STOCK_DOWNLOAD_TIMEOUT = env.float("STOCK_DOWNLOAD_TIMEOUT", default=300.0)
STOCK_DOWNLOAD_MAX_BYTES = env.int("STOCK_DOWNLOAD_MAX_BYTES", default=200 * 1024 * 1024)
STOCK_ALLOW_PRIVATE = env.bool("STOCK_ALLOW_PRIVATE", default=False)
