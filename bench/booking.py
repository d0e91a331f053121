"""Online booking under load: the slot listing and the booking POST under gunicorn, against a bare Django view.

Not a test: it prints figures. One salon with 10 staff members who all perform the service offered
(a 30-minute cut, slots every 15 minutes, open Monday to Saturday 9–13 and 14–19, 60-day horizon)
and 5,000 booked appointments of 30–60 minutes spread over those 60 days (about ten a day per staff
member: the agenda is some three quarters full), served by gunicorn (2 sync workers) with
`/bench-bare/` added. In the same
run, under the same server, settings, middleware and load, from separate client processes on
loopback, it times a fixed number of requests of each, in interleaved rounds (bare, slots, form,
POST, bare, …) so that other work on the machine weighs on every scenario alike:

- the bare Django view that returns HttpResponse("ok") (the machine's own ceiling);
- the slot listing `/b/<salon>/<service>/?lang=en&from=D&day=D` for a random day D of the horizon,
  "anyone available" (the page computes the free times of the 7 days it shows for all 10 people);
- the booking form `/b/<salon>/<service>/book/?lang=en&at=…&staff=…` (it checks the time is still free);
- the booking POST to that form, each POST a different free slot (time and staff member, worked
  out before the load from the seeded agenda, never two overlapping for one person), so every POST
  books: 302 to the done page (not followed). Half come from new clients, half from seeded ones;
  each ticks a random set of consent boxes.

It prints requests/s, p50 and p95 of each and their ratio to the bare view, checks that the database
holds exactly one online appointment per 302 and no overlap, then where the time goes: queries,
database time and total time per page in-process (median of 5, the eager confirmation apart), the
slot computation's own Python time, and EXPLAIN ANALYZE of the agenda query the slot pages run.

    .venv/bin/python bench/booking.py [--requests 600] [--bare-requests 2000] [--posts 300]
                                      [--rounds 3] [--concurrency 4] [--workers 2] [--history 0]

`--history N` adds N "done" appointments before today (ten a day per person), a salon's past.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres); it creates and drops the database
`salonconsent_bookingbench`. Celery is eager (no broker), SMS and email go to the in-memory `locmem`
backends, so a POST pays for the whole real path: client, appointment, register entries, manage
link and the confirmation through the outbox (charged and sent to the fake provider when allowed).

Rate limits (20 booking POSTs per IP and 5 per phone number an hour) stay as they are: the server
runs with BEHIND_PROXY=true, as behind the production proxy, and each POST carries its own
X-Forwarded-For address and phone number, so the limiter does its cache add/incr (the default
per-process locmem cache) for every POST and never refuses one. Nothing in the app changes.

This file's name is the app's: whatever imports it as `booking` with bench/ first on sys.path
(gunicorn here) must give the name back to the app, which `wsgi_app()` does.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from common import BARE_PATH, ROOT, django_env, fresh_project, gunicorn, psql, wsgi_with_bare_view

DB_NAME = "salonconsent_bookingbench"
# BEHIND_PROXY: the client address is the last X-Forwarded-For entry, as behind our proxy.
ENV = django_env(DB_NAME, SMS_BACKEND="locmem", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                 ALLOWED_HOSTS="127.0.0.1,testserver", BEHIND_PROXY="true")
# Celery eager (no broker at all); the cache is the default per-process locmem one.
NO_BROKER = ("CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "CACHE_URL")
SLUG = "bench"
LANGUAGE = "en"
TIME_ZONE = "Europe/Rome"
STAFF = 10
APPOINTMENTS = 5000
SEEDED_CLIENTS = 3000
SERVICE_MINUTES = 30
SEEDED_MINUTES = [30, 45, 60]  # what the seeded appointments last
DAY_START, DAY_END = 9 * 60, 19 * 60  # the seeded agenda's day, in minutes (lunch 13–14 may be booked by the desk)
OPENING = [((9, 0), (13, 0)), ((14, 0), (19, 0))]  # Monday to Saturday; closed on Sunday
BOXES = ["data_processing", "service_sms", "service_email", "marketing_sms", "marketing_email", "personalised"]
AT_FORMAT = "%Y-%m-%dT%H:%MZ"
RESERVED = 6  # free slots kept out of the load for the in-process diagnosis (one round to warm up)
MODES = {
    "bare": "bare Django view (ceiling)",
    "slots": "slot listing GET",
    "form": "booking form GET",
    "post": "booking POST",
}
EXPECTED = {"bare": 200, "slots": 200, "form": 200, "post": 302}


# --- the server side: imported by gunicorn as `booking:wsgi_app()` --------------------------------


def wsgi_app():
    """The project's WSGI application with `/bench-bare/` in front of the project's URLs.

    gunicorn imports this file as `booking` (bench/ first on sys.path), the name of the app it
    benchmarks: hand the name back to the app before Django imports `booking.urls` and the rest.
    """
    import django

    bench_dir = str(ROOT / "bench")
    if getattr(sys.modules.get("booking"), "wsgi_app", None) is wsgi_app:
        sys.modules["bench_booking"] = sys.modules.pop("booking")
    sys.path[:] = [str(ROOT), *(p for p in sys.path if p not in (str(ROOT), bench_dir)), bench_dir]

    django.setup(set_prefix=False)
    return wsgi_with_bare_view("bench_booking_urls")


# --- set-up ------------------------------------------------------------------------------------


def bench_env(static_root: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in NO_BROKER}
    return {**env, **ENV, "STATIC_ROOT": static_root}


def seed_agenda(
    rng: random.Random,
    total: int,
    days: list,
    staff_ids: list[int],
    client_ids: list[int],
    *,
    salon_id: int,
    status: str,
    tz,
) -> list:
    """`total` appointments over `days` for `staff_ids`, never two overlapping for one person.

    Every (person, day) gets its share (the remainder spread over the first ones); each day's
    appointments are laid out from 9:00 to 19:00 with random gaps in steps of 15 minutes.
    """
    from appointments.models import Appointment

    pairs = [(staff_id, day) for day in days for staff_id in staff_ids]
    share, extra = divmod(total, len(pairs))
    appointments = []
    for n, (staff_id, day) in enumerate(pairs):
        count = share + (n < extra)
        durations = [rng.choice(SEEDED_MINUTES) for _ in range(count)]
        while sum(durations) > DAY_END - DAY_START:
            durations[durations.index(max(durations))] -= 15
        units = (DAY_END - DAY_START - sum(durations)) // 15
        cuts = sorted(rng.randint(0, units) for _ in range(count))
        gaps = [b - a for a, b in zip([0, *cuts], cuts, strict=False)]
        minute = DAY_START
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        for gap, duration in zip(gaps, durations, strict=True):
            minute += gap * 15
            starts_at = (midnight + timedelta(minutes=minute)).astimezone(UTC)
            appointments.append(
                Appointment(
                    salon_id=salon_id,
                    client_id=rng.choice(client_ids),
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=duration),
                    service="Taglio",
                    staff_member_id=staff_id,
                    status=status,
                )
            )
            minute += duration
    return appointments


def free_targets(salon, service, days: list, rng: random.Random) -> list[tuple[str, int]]:
    """(at, staff id) of free slots, none overlapping another for the same person: every one can be booked."""
    from booking.selectors import slots_for_days

    by_day = slots_for_days(salon=salon, service=service, days=days)
    taken_until: dict[int, datetime] = {}
    targets = []
    for day in days:
        for slot in by_day[day]:
            for staff_id in slot.staff_ids_free:
                if taken_until.get(staff_id, slot.start) <= slot.start:
                    taken_until[staff_id] = slot.end
                    targets.append((slot.start.strftime(AT_FORMAT), staff_id))
    rng.shuffle(targets)
    return targets


def prepare(env: dict, rng: random.Random, history: int) -> dict:
    """Create and migrate the database, seed the salon, its catalogue and agenda; work out the free slots."""
    fresh_project(DB_NAME, env, collectstatic=True)  # the booking pages load static/booking/embed.js
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.utils import timezone

    from appointments.models import Appointment
    from booking.models import BookingSettings, OpeningHours, Service
    from clients.models import Client
    from outreach.credits import top_up
    from salons.models import Membership, Salon

    started = time.perf_counter()
    salon = Salon.objects.create(
        name="Bench Salon",
        slug=SLUG,
        sms_sender_id="Bench",
        language="it",
        phone_region="IT",
        time_zone=TIME_ZONE,
    )
    top_up(salon=salon, amount=10_000_000, note="bench")  # every confirmation is charged
    booking = BookingSettings.objects.create(salon=salon, enabled=True)
    OpeningHours.objects.bulk_create(
        OpeningHours(salon=salon, weekday=weekday, opens=dt_time(*opens), closes=dt_time(*closes))
        for weekday in range(6)
        for opens, closes in OPENING
    )
    users = get_user_model().objects
    staff = [users.create_user(f"stylist{n}", first_name=f"Stylist {n}", password=None) for n in range(STAFF)]
    Membership.objects.bulk_create(Membership(salon=salon, user=user, role=Membership.Role.STAFF) for user in staff)
    service = Service.objects.create(
        salon=salon, names={"it": "Taglio", "en": "Cut"}, duration_minutes=SERVICE_MINUTES, price_display="€35"
    )
    service.staff.set(staff)
    Client.objects.bulk_create(
        (
            Client(
                salon=salon,
                first_name=f"Client{i}",
                last_name="Rossi",
                phone=f"+39333{i:07d}",
                email=f"client{i}@example.com",
                language="it",
            )
            for i in range(SEEDED_CLIENTS)
        ),
        batch_size=5000,
    )
    client_ids = list(Client.objects.filter(salon=salon).order_by("pk").values_list("pk", flat=True))

    tz = ZoneInfo(TIME_ZONE)
    today = timezone.now().astimezone(tz).date()
    horizon = [today + timedelta(days=n) for n in range(booking.horizon_days)]
    open_days = [day for day in horizon if day.weekday() < 6]
    staff_ids = [user.pk for user in staff]
    appointments = seed_agenda(
        rng, APPOINTMENTS, open_days, staff_ids, client_ids, salon_id=salon.pk, status="booked", tz=tz
    )
    Appointment.objects.bulk_create(appointments, batch_size=1000)
    past = []
    if history:  # the salon's past: done appointments, ten a day per person, before today
        back = [today - timedelta(days=n) for n in range(1, 7 * (history // (STAFF * 10 * 6) + 1) + 1)]
        past_days = sorted(day for day in back if day.weekday() < 6)
        past = seed_agenda(rng, history, past_days, staff_ids, client_ids, salon_id=salon.pk, status="done", tz=tz)
        Appointment.objects.bulk_create(past, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # From tomorrow: today's slots run out as the clock passes the minimum notice during the run.
    targets = free_targets(salon, service, horizon[1:], rng)
    seeded_ms = (time.perf_counter() - started) * 1000
    print(
        f"seeded {len(staff)} staff, {len(appointments):,} booked appointments over {len(open_days)} open days "
        f"({today} + {booking.horizon_days} days), {len(past):,} done ones before, {len(client_ids):,} clients "
        f"in {seeded_ms / 1000:.1f} s; "
        f"{len(targets):,} bookable non-overlapping (time, staff member) slots left",
        flush=True,
    )
    connections.close_all()
    return {
        "service_id": service.pk,
        "staff_ids": [user.pk for user in staff],
        "targets": targets,
        "days": [day.isoformat() for day in horizon],
        "seeded_phones": [f"+39333{i:07d}" for i in range(SEEDED_CLIENTS)],
    }


# --- the load: one plain http.client loop per client process ----------------------------------

_barrier = None


def _init(barrier):
    global _barrier  # one per pool process, handed over when it starts
    _barrier = barrier


def signed_fields(page: str) -> dict:
    """The booking form's signed hidden fields: the one-time page stamp and the wordings shown."""
    return {name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1) for name in ("form_token", "shown")}


