"""On PostgreSQL with real parallel workers: credits never overspent, nothing sent or charged twice."""

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from django.db.models import Count, Sum

from core.vocabulary import MessageKind
from credits.models import CreditAccount, CreditEntry
from messaging.backends import locmem
from messaging.models import Message
from messaging.sending import send_message
from outreach.credits import top_up
from tests.factories import ClientFactory, MessageFactory, SalonFactory
from tests.markers import RACE

pytestmark = RACE

WORKERS = 8


def pending_sms(salon, count):
    """Pending SMS rows as the outbox holds them after enqueueing (one client each)."""
    clients = ClientFactory.create_batch(count, salon=salon)
    Message.objects.bulk_create(
        MessageFactory.build(client=c, kind=MessageKind.APPOINTMENT_CONFIRMATION, encoding="gsm7", segments=1, cost=1)
        for c in clients
    )
    return list(Message.objects.filter(salon=salon).values_list("pk", flat=True))


def run_workers(work, ids):
    jobs = queue.Queue()
    for message_id in ids:
        jobs.put(message_id)
    start = threading.Barrier(WORKERS)

    def worker():
        try:
            start.wait()
            while True:
                try:
                    message_id = jobs.get_nowait()
                except queue.Empty:
                    return
                work(message_id)
        finally:
            connection.close()  # each worker thread had its own PostgreSQL connection

    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(worker) for _ in range(WORKERS)]:
            future.result()


def test_a_thousand_sms_against_five_hundred_credits_send_exactly_five_hundred():
    salon = SalonFactory()
    top_up(salon=salon, amount=500)
    ids = pending_sms(salon, 1000)

    run_workers(lambda message_id: send_message(message_id=message_id), ids)

    statuses = dict(Message.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    assert statuses == {"sent": 500, "held_no_credit": 500}
    balance = CreditAccount.objects.get(salon=salon).balance
    ledger = CreditEntry.objects.filter(salon=salon).aggregate(total=Sum("amount"))["total"]
    assert balance == 0
    assert ledger == balance
    assert CreditEntry.objects.filter(salon=salon, kind="charge").count() == 500
    sent_ids = [sms.message_id for sms in locmem.outbox]
    assert len(sent_ids) == 500 == len(set(sent_ids))  # no provider call for the other 500, none twice
    assert set(sent_ids) == set(Message.objects.filter(status="sent").values_list("pk", flat=True))


def test_the_same_message_delivered_five_times_at_once_is_sent_once():
    salon = SalonFactory()
    top_up(salon=salon, amount=10)
    [message_id] = pending_sms(salon, 1)

    run_workers(lambda one: send_message(message_id=one), [message_id] * 5)

    assert [sms.message_id for sms in locmem.outbox] == [message_id]
    assert CreditEntry.objects.filter(message_id=message_id).count() == 1
    assert CreditAccount.objects.get(salon=salon).balance == 9


def test_overlapping_batches_on_parallel_workers_send_each_message_once():
    salon = SalonFactory()
    top_up(salon=salon, amount=300)
    ids = pending_sms(salon, 400)
    # Every message is in two batches, handed to different workers.
    batches = [ids[i:i + 50] for i in range(0, len(ids), 50)] + [ids[i:i + 50] for i in range(25, len(ids), 50)]
    from messaging.sending import send_batch

    run_workers(lambda ids: send_batch(message_ids=ids), batches)

    statuses = dict(Message.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    assert statuses == {"sent": 300, "held_no_credit": 100}
    sent_ids = [sms.message_id for sms in locmem.outbox]
    assert len(sent_ids) == 300 == len(set(sent_ids))
    assert CreditAccount.objects.get(salon=salon).balance == 0
    assert CreditEntry.objects.filter(salon=salon, kind="charge").count() == 300
