"""Test settings: the real settings plus fast, in-memory defaults for tests.

DATABASE_URL chooses the database (the test command runs the suite on PostgreSQL and on SQLite).
"""

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "locmem"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
# Logins go through django-axes here too: a test that logs in by password passes `request=`.
AXES_ENABLED = True
# A fixed checkpoint signing key for the tests (32 zero bytes); never a real one.
REGISTER_SIGNING_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
