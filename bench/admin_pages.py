"""Admin address book latency with 100,000 clients: the clients changelist under gunicorn, against a bare view.

Not a test: it prints figures. One salon with 100,000 clients and ~200,000 current consents (each
with its register entry, hash chain and all), a staff member logged in, and a gunicorn server
(2 sync workers) serving the project with `/bench-bare/` added. From a second process, one request
at a time, it times N GETs of each page: the bare Django view (the machine's own ceiling, same
server, settings and middleware), the first page of the address book, page 500, a search
(`?q=Rossi`) and a filter (`?lifecycle__exact=client`). It prints p50/p95 per page and whether p95
stays under 300 ms (SPEC §10), then where each page's database time goes (the slowest queries, with
PostgreSQL's EXPLAIN ANALYZE of the slowest one).

    .venv/bin/python bench/admin_pages.py [--clients 100000] [--requests 200] [--workers 2]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres); it creates and drops the database
`salonconsent_adminbench`. The session is made in-process with Django's test Client.force_login and
its cookie sent by the load process, so the bench never goes through the (throttled) login form.
"""

import argparse
import http.client
import multiprocessing
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import BARE_PATH, django_env, fresh_project, gunicorn, psql, wsgi_with_bare_view

DB_NAME = "salonconsent_adminbench"
ENV = django_env(DB_NAME, ALLOWED_HOSTS="127.0.0.1,testserver", SESSION_COOKIE_SECURE="false")
NO_BROKER = ("CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")
CHANGELIST = "/admin/clients/client/"


def pages(clients: int) -> dict[str, str]:
    """The pages timed; page 500 of the address book (50 a page) when there are that many."""
    page = min(500, max(1, clients // 100))
    return {
        "bare Django view (ceiling)": BARE_PATH,
        "clients, first page": CHANGELIST,
        f"clients, page {page}": CHANGELIST + f"?p={page}",
        "clients, search Rossi": CHANGELIST + "?q=Rossi",
        "clients, filter lifecycle": CHANGELIST + "?lifecycle__exact=client",
    }

TARGET_P95_MS = 300
SURNAMES = ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
            "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
            "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
            "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo",
            "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso",
            "Valentini"]
FIRST_NAMES = ["Anna", "Giulia", "Sofia", "Marco", "Luca", "Chiara", "Sara", "Paolo", "Elena", "Francesca"]
LIFECYCLES = ["client"] * 6 + ["prospect"] * 3 + ["dormant"]


# --- the server side: imported by gunicorn as `admin_pages:wsgi_app()` -----------------------------


def wsgi_app():
    """The project's WSGI application with `/bench-bare/` in front of the project's URLs."""

    import django

    django.setup(set_prefix=False)

    return wsgi_with_bare_view("bench_admin_pages_urls")


# --- set-up ------------------------------------------------------------------------------------


def bench_env(static_root: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in NO_BROKER}
    return {**env, **ENV, "STATIC_ROOT": static_root}


def seed_register(salon, clients: list[int]) -> int:
    """Register entries and current states, bulk: data processing for all, service and marketing SMS for half.

    Written straight into the tables (the register's triggers refuse only UPDATE and DELETE), with
    the same sequence numbers and hash chain `record_consent` would have written.
    """
    from consents.chain import GENESIS_HASH, entry_hash
    from consents.models import ConsentEvent, ConsentState, Source
    from consents.selectors import current_wordings

    wordings = current_wordings(salon=salon, language="it")
    changes = []  # (client_id, purpose, channel, action)
    for n, client_id in enumerate(clients):
        changes.append((client_id, "data_processing", "", "withdrawn" if n % 7 == 0 else "granted"))
        if n % 2:
            changes.append((client_id, "service", "sms", "granted"))
            changes.append((client_id, "marketing", "sms", "withdrawn" if n % 3 == 0 else "granted"))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    prev_hash, written = GENESIS_HASH, 0
    for batch_start in range(0, len(changes), 5000):
        events = []
        for seq, (client_id, purpose, channel, action) in enumerate(changes[batch_start:batch_start + 5000],
                                                                    start=batch_start + 1):
            wording = wordings[purpose] if action == "granted" else None
            fields = {
                "prev_hash": prev_hash, "seq": seq, "salon_id": salon.pk, "client_id": client_id,
                "purpose": purpose, "channel": channel, "action": action,
                "occurred_at": start + timedelta(seconds=seq), "recorded_at": start + timedelta(seconds=seq),
                "wording_id": wording.pk if wording else None, "wording_sha256": wording.sha256 if wording else "",
                "source": Source.FORM_LINK, "actor_id": None, "ip": "", "user_agent": "bench", "request_id": "",
                "note": "",
            }
            prev_hash = entry_hash(**fields)
            events.append(ConsentEvent(**fields, entry_hash=prev_hash))
        ConsentEvent.objects.bulk_create(events)
        ConsentState.objects.bulk_create(
            ConsentState(salon_id=salon.pk, client_id=e.client_id, purpose=e.purpose, channel=e.channel,
                         action=e.action, occurred_at=e.occurred_at, event_id=e.pk)
            for e in events
        )
        written += len(events)
    return written


def prepare(clients: int, env: dict) -> str:
    """Create and migrate the database, seed the salon; returns a logged-in staff member's session key."""
    fresh_project(DB_NAME, env, collectstatic=True)
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test import Client as BrowserClient

    from clients.models import Client
    from outreach.credits import top_up
    from salons.models import Membership, Salon

    salon = Salon.objects.create(name="Bench Salon", slug="bench", sms_sender_id="Bench", language="it",
                                 phone_region="IT", time_zone="Europe/Rome")
    top_up(salon=salon, amount=10_000, note="bench")
    started = time.perf_counter()
    Client.objects.bulk_create(
        (Client(salon=salon, first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                last_name=SURNAMES[(i * 7919) % len(SURNAMES)], phone=f"+39333{i:07d}",
                email=f"client{i}@example.com", language="it", lifecycle=LIFECYCLES[i % len(LIFECYCLES)])
         for i in range(clients)),
        batch_size=5000,
    )
    ids = list(Client.objects.filter(salon=salon).order_by("pk").values_list("pk", flat=True))
    states = seed_register(salon, ids)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {clients:,} clients and {states:,} consents (register entries and current states) "
          f"in {time.perf_counter() - started:.0f} s", flush=True)

    staff = get_user_model().objects.create_user("bench-staff", password=None, is_staff=True)
    Membership.objects.create(salon=salon, user=staff, role=Membership.Role.STAFF)
    browser = BrowserClient()
    browser.force_login(staff)
    session_key = browser.cookies["sessionid"].value
    connections.close_all()
    return session_key


