"""What the HTTP benchmarks share: a scratch PostgreSQL database, a gunicorn server of the project
with a bare reference view in front of its URLs, and a free port."""

import http.client
import os
import socket
import subprocess
import sys
import time
import types
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_PATH = "/bench-bare/"


def django_env(db_name: str, **extra: str) -> dict:
    """The environment every benchmark's Django runs with: production settings (DEBUG off) on `db_name`,
    bench-only secrets, quiet logs; `extra` adds or overrides variables."""
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key",
        "REGISTER_SIGNING_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # bench only
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "salonconsent.settings",
        **extra,
    }


def psql(sql: str) -> None:
    """Run one statement on the server's `postgres` database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(sql)


def fresh_project(db_name: str, env: dict, *, collectstatic: bool = False) -> None:
    """Drop and create `db_name`, migrate it and set Django up in this process with `env` (which names it).

    `collectstatic` for benchmarks that serve pages with DEBUG off: pages name their static files through
    the manifest, and a file missing from it is a 500.
    """
    psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
    psql(f"CREATE DATABASE {db_name}")
    commands = [["migrate", "-v0"]] + ([["collectstatic", "--noinput", "-v0"]] if collectstatic else [])
    for command in commands:
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bare_view(request):
    """The reference: the cheapest Django view, through the same server, settings and middleware."""
    from django.http import HttpResponse

    return HttpResponse("ok")


def wsgi_with_bare_view(name: str):
    """The project's WSGI application with `/bench-bare/` in front of the project's URLs."""
    import django
    from django.conf import settings

    django.setup(set_prefix=False)
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import include, path

    urls = types.ModuleType(name)
    urls.urlpatterns = [path(BARE_PATH.strip("/") + "/", bare_view), path("", include(settings.ROOT_URLCONF))]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    return WSGIHandler()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, workers: int):
    """Serve `app` (a bench module's "module:callable()") with sync workers; yields the port once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--pythonpath", str(ROOT / "bench"),
         "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "1",
         "--worker-class", "sync", "--log-level", "warning"],
        env=env,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", BARE_PATH)
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not come up")
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
