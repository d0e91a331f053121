"""Consent form throughput: GET and POST /c/<token>/ under gunicorn, against a bare Django view.

Not a test: it prints figures. In the same run, under the same gunicorn (2 sync workers), settings,
middleware and load, it measures the machine's own ceiling, a bare Django view that returns
HttpResponse("ok"), then the consent form's GET and POST, and prints the ratios (SPEC §10 target:
>= 0.8 x the bare view's requests/s).

    .venv/bin/python bench/consent_form.py [--duration 10] [--warmup 2] [--clients 2000] [--concurrency 4]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres); it creates and drops the database
`salonconsent_formbench`. Celery is eager (no broker), SMS and email go to the in-memory `locmem`
backends, so a POST pays for the whole real path: the register entries, the receipt written to the
outbox, its charge and its (fake) delivery.

The bare view needs a URL the app does not have, so gunicorn serves this file's `wsgi_app()`: the
project's own settings and WSGI handler, with a URLconf that adds `/bench-bare/` in front of the
project's URLs. Nothing in the app changes. The same factory raises the consent views' POST rate
limits (30 per IP, 10 per token in 10 minutes, and every request here comes from 127.0.0.1) so the
limiter still runs (its cache add/incr on the default per-process locmem cache) but never refuses.
The load comes from separate client processes on loopback, plain http.client, each request timed.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import re
import tempfile
import time
from urllib.parse import urlencode

from common import BARE_PATH, django_env, fresh_project, gunicorn, psql, wsgi_with_bare_view

DB_NAME = "salonconsent_formbench"
ENV = django_env(DB_NAME, SMS_BACKEND="locmem", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                 ALLOWED_HOSTS="127.0.0.1")
NO_BROKER = ("CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")  # Celery eager: no broker at all
BOXES = ["data_processing", "service_sms", "service_email", "marketing_sms", "marketing_email", "personalised"]
LANGUAGE = "it"


# --- the server side: imported by gunicorn as `consent_form:wsgi_app()` ---------------------------


def wsgi_app():
    """The project's WSGI application, plus `/bench-bare/` and no effective POST rate limit."""
    import django

    django.setup(set_prefix=False)

    from outreach.views import consent as views

    views.POSTS_PER_IP = views.POSTS_PER_TOKEN = 10**9
    return wsgi_with_bare_view("bench_consent_form_urls")


# --- set-up ------------------------------------------------------------------------------------


def bench_env(static_root: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in NO_BROKER}
    return {**env, **ENV, "STATIC_ROOT": static_root}


def prepare(clients: int, env: dict) -> list[str]:
    """Create and migrate the database, seed one salon with `clients` clients and a request link each."""
    fresh_project(DB_NAME, env, collectstatic=True)
    from clients.models import Client
    from consents.links import new_link
    from consents.models import ConsentLink
    from outreach.credits import top_up
    from salons.models import Salon

    salon = Salon.objects.create(name="Bench Salon", slug="bench", sms_sender_id="Bench", language=LANGUAGE,
                                 phone_region="IT", time_zone="Europe/Rome")
    top_up(salon=salon, amount=10_000_000, note="bench")  # every receipt is charged
    Client.objects.bulk_create(
        (Client(salon=salon, first_name=f"Client{i}", phone=f"+39333{i:07d}", email=f"client{i}@example.com",
                language=LANGUAGE) for i in range(clients)),
        batch_size=5000,
    )
    tokens = [new_link(client=client, kind=ConsentLink.Kind.REQUEST, channel="sms")[1]
              for client in Client.objects.filter(salon=salon).select_related("salon")]
    from django.db import connections

    connections.close_all()
    return tokens


# --- the load: one plain http.client loop per client process ----------------------------------

def _form_values(conn, token: str) -> dict:
    """What a browser takes from a GET of the form: the CSRF cookie and token, the signed `shown`."""
    conn.request("GET", f"/c/{token}/")
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200, response.status
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    return {
        "cookie": f"csrftoken={cookie}",
        "csrf": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1),
        "shown": re.search(r'name="shown" value="([^"]+)"', page).group(1),
    }


