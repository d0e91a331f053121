"""Settings for salonconsent, read once from the environment with django-environ.

With no environment at all they give the embedded demo: SQLite under var/, Celery eager,
console SMS and email, DEBUG on. See the README for the production variables.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off salonconsent refuses to start without one: "
            "set SECRET_KEY to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = "insecure-demo-key-only-for-debug-never-in-production"  # noqa: S105

# The key of the erasure suppression list's HMAC (SPEC §7). Set it explicitly in production: derived
# from SECRET_KEY, rotating SECRET_KEY would silently empty the suppression list.
SUPPRESSION_HMAC_KEY = env.str("SUPPRESSION_HMAC_KEY", default="") or __import__("hmac").new(
    SECRET_KEY.encode(), b"salonconsent.clients.suppression-list", "sha256"
).hexdigest()

# The Ed25519 key the register's checkpoints are signed with (consents.checkpoints): base64 of its 32-byte
# seed. Required with DEBUG off; the demo makes one under var/ on first start.
REGISTER_SIGNING_KEY = env.str("REGISTER_SIGNING_KEY", default="")
if not REGISTER_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "REGISTER_SIGNING_KEY is not set. With DEBUG off salonconsent refuses to start without the key "
            "its register checkpoints are signed with: set it to a new Ed25519 seed, e.g. the output of "
            "`python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`, and keep it "
            "with the other secrets (clients and auditors check checkpoints against its public key)."
        )
    _demo_signing_key = VAR_DIR / "register-signing.key"
    if not _demo_signing_key.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _demo_signing_key.write_text(__import__("base64").b64encode(__import__("os").urandom(32)).decode())
    REGISTER_SIGNING_KEY = _demo_signing_key.read_text().strip()

# The key personal links' tokens are derived from (core.links): the database keeps only a nonce and the
# token's SHA-256, so nobody reading it can open a client's link. Set it explicitly in production:
# derived from SECRET_KEY, rotating SECRET_KEY would make unsent links unsendable (links already sent work on).
LINK_TOKEN_KEY = env.str("LINK_TOKEN_KEY", default="") or __import__("hmac").new(
    SECRET_KEY.encode(), b"salonconsent.core.link-tokens", "sha256"
).hexdigest()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The exclusion constraint against double booking (PostgreSQL) needs it; harmless on SQLite.
    "django.contrib.postgres",
    "phonenumber_field",
    "axes",
    # The layers, bottom to top (the import contract in pyproject.toml checks them):
    "core",  # the shared vocabulary and helpers
    "salons",  # tenancy
    "clients",  # records: the address book, the agenda, the catalogue, the register, credits, the outbox
    "appointments",
    "booking",
    "consents",
    "credits",
    "messaging",
    "campaigns",
    "outreach",  # use cases that reach clients
    "rights",  # use cases of the client's GDPR rights
    "desk",  # the salon's desk: the staff admin, dashboard, demo
]

MIDDLEWARE = [
    "salonconsent.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "salons.middleware.SalonTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salonconsent.urls"
WSGI_APPLICATION = "salonconsent.wsgi.application"

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
                "desk.context_processors.salon_credits",
            ],
        },
    },
    {
        # Plain-text message bodies (SMS, text email): no HTML escaping of names like "Rossi & Figli".
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {"autoescape": False},
    },
]

# Database: embedded SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'salonconsent.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent appends to the
    # consent register queue up instead of failing half-way; WAL lets the demo read meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: the client side ships these five languages.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("it", _("Italian")),
    ("fr", _("French")),
    ("de", _("German")),
    ("fi", _("Finnish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["salonconsent.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="IT")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG  # the demo serves static files without collectstatic
if DEBUG:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Cache: per-process memory for the demo; Redis in production so rate limits hold across workers.
CACHE_URL = env.str("CACHE_URL", default=env.str("REDIS_URL", default=""))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Public base URL used in links sent by SMS and email (consent form, preference page).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # A Redis restart loses queued tasks, never messages: the sweeper re-enqueues pending rows.
    "sweep-outbox": {"task": "messaging.tasks.sweep_outbox_task", "schedule": 60.0},
    # Idempotent through the outbox's dedupe keys: two beat nodes running it send each reminder once.
    "send-reminders": {"task": "outreach.tasks.send_reminders_task", "schedule": 600.0},
    "mark-dormant": {"task": "outreach.tasks.mark_dormant_task", "schedule": 86400.0},
    "purge": {"task": "rights.tasks.purge_task", "schedule": 86400.0},
    "checkpoint-registers": {"task": "rights.tasks.checkpoint_registers_task", "schedule": 86400.0},
}

# Messaging providers. SMS_BACKEND: console (demo), locmem (tests) or twilio.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")  # empty: the real api.twilio.com
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10.0)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="salonconsent <noreply@localhost>")
ANYMAIL = {
    key: value
    for key, value in {
        "POSTMARK_SERVER_TOKEN": env.str("POSTMARK_SERVER_TOKEN", default=""),
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
    }.items()
    if value
}
ANYMAIL["REQUESTS_TIMEOUT"] = env.float("ANYMAIL_REQUESTS_TIMEOUT", default=10.0)

# Security: strict by default in production, each overridable.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "outreach.views.consent.csrf_failure"
X_FRAME_OPTIONS = "DENY"

# Login throttling (django-axes): a username is locked only from the address that kept failing, so a
# guesser elsewhere cannot lock the receptionist out and colleagues on the salon's IP still log in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_VERBOSE = False  # no banner on every manage.py command
if BEHIND_PROXY:
    # The client is the address our proxy appended to X-Forwarded-For, counted from the right past
    # AXES_IPWARE_PROXY_COUNT further proxies (0 with a single proxy); entries a client forged on the
    # left are ignored, however many there are (IPWARE_STRICT off: a longer chain is not refused).
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0)
    IPWARE_STRICT = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
