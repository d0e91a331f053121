"""Campaign audience: the ORM selector against one hand-written SQL query, on 100,000 clients.

Not a test: it prints figures. It generates 100,000 clients and 1,000,000 register entries (hash-
chained like the real writer, loaded with COPY) plus their current-state rows, then times a
marketing-by-SMS campaign's audience, count and streamed ids, computed by `outreach.audience.audience`
and by one hand-written SQL query, in the same run, and prints the ratio (SPEC §10 target: <= 1.5).

    .venv/bin/python bench/campaign.py [--clients 100000] [--entries 1000000] [--repeat 5]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres); creates and drops `salonconsent_campaignbench`.
"""

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from common import django_env, fresh_project

DB_NAME = "salonconsent_campaignbench"
DSN = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
ENV = django_env(DB_NAME)
# (purpose, channel) a generated entry may touch; marketing SMS and data processing weigh the most.
KEYS = [("data_processing", ""), ("marketing", "sms"), ("marketing", "email"), ("service", "sms"),
        ("service", "email"), ("personalised", ""), ("data_processing", ""), ("marketing", "sms")]
EVENT_COLUMNS = ["id", "salon_id", "seq", "client_id", "purpose", "channel", "action", "occurred_at", "recorded_at",
                 "wording_id", "wording_sha256", "source", "actor_id", "ip", "user_agent", "request_id", "note",
                 "prev_hash", "entry_hash"]

HAND_SQL = """
SELECT c.id FROM clients_client c
WHERE c.salon_id = %(salon)s AND c.lifecycle IN ('prospect', 'client', 'dormant')
  AND c.erased_at IS NULL AND NOT c.is_restricted AND c.sms_suppression = '' AND c.phone <> ''
  AND EXISTS (SELECT 1 FROM consents_consentstate s WHERE s.client_id = c.id
              AND s.purpose = 'data_processing' AND s.channel = '' AND s.action = 'granted')
  AND EXISTS (SELECT 1 FROM consents_consentstate s WHERE s.client_id = c.id
              AND s.purpose = 'marketing' AND s.channel = 'sms' AND s.action = 'granted'
              AND s.occurred_at > %(fresh_after)s)
  AND NOT EXISTS (SELECT 1 FROM campaigns_campaignrecipient r WHERE r.campaign_id = %(campaign)s
                  AND r.client_id = c.id)
ORDER BY c.id
"""