def _client(args) -> dict:
    """Send requests back to back until `end`; keep the latencies of those that finish in [start, end)."""
    port, mode, tokens, start, end, seed = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    form = _form_values(conn, tokens[0]) if mode == "post" else None
    last = {}  # token -> the boxes it last saved: each POST changes something, so entries are written
    latencies, errors, cpu_start = [], {}, None
    expected = {"bare": 200, "get": 200, "post": 302}[mode]
    i = rng.randrange(len(tokens))
    while True:
        token = tokens[i % len(tokens)]
        i += 1
        if mode == "bare":
            method, url, body, headers = "GET", BARE_PATH, None, {}
        elif mode == "get":
            method, url, body, headers = "GET", f"/c/{token}/", None, {}
        else:
            ticked = last.get(token)
            while ticked == last.get(token):
                ticked = frozenset(box for box in BOXES if rng.random() < 0.5)
            last[token] = ticked
            body = urlencode({"csrfmiddlewaretoken": form["csrf"], "shown": form["shown"], "lang": LANGUAGE,
                              **dict.fromkeys(sorted(ticked), "on")})
            method, url = "POST", f"/c/{token}/?lang={LANGUAGE}"
            headers = {"Cookie": form["cookie"], "Content-Type": "application/x-www-form-urlencoded"}
        began = time.time()
        if cpu_start is None and began >= start:
            cpu_start = time.process_time()
        conn.request(method, url, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        done = time.time()
        if done >= end:
            break
        if began >= start:
            latencies.append(done - began)
            if response.status != expected:
                errors[response.status] = errors.get(response.status, 0) + 1
    cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
    conn.close()
    return {"latencies": latencies, "errors": errors, "cpu": cpu}


def measure(pool, port: int, mode: str, tokens: list[str], concurrency: int, warmup: float, duration: float) -> dict:
    start = time.time() + 0.5 + warmup  # 0.5 s for the client processes to get going
    end = start + duration
    # Disjoint token slices per client process: no two clients post the same link at once.
    jobs = [(port, mode, tokens[n::concurrency], start, end, n) for n in range(concurrency)]
    results = pool.map(_client, jobs)
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = {}
    for result in results:
        for status, count in result["errors"].items():
            errors[status] = errors.get(status, 0) + count
    return {
        "rps": len(latencies) / duration,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
        "requests": len(latencies),
        "errors": errors,
        "client_cpu": sum(r["cpu"] for r in results) / duration,
    }


def register_counts() -> tuple[int, dict]:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}") as conn:
        events = conn.execute("SELECT count(*) FROM consents_consentevent WHERE source = 'form_link'").fetchone()[0]
        receipts = dict(conn.execute(
            "SELECT status, count(*) FROM messaging_message WHERE kind = 'consent_receipt' GROUP BY status"
        ).fetchall())
    return events, receipts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load before each")
    parser.add_argument("--clients", type=int, default=2000, help="clients seeded, each with a request link")
    parser.add_argument("--concurrency", type=int, default=4, help="load generator processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    print(f"preparing {args.clients} clients with request links in {DB_NAME} …", flush=True)
    with tempfile.TemporaryDirectory(prefix="formbench-static-") as static_root:
        env = bench_env(static_root)
        tokens = prepare(args.clients, env)
        random.Random(0).shuffle(tokens)
        try:
            with (gunicorn("consent_form:wsgi_app()", env, args.workers) as port,
                  multiprocessing.Pool(args.concurrency) as pool):
                figures = {}
                for mode in ("bare", "get", "post"):
                    print(f"measuring {mode} for {args.duration:g} s …", flush=True)
                    figures[mode] = measure(pool, port, mode, tokens, args.concurrency, args.warmup, args.duration)
            events, receipts = register_counts()
        finally:
            psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    print(f"machine: {os.cpu_count()} cores; gunicorn {args.workers} sync workers; {args.concurrency} client "
          f"processes on loopback (the same machine); {args.duration:g} s per scenario after {args.warmup:g} s warm-up")
    labels = {"bare": "bare Django view (ceiling)", "get": "consent form GET", "post": "consent form POST"}
    for mode, label in labels.items():
        f = figures[mode]
        errors = ", ".join(f"{count} × HTTP {status}" for status, count in sorted(f["errors"].items())) or "none"
        print(f"{label:27} {f['rps']:7,.0f} requests/s   p50 {f['p50']:6.1f} ms   p95 {f['p95']:6.1f} ms   "
              f"unexpected statuses: {errors}; load generator used {f['client_cpu']:.2f} cores")
    print(f"POST wrote {events:,} register entries; receipts: "
          + ", ".join(f"{count:,} {status}" for status, count in sorted(receipts.items())))
    for mode in ("get", "post"):
        ratio = figures[mode]["rps"] / figures["bare"]["rps"]
        print(f"ratio {mode.upper():4} / bare: {ratio:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