def _form_values(conn, url: str) -> dict:
    """What a browser takes from a GET of the booking form."""
    conn.request("GET", url)
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200, (url, response.status)
    return signed_fields(page)


def _post(item: dict, form: dict, rng: random.Random) -> tuple[str, dict]:
    ticked = [box for box in BOXES if rng.random() < 0.5]
    body = urlencode(
        {
            "at": item["at"],
            "staff": item["staff"],
            "lang": LANGUAGE,
            "form_token": form["form_token"],
            "shown": form["shown"],
            "first_name": item["first_name"],
            "last_name": "Bianchi",
            "phone": item["phone"],
            # A box ticked "by email" needs an address (the page says so otherwise), as a client gives it.
            "email": f"{item['phone'].lstrip('+')}@example.com" if any(b.endswith("_email") for b in ticked) else "",
            "language": LANGUAGE,
            "website": "",
            **dict.fromkeys(ticked, "on"),
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": item["origin"],
        "X-Forwarded-For": item["ip"],
    }
    return body, headers


def _client(args) -> dict:
    """`warmup` untimed requests, wait for the other processes, then the timed ones back to back."""
    port, mode, warmup, timed, seed = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    # A browser books from the page it was shown: each form carries a one-time stamp (a second POST of the
    # same page is a double tap and books nothing). Fetch every POST's own form first, untimed.
    forms = {id(item): _form_values(conn, item["form_url"]) for item in [*warmup, *timed]} if mode == "post" else {}
    latencies, errors, statuses = [], {}, {}
    expected = EXPECTED[mode]
    began_all = cpu_start = None
    for n, item in enumerate([*warmup, None, *timed]):
        if item is None:  # the warm-up is over
            _barrier.wait(timeout=300)
            began_all, cpu_start = time.time(), time.process_time()
            continue
        method, body, headers = "GET", None, {}
        if mode == "post":
            method, (body, headers) = "POST", _post(item, forms[id(item)], rng)
        began = time.perf_counter()
        conn.request(method, item["url"], body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - began
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if n > len(warmup):
            latencies.append(elapsed)
            if response.status != expected:
                errors[response.status] = errors.get(response.status, 0) + 1
    ended = time.time()
    conn.close()
    return {
        "latencies": latencies,
        "errors": errors,
        "statuses": statuses,
        "began": began_all,
        "ended": ended,
        "cpu": time.process_time() - cpu_start,
    }


def measure(pool, port: int, mode: str, warm: list[dict], timed: list[dict], concurrency: int) -> dict:
    """Split the items over the client processes, each doing its share of `warm` untimed, then of `timed`."""
    jobs = [(port, mode, warm[n::concurrency], timed[n::concurrency], n) for n in range(concurrency)]
    results = pool.map(_client, jobs, chunksize=1)
    return {
        "latencies": [x for r in results for x in r["latencies"]],
        "wall": max(r["ended"] for r in results) - min(r["began"] for r in results),
        "errors": [r["errors"] for r in results],
        "statuses": [r["statuses"] for r in results],
        "cpu": sum(r["cpu"] for r in results),
    }


def summarise(parts: list[dict]) -> dict:
    """One scenario over all rounds: requests/s over the time spent on it, latency percentiles, statuses."""
    latencies = sorted(x for part in parts for x in part["latencies"])
    wall = sum(part["wall"] for part in parts)
    counts = {}
    for key in ("errors", "statuses"):
        counts[key] = {}
        for part in parts:
            for per_process in part[key]:
                for status, count in per_process.items():
                    counts[key][status] = counts[key].get(status, 0) + count
    return {
        "rps": len(latencies) / wall,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
        "requests": len(latencies),
        "wall": wall,
        "per_round": [len(part["latencies"]) / part["wall"] for part in parts],
        "client_cpu": sum(part["cpu"] for part in parts) / wall,
        **counts,
    }


def workload(seeded: dict, port: int, args, rng: random.Random) -> dict:
    """The requests of each scenario, warm-up included; every POST a different free slot and phone number."""
    untimed = args.warmup * args.concurrency
    n_get = args.requests + untimed
    base = f"/b/{SLUG}/{seeded['service_id']}/"
    origin = f"http://127.0.0.1:{port}"
    listable = seeded["days"][:-6]  # a day whose 7-day strip fits in the horizon

    def form_url(at: str, staff_id: int) -> str:
        return f"{base}book/?{urlencode({'lang': LANGUAGE, 'at': at, 'staff': staff_id})}"

    slots = []
    for _ in range(n_get):
        day = rng.choice(listable)
        slots.append({"url": f"{base}?{urlencode({'lang': LANGUAGE, 'from': day, 'day': day})}"})
    targets = seeded["targets"][RESERVED:]
    forms = [{"url": form_url(*targets[n % len(targets)])} for n in range(n_get)]
    n_post = min(args.posts + untimed, len(targets))
    phones = iter(seeded["seeded_phones"])
    post_items = []
    for n, (at, staff_id) in enumerate(targets[:n_post]):
        returning = n % 2 == 0
        post_items.append(
            {
                "url": f"{base}book/?lang={LANGUAGE}",
                "form_url": form_url(at, staff_id),
                "at": at,
                "staff": staff_id,
                "phone": next(phones) if returning else f"+39347{n:07d}",
                "first_name": "Returning" if returning else f"New{n}",
                "ip": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                "origin": origin,
            }
        )
    return {
        "bare": [{"url": BARE_PATH}] * (args.bare_requests + untimed),
        "slots": slots,
        "form": forms,
        "post": post_items,
    }


def check_bookings() -> tuple[int, int, dict, int]:
    """Online appointments, overlapping pairs of one person's booked appointments, confirmations by status,
    online appointments with no confirmation at all."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}") as conn:
        online = conn.execute("SELECT count(*) FROM appointments_appointment WHERE source = 'online'").fetchone()[0]
        overlaps = conn.execute(
            "SELECT count(*) FROM appointments_appointment a JOIN appointments_appointment b "
            "ON a.staff_member_id = b.staff_member_id AND a.id < b.id "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
            "WHERE a.status = 'booked' AND b.status = 'booked'"
        ).fetchone()[0]
        messages = dict(
            conn.execute(
                "SELECT status, count(*) FROM messaging_message WHERE kind = 'appointment_confirmation' GROUP BY status"
            ).fetchall()
        )
        without = conn.execute(
            "SELECT count(*) FROM appointments_appointment a WHERE source = 'online' AND NOT EXISTS "
            "(SELECT 1 FROM messaging_message m WHERE m.appointment_id = a.id)"
        ).fetchone()[0]
    return online, overlaps, messages, without


# --- where the time goes -----------------------------------------------------------------------


class _Queries:
    """An execute wrapper: each statement's SQL and time, measured (not rounded to the millisecond)."""

    in_task = False  # set while an (eager) Celery task runs

    def __init__(self):
        self.queries: list[tuple[str, float]] = []
        self.params: list = []
        self.task_seconds: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, time.perf_counter() - started))
            self.params.append(params)
            if _Queries.in_task:
                self.task_seconds.append(self.queries[-1][1])

    @property
    def seconds(self) -> float:
        return sum(elapsed for _sql, elapsed in self.queries)


