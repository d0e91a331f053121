"""Settings: the embedded default with no environment, production switches, a clear SECRET_KEY error."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
from django.conf import settings
import django
django.setup()
from salonconsent.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "debug": settings.DEBUG,
    "sms": settings.SMS_BACKEND,
    "email": settings.EMAIL_BACKEND,
}))
"""


KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # a test-only Ed25519 seed (32 zero bytes)

def run_settings(env):
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "salonconsent.settings", **env},
    )


def test_no_environment_gives_the_embedded_demo():
    result = run_settings({})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["name"].endswith("var/salonconsent.sqlite3")
    assert seen["eager"] is True
    assert seen["debug"] is True
    assert seen["sms"] == "console"
    assert seen["email"].endswith("console.EmailBackend")


def test_environment_switches_to_production_services():
    result = run_settings({
        "DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "salon.example.com", "REGISTER_SIGNING_KEY": KEY,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/salonconsent",
        "REDIS_URL": "redis://127.0.0.1:6379/3", "SMS_BACKEND": "twilio",
    })
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["eager"] is False
    assert seen["broker"] == "redis://127.0.0.1:6379/3"
    assert seen["debug"] is False
    assert seen["sms"] == "twilio"


def test_debug_off_without_the_checkpoint_signing_key_refuses_to_start():
    result = run_settings({"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "salon.example.com"})
    assert result.returncode != 0
    assert "REGISTER_SIGNING_KEY is not set" in result.stderr


def test_debug_off_without_secret_key_is_a_clear_error():
    result = run_settings({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "false", "SECRET_KEY": "k3y-" + "a8Zq9" * 12,
             "ALLOWED_HOSTS": "salon.example.com", "SECURE_HSTS_PRELOAD": "true", "REGISTER_SIGNING_KEY": KEY},
    )
    assert result.returncode == 0, result.stdout + result.stderr