def psql(sql: str, dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres") -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def prepare() -> None:
    fresh_project(DB_NAME, {**os.environ, **ENV})


def generate(n_clients: int, n_entries: int) -> int:
    """Clients, register entries (a valid hash chain) and current states, in bulk; returns the salon id."""
    import psycopg

    from clients.models import Client
    from consents.chain import GENESIS_HASH, entry_hash
    from consents.selectors import current_wordings
    from salons.models import Salon

    rng = random.Random(6)
    salon = Salon.objects.create(name="Bench Salon", slug="bench", consent_validity_months=24)
    other = Salon.objects.create(name="Other Salon", slug="other")  # noise the selector must scope out
    wordings = current_wordings(salon=salon, language="it")
    lifecycles = ["prospect", "client", "dormant"]
    Client.objects.bulk_create(
        (Client(salon=salon if i % 10 else other, first_name=f"Client{i}",
                phone="" if i % 23 == 0 else f"+39333{i:07d}", email=f"c{i}@example.com", language="it",
                lifecycle=lifecycles[i % 3],
                is_restricted=i % 97 == 0, sms_suppression="opted_out" if i % 89 == 0 else "")
         for i in range(n_clients)),
        batch_size=5000,
    )
    clients = list(Client.objects.order_by("pk").values_list("pk", "salon_id"))
    now = datetime.now(UTC)
    start = now - timedelta(days=4 * 365)
    step = (now - start) / n_entries
    per_client = n_entries // len(clients)
    chains = {salon.pk: (0, GENESIS_HASH), other.pk: (0, GENESIS_HASH)}
    states: dict[tuple, tuple] = {}
    event_id = 0
    with psycopg.connect(DSN) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY consents_consentevent ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for index in range(n_entries):
                client_id, salon_id = clients[index // per_client % len(clients)]
                purpose, channel = rng.choice(KEYS)
                granted = rng.random() < 0.7
                wording = wordings[purpose] if granted else None
                occurred = start + step * index
                seq, prev = chains[salon_id]
                event_id += 1
                fields = {
                    "seq": seq + 1, "salon_id": salon_id, "client_id": client_id, "purpose": purpose,
                    "channel": channel, "action": "granted" if granted else "withdrawn", "occurred_at": occurred,
                    "recorded_at": occurred, "wording_id": wording.pk if wording else None,
                    "wording_sha256": wording.sha256 if wording else "", "source": "import", "actor_id": None,
                    "ip": "", "user_agent": "", "request_id": "", "note": "",
                }
                digest = entry_hash(prev_hash=prev, **fields)
                chains[salon_id] = (seq + 1, digest)
                copy.write_row([event_id, *(fields[c] for c in EVENT_COLUMNS[1:17]), prev, digest])
                states[(client_id, purpose, channel)] = (salon_id, fields["action"], occurred, event_id)
        with cur.copy("COPY consents_consentstate (salon_id, client_id, purpose, channel, action, occurred_at, "
                      "event_id) FROM STDIN") as copy:
            for (client_id, purpose, channel), (salon_id, action, occurred, eid) in states.items():
                copy.write_row([salon_id, client_id, purpose, channel, action, occurred, eid])
        cur.execute("SELECT setval(pg_get_serial_sequence('consents_consentevent', 'id'), %s)", [event_id])
        conn.commit()
    psql("VACUUM ANALYZE", DSN)
    return salon.pk


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    prepare()
    try:
        began = time.perf_counter()
        salon_id = generate(args.clients, args.entries)
        print(f"generated {args.clients:,} clients and {args.entries:,} register entries "
              f"in {time.perf_counter() - began:.1f} s")

        from django.db import connection
        from django.utils import timezone

        from campaigns.models import Campaign
        from core.vocabulary import add_months
        from outreach.audience import audience

        campaign = Campaign.objects.create(salon_id=salon_id, name="Bench", kind="marketing", channel="sms",
                                           segments=["prospect", "client", "dormant"], texts={"it": "Offerta"})
        now = timezone.now()
        params = {"salon": salon_id, "campaign": campaign.pk, "fresh_after": add_months(now, -24)}

        def orm_ids():
            # Streamed: ids in chunks through a server-side cursor, never 100k objects at once.
            return sum(1 for _ in audience(campaign, now=now).order_by("pk").values_list("pk", flat=True)
                       .iterator(chunk_size=5000))

        def orm_count():
            return audience(campaign, now=now).count()

        def sql_ids():
            count = 0
            with connection.connection.cursor(name="hand_sql") as cur:
                cur.itersize = 5000
                cur.execute(HAND_SQL, params)
                for _row in cur:
                    count += 1
            return count

        def sql_count():
            with connection.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM ({HAND_SQL}) AS audience", params)
                return cur.fetchone()[0]

        from django.db import transaction

        with transaction.atomic():  # a named (server-side) cursor needs a transaction
            orm_ids(), sql_ids()  # warm the caches for both alike
            results = {}
            for name, function in [("count", (orm_count, sql_count)), ("ids", (orm_ids, sql_ids))]:
                orm_time, orm_result = timed(function[0], args.repeat)
                sql_time, sql_result = timed(function[1], args.repeat)
                results[name] = (orm_time, sql_time, orm_result, sql_result)
        exact = set(audience(campaign, now=now).values_list("pk", flat=True).iterator(chunk_size=5000))
        with connection.cursor() as cur:
            cur.execute(HAND_SQL, params)
            same_set = exact == {row[0] for row in cur.fetchall()}
        print(f"audience (marketing by SMS, 24-month validity) over {args.clients:,} clients, median of "
              f"{args.repeat}:")
        for name, (orm_time, sql_time, orm_result, sql_result) in results.items():
            print(f"  {name:5}  ORM {orm_time * 1000:8.1f} ms ({orm_result:,})   hand SQL {sql_time * 1000:8.1f} ms "
                  f"({sql_result:,})   ratio {orm_time / sql_time:.2f}x (target <= 1.5x)")
        print(f"  counts match: {results['count'][2] == results['count'][3] == results['ids'][2]}; "
              f"same set of ids: {same_set}")
        connection.close()
    finally:
        psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
