"""Send pipeline throughput: N messages through real Celery workers on PostgreSQL + Redis.

Not a test: it prints figures. In the same run it measures the machine's own ceiling, the same
consent check + conditional charge + ledger entry + status update done per message in a tight
psycopg loop at the same concurrency, and prints the ratio (SPEC §10 target: >= 0.5).

    .venv/bin/python bench/send_throughput.py [--messages 20000] [--concurrency 2] [--batch 200]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379; it creates and
drops the database `salonconsent_bench` and uses Redis database 14. The SMS provider is the
in-memory `locmem` backend (a fake provider with no network latency).
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from common import django_env, fresh_project, psql

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "salonconsent_bench"
ENV = django_env(DB_NAME, CELERY_BROKER_URL="redis://127.0.0.1:6379/14", SMS_BACKEND="locmem")


def prepare(messages: int) -> None:
    fresh_project(DB_NAME, {**os.environ, **ENV})
    from clients.models import Client
    from core.vocabulary import MessageKind
    from credits.models import CreditAccount, CreditEntry
    from messaging.models import Message
    from salons.models import Salon

    salon = Salon.objects.create(name="Bench Salon", slug="bench", sms_sender_id="Bench")
    Client.objects.bulk_create(
        Client(salon=salon, first_name=f"Client{i}", phone=f"+39333{i:07d}", language="it") for i in range(messages)
    )
    clients = list(Client.objects.filter(salon=salon).values_list("pk", flat=True))
    # One set for the pipeline, one for the ceiling (the ledger allows one charge per message).
    for prefix in ("bench", "ceiling"):
        Message.objects.bulk_create(
            (Message(salon=salon, client_id=client_id, kind=MessageKind.APPOINTMENT_CONFIRMATION, channel="sms",
                     language="it", body=f"Bench Salon: appuntamento {i} confermato.", encoding="gsm7", segments=1,
                     cost=1, dedupe_key=f"{prefix}:{i}") for i, client_id in enumerate(clients)),
            batch_size=5000,
        )
    CreditAccount.objects.create(salon=salon, balance=messages)
    CreditEntry.objects.create(salon=salon, kind="top_up", amount=messages, note="bench")
    from django.db import connections

    connections.close_all()


def pipeline(messages: int, concurrency: int, batch: int) -> float:
    """Messages/s end to end: dispatch batch tasks to Redis, real prefork workers send them."""
    import redis

    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()
    env = {**os.environ, **ENV}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "salonconsent", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )
    try:
        from django.db import connection
        from django.db.models import Count

        from messaging.models import Message
        from messaging.queue import send_batch_task, send_message_task

        send_message_task.app.conf.task_always_eager = False
        send_message_task.app.conf.broker_url = ENV["CELERY_BROKER_URL"]
        mine = Message.objects.filter(dedupe_key__startswith="bench:")
        ids = list(mine.order_by("pk").values_list("pk", flat=True))
        # Warm the workers up (imports, connections) before timing.
        send_message_task.delay(ids[0])
        while Message.objects.filter(pk=ids[0], status="pending").exists():
            time.sleep(0.05)
        ids = ids[1:]
        started = time.perf_counter()
        for start in range(0, len(ids), batch):
            send_batch_task.delay(ids[start:start + batch])
        while mine.filter(status__in=["pending", "sending"]).exists():
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        counts = dict(mine.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        connection.close()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert counts == {"sent": messages}, counts
    return len(ids) / elapsed


CEILING_SQL = [
    # Consent check: the client's current consent rows (as the worker's state read does).
    ("SELECT purpose, channel, action FROM consents_consentstate WHERE client_id = %s", "client"),
    # Charge: one conditional UPDATE.
    ("UPDATE credits_creditaccount SET balance = balance - 1 WHERE salon_id = %s AND balance >= 1", "salon"),
    # Ledger entry.
    ("INSERT INTO credits_creditentry (salon_id, kind, amount, message_id, note, created_at) "
     "VALUES (%s, 'charge', -1, %s, '', now())", "salon_message"),
    # Status: sending, then sent.
    ("UPDATE messaging_message SET status = 'sent', charged = 1, sent_at = now() WHERE id = %s", "message"),
]


def _ceiling_worker(args):
    ids, salon_id = args
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}") as conn:
        for message_id, client_id in ids:
            with conn.transaction():
                for sql, params in CEILING_SQL:
                    values = {"client": (client_id,), "salon": (salon_id,), "salon_message": (salon_id, message_id),
                              "message": (message_id,)}[params]
                    conn.execute(sql, values)


def ceiling(messages: int, concurrency: int) -> float:
    """Transactions/s of the same per-message work in a tight psycopg loop, same concurrency."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as conn:
        conn.execute("UPDATE credits_creditaccount SET balance = %s", (messages,))
        rows = conn.execute(
            "SELECT id, client_id, salon_id FROM messaging_message WHERE dedupe_key LIKE 'ceiling:%' ORDER BY id"
        ).fetchall()
    salon_id = rows[0][2]
    pairs = [(m, c) for m, c, _ in rows]
    chunks = [(pairs[i::concurrency], salon_id) for i in range(concurrency)]
    started = time.perf_counter()
    with multiprocessing.Pool(concurrency) as pool:
        pool.map(_ceiling_worker, chunks)
    return len(pairs) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    print(f"preparing {args.messages} pending SMS in {DB_NAME} …", flush=True)
    prepare(args.messages)
    rate = pipeline(args.messages, args.concurrency, args.batch)
    ceiling_rate = ceiling(args.messages, args.concurrency)
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"machine: {os.cpu_count()} cores; concurrency {args.concurrency}; batch {args.batch}")
    print(f"send pipeline (Celery workers, PostgreSQL, Redis): {rate:,.0f} messages/s")
    print(f"ceiling (same transactions, tight psycopg loop):   {ceiling_rate:,.0f} transactions/s")
    print(f"ratio: {rate / ceiling_rate:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
