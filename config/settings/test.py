"""Hermetic, fast settings for pytest; PostgreSQL and Redis when DATABASE_URL, REDIS_URL are set."""

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
MEDIA_ROOT = VAR_DIR / "test-media"
STORAGES["default"]["OPTIONS"] = {"location": MEDIA_ROOT}
# Stock providers are off unless a test points them at the fake (tests/fakes/stock_server.py).
PEXELS_API_KEY = PIXABAY_API_KEY = ""
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "10000/min"}

# Celery runs inline in unit tests; tests that need a real worker start one (tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: worker processes started by tests must see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-reelforge.sqlite3")}
    # A worker process started by a test is pointed at the test database by name.
    if env.str("REELFORGE_TEST_DB_NAME", default=""):
        DATABASES["default"]["NAME"] = env.str("REELFORGE_TEST_DB_NAME")
elif env.str("REELFORGE_TEST_DB_NAME", default=""):
    DATABASES["default"]["NAME"] = env.str("REELFORGE_TEST_DB_NAME")