def diagnose(seeded: dict) -> list[str]:
    """One request of each page in-process (after one of each untimed): queries, database time, total time;
    the slot maths alone; EXPLAIN ANALYZE of the agenda query."""
    import logging

    from celery import signals
    from django.db import connection
    from django.test import Client as Browser

    from booking.models import Service
    from booking.selectors import slots_for_days
    from salons.models import Salon

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 409s are expected here
    task_started: list[float] = []

    def task_prerun(**_kwargs):
        _Queries.in_task = True
        task_started.append(time.perf_counter())

    def task_postrun(**_kwargs):
        _Queries.in_task = False
        task_started[-1] = time.perf_counter() - task_started[-1]

    signals.task_prerun.connect(task_prerun, weak=False)
    signals.task_postrun.connect(task_postrun, weak=False)
    base = f"/b/{SLUG}/{seeded['service_id']}/"
    day = seeded["days"][len(seeded["days"]) // 2]
    browser = Browser(HTTP_ORIGIN="http://testserver")
    addresses = (f"192.0.2.{n}" for n in range(1, 255))  # one per POST: the per-IP limit never counts here

    def form_url(at: str, staff_id: int) -> str:
        return f"{base}book/?{urlencode({'lang': LANGUAGE, 'at': at, 'staff': staff_id})}"

    def form_of(at: str, staff_id: int) -> dict:
        """The page's signed fields; each page's stamp books once, so every POST takes its own page."""
        return signed_fields(browser.get(form_url(at, staff_id)).content.decode())

    def post(at: str, staff_id: int, phone: str, form: dict):
        data = {
            "at": at,
            "staff": staff_id,
            "lang": LANGUAGE,
            **form,
            "first_name": "Diagnosis",
            "last_name": "Bianchi",
            "phone": phone,
            "email": "",
            "language": LANGUAGE,
            "website": "",
            "data_processing": "on",
            "service_sms": "on",
        }
        return browser.post(f"{base}book/?lang={LANGUAGE}", data, HTTP_X_FORWARDED_FOR=next(addresses))

    def requests(target: tuple[str, int], n: int) -> list:
        one = seeded["staff_ids"][0]
        first, second = form_of(*target), form_of(*target)  # two pages shown while the time is still free
        return [
            (
                "slot listing GET (7 days, anyone)",
                200,
                lambda: browser.get(f"{base}?lang={LANGUAGE}&from={day}&day={day}"),
            ),
            (
                "slot listing GET (7 days, one person)",
                200,
                lambda: browser.get(f"{base}?lang={LANGUAGE}&from={day}&day={day}&staff={one}"),
            ),
            ("booking form GET (time free)", 200, lambda: browser.get(form_url(*target))),
            ("booking POST (booked)", 302, lambda: post(*target, f"+39347099{n:02}98", first)),
            ("booking form GET (time just taken)", 409, lambda: browser.get(form_url(*target))),
            ("booking POST (time just taken)", 409, lambda: post(*target, f"+39347099{n:02}97", second)),
        ]

    runs: dict[str, list] = {}
    for n, target in enumerate(seeded["targets"][:RESERVED]):  # the first round warms up, untimed
        for label, expected, request in requests(target, n):
            queries = _Queries()
            task_started.clear()
            started = time.perf_counter()
            with connection.execute_wrapper(queries):
                response = request()
            total = time.perf_counter() - started
            assert response.status_code == expected, (label, response.status_code)
            if n:
                runs.setdefault(label, []).append(
                    (total, queries.seconds, len(queries.queries), queries, sum(task_started))
                )
    lines = [f"  (median of {RESERVED - 1} of each, in-process, after one untimed round)"]
    for label, measured in runs.items():
        measured.sort(key=lambda run: run[0])
        total, db, count, queries, task = measured[len(measured) // 2]
        on_agenda = sum("appointments_appointment" in sql for sql, _elapsed in queries.queries)
        line = (
            f"  {label:38} {count:3} queries ({on_agenda:2} on appointments), "
            f"{db * 1000:5.1f} ms in the database, {total * 1000:6.1f} ms in all"
        )
        if task:
            line += (
                f"; of which the confirmation, sent by the eager Celery task after the COMMIT: "
                f"{len(queries.task_seconds)} queries, {sum(queries.task_seconds) * 1000:.1f} ms in the database, "
                f"{task * 1000:.1f} ms in all"
            )
        lines.append(line)

    # The slot maths alone: 7 days for everyone, and the Python part of it.
    salon = Salon.objects.get(slug=SLUG)
    service = Service.objects.get(pk=seeded["service_id"])
    first = datetime.fromisoformat(day).date()
    days = [first + timedelta(days=n) for n in range(7)]
    runs = []
    for _ in range(21):
        queries = _Queries()
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            by_day = slots_for_days(salon=salon, service=service, days=days)
        runs.append(((time.perf_counter() - started) * 1000, queries.seconds * 1000))
    runs.sort()
    total, db = runs[len(runs) // 2]
    offered = sum(len(slots) for slots in by_day.values())
    lines.append(
        f"  slots_for_days, 7 days × {len(seeded['staff_ids'])} people, {offered} free times (median of 21): "
        f"{total:.1f} ms, of which {db:.1f} ms in the database and {total - db:.1f} ms of Python"
    )
    agenda = [
        (sql, params)
        for (sql, _elapsed), params in zip(queries.queries, queries.params, strict=True)
        if "appointments_appointment" in sql
    ]
    if agenda:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + agenda[0][0], agenda[0][1])
            lines.append("  the agenda query of the slot pages, EXPLAIN ANALYZE:")
            lines.extend("        | " + row[0] for row in cursor.fetchall())
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="timed requests of each booking page GET")
    parser.add_argument("--bare-requests", type=int, default=2000, help="timed requests of the bare view")
    parser.add_argument("--posts", type=int, default=300, help="timed booking POSTs (capped by the free slots)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per client process before each")
    parser.add_argument("--concurrency", type=int, default=4, help="load generator processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--history", type=int, default=0, help="done appointments in the past (years of agenda)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the four scenarios")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the agenda and the load")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    print(f"preparing the salon and {APPOINTMENTS:,} appointments in {DB_NAME} …", flush=True)
    with tempfile.TemporaryDirectory(prefix="bookingbench-static-") as static_root:
        env = bench_env(static_root)
        try:
            seeded = prepare(env, rng, args.history)
            barrier = multiprocessing.Barrier(args.concurrency)
            with (
                gunicorn("booking:wsgi_app()", env, args.workers) as port,
                multiprocessing.Pool(args.concurrency, initializer=_init, initargs=(barrier,)) as pool,
            ):
                items = workload(seeded, port, args, rng)
                load = [os.getloadavg()[0]]
                untimed = args.warmup * args.concurrency
                parts: dict[str, list] = {mode: [] for mode in MODES}
                # Interleaved rounds: a machine whose load drifts (other work on it) weighs on every scenario alike.
                for round_ in range(args.rounds):
                    for mode in MODES:
                        timed = items[mode][untimed:][round_ :: args.rounds]
                        warm = items[mode][:untimed] if round_ == 0 else []
                        print(f"round {round_ + 1}/{args.rounds}: timing {len(timed):,} × {MODES[mode]} …", flush=True)
                        parts[mode].append(measure(pool, port, mode, warm, timed, args.concurrency))
                figures = {mode: summarise(mode_parts) for mode, mode_parts in parts.items()}
                load.append(os.getloadavg()[0])
            online, overlaps, messages, without = check_bookings()
            diagnosis = diagnose(seeded)
            from django.db import connections

            connections.close_all()
        finally:
            psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    print(
        f"machine: {os.cpu_count()} cores; gunicorn {args.workers} sync workers; {args.concurrency} client "
        f"processes on loopback (the same machine), back to back; {args.rounds} interleaved rounds, "
        f"{args.warmup} untimed requests per process first; 1-minute load average {load[0]:.1f} before, "
        f"{load[1]:.1f} after"
    )
    for mode, label in MODES.items():
        f = figures[mode]
        errors = ", ".join(f"{count} × HTTP {status}" for status, count in sorted(f["errors"].items())) or "none"
        rounds = " / ".join(f"{rps:,.0f}" for rps in f["per_round"])
        print(
            f"{label:27} {f['rps']:7,.0f} requests/s   p50 {f['p50']:6.1f} ms   p95 {f['p95']:6.1f} ms   "
            f"({f['requests']:,} in {f['wall']:.1f} s, per round {rounds} requests/s; unexpected statuses: "
            f"{errors}; load generator used {f['client_cpu']:.2f} cores)"
        )
    for mode in ("slots", "form", "post"):
        ratio = figures[mode]["rps"] / figures["bare"]["rps"]
        p50 = figures[mode]["p50"] / figures["bare"]["p50"]
        print(f"ratio {MODES[mode]:18} / bare: {ratio:.3f} of the requests/s, p50 {p50:.0f}× the bare view's")
    booked = figures["post"]["statuses"].get(302, 0)
    print(
        f"the database: {online:,} online appointments for {booked:,} POSTs answered 302 (warm-up included); "
        f"{overlaps} overlapping bookings of one person; confirmations: "
        + (", ".join(f"{count:,} {status}" for status, count in sorted(messages.items())) or "none")
        + f"; {without:,} bookings got no confirmation at all (no channel allowed: e.g. a new client who ticked "
        "service messages by email only and gave no email)"
    )
    print("where the time goes (same database, after the load):")
    print("\n".join(diagnosis))


if __name__ == "__main__":
    main()