# --- the load: one process, one request at a time ----------------------------------------------

def time_pages(args) -> dict:
    """For each page: `warmup` untimed GETs, then `requests` timed ones, back to back on one connection."""
    port, session_key, pages_to_time, requests, warmup = args
    headers = {"Cookie": f"sessionid={session_key}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    results = {}
    for label, url in pages_to_time.items():
        latencies, statuses, size = [], {}, 0
        for n in range(warmup + requests):
            began = time.perf_counter()
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - began
            if n >= warmup:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                size = len(body)
        latencies.sort()
        results[label] = {
            "p50": latencies[len(latencies) // 2] * 1000,
            "p95": latencies[int(len(latencies) * 0.95)] * 1000,
            "statuses": statuses,
            "bytes": size,
        }
    conn.close()
    return results


# --- where the time goes -----------------------------------------------------------------------

def explain(session_key: str, pages_to_explain: dict[str, str]) -> list[str]:
    """Each changelist page requested in-process: its query count, total and slowest queries; EXPLAIN ANALYZE."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client as BrowserClient
    from django.test.utils import CaptureQueriesContext

    browser = BrowserClient()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session_key
    lines = []
    for label, url in pages_to_explain.items():
        if url == BARE_PATH:
            continue
        browser.get(url)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = sorted(captured.captured_queries, key=lambda q: float(q["time"]), reverse=True)
        total = sum(float(q["time"]) for q in queries) * 1000
        counts = [float(q["time"]) * 1000 for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
        lines.append(f"{label}: {len(queries)} queries, {total:.0f} ms in the database, of which {len(counts)} "
                     f"COUNT(*) taking {sum(counts):.0f} ms; slowest:")
        for query in queries[:3]:
            lines.append(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + queries[0]["sql"])
            lines.extend("        | " + row[0] for row in cursor.fetchall())
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed GETs per page")
    parser.add_argument("--warmup", type=int, default=10, help="untimed GETs per page before timing")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    print(f"preparing {args.clients:,} clients in {DB_NAME} …", flush=True)
    with tempfile.TemporaryDirectory(prefix="adminbench-static-") as static_root:
        env = bench_env(static_root)
        try:
            session_key = prepare(args.clients, env)
            with gunicorn("admin_pages:wsgi_app()", env, args.workers) as port, multiprocessing.Pool(1) as pool:
                print(f"timing {args.requests} GETs per page …", flush=True)
                figures = pool.apply(time_pages, [(port, session_key, pages(args.clients), args.requests,
                                                   args.warmup)])
            diagnosis = explain(session_key, pages(args.clients))
            from django.db import connections

            connections.close_all()
        finally:
            psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    print(f"machine: {os.cpu_count()} cores; gunicorn {args.workers} sync workers; one load process on loopback, "
          f"one request at a time; {args.requests} timed GETs per page after {args.warmup} warm-up GETs")
    for label, f in figures.items():
        statuses = ", ".join(f"{count} × HTTP {status}" for status, count in sorted(f["statuses"].items()))
        verdict = "" if label.startswith("bare") else (
            f"  p95 < {TARGET_P95_MS} ms: {'yes' if f['p95'] < TARGET_P95_MS else 'NO'}")
        print(f"{label:28} p50 {f['p50']:7.1f} ms   p95 {f['p95']:7.1f} ms   {f['bytes'] / 1024:5.0f} KiB   "
              f"({statuses}){verdict}")
    print("where the time goes (in-process, same database):")
    print("\n".join(diagnosis))


if __name__ == "__main__":
    main()
