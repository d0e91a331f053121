"""The outbox end to end through a real Celery worker, the real Redis broker and PostgreSQL.

Everywhere else Celery runs eager. Here the project's app is switched to a Redis broker (a dedicated
database, purged before and after) and a worker runs in a thread of this process, so it shares the
test database settings; tasks reach it only through `transaction.on_commit` → `.delay()` → Redis.
SMS go through the real `twilio` library to the loopback fake; webhooks are signed like Twilio's.
"""

import logging
import os
import threading
import time
from datetime import timedelta

import pytest
import redis
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone
from kombu import pools
from twilio.request_validator import RequestValidator

from clients.models import Client
from consents.models import ConsentState, Source
from consents.policy import Reason
from core.vocabulary import MessageKind
from credits.services import account_for
from messaging import services
from messaging.models import Message
from outreach.credits import top_up
from salonconsent.celery import app
from tests.factories import AppointmentFactory, ClientFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
PUBLIC = "https://salon.example.com"
PHONE = "+393471112233"
SETTLE_TIMEOUT = 20.0
UNSETTLED = {Message.Status.PENDING, Message.Status.SENDING}


def _reset_broker_pools():
    """Close and forget the cached broker connections, so the next publish uses the current broker_url."""
    pools.reset()  # kombu's process-wide registry, keyed by broker: closes its pools and empties it
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(transactional_db, monkeypatch):
    """A Celery worker (solo pool) in a thread, consuming the project's app from Redis; yields the tasks it ran."""
    broker = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1)
    try:
        broker.ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {BROKER_URL}: {exc}")
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        monkeypatch.delenv(name, raising=False)  # Celery prefers these to app.conf
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "worker_hijack_root_logger")}
    root = logging.getLogger()
    saved_logging = root.level, list(root.handlers)
    ran = []

    def before_task(sender=None, args=None, **kwargs):
        ran.append((sender.name, tuple(args or ()), threading.get_ident()))  # before it touches the database

    def after_task(**kwargs):
        connections.close_all()  # the worker thread's own PostgreSQL sessions (Django's are per thread)

    broker.flushdb()
    app.conf.update(task_always_eager=False, broker_url=BROKER_URL, worker_hijack_root_logger=False)
    _reset_broker_pools()
    signals.task_prerun.connect(before_task, weak=False)
    signals.task_postrun.connect(after_task, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield ran
    finally:
        signals.task_prerun.disconnect(before_task)
        signals.task_postrun.disconnect(after_task)
        app.conf.update(saved)
        _reset_broker_pools()
        root.setLevel(saved_logging[0])  # the embedded worker sets up Celery logging on the root logger
        root.handlers[:] = saved_logging[1]
        broker.flushdb()
        broker.close()


def settle(message, timeout=SETTLE_TIMEOUT):
    """Poll the database until the worker has moved the message out of pending/sending."""
    deadline = time.monotonic() + timeout
    while True:
        message.refresh_from_db()
        if message.status not in UNSETTLED:
            return message
        if time.monotonic() > deadline:
            pytest.fail(f"message #{message.pk} still {message.status} after {timeout:.0f} s: is the worker consuming?")
        time.sleep(0.1)


def signed_post(client, path, data, token):
    signature = RequestValidator(token).compute_signature(PUBLIC + path, data)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def appointment(salon, settings, fake_twilio):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_AUTH_TOKEN = fake_twilio.auth_token  # as fake_twilio does: webhooks are signed with it
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=10)
    return AppointmentFactory(client=ClientFactory(salon=salon, phone=PHONE, language="en"), service="Piega")


def enqueue(appointment, kind, key):
    return services.enqueue_message(client=appointment.client, kind=kind, channel="sms",
                                    appointment=appointment, dedupe_key=key)


def test_sms_is_sent_by_the_worker_delivered_then_stopped(fake_twilio, appointment, worker, client):
    salon = appointment.salon
    # 1. Enqueue: the row commits, on_commit publishes the task to Redis, the worker sends it.
    with transaction.atomic():
        confirmation = enqueue(appointment, MessageKind.APPOINTMENT_CONFIRMATION, f"confirm:{appointment.pk}")
        assert confirmation.status == Message.Status.PENDING
    settle(confirmation)
    assert confirmation.status == Message.Status.SENT, (confirmation.error_code, confirmation.error_text)
    assert [(name, args) for name, args, _ in worker] == [("messaging.tasks.send_message_task", (confirmation.pk,))]
    assert worker[0][2] != threading.get_ident()  # run by the worker thread, not eagerly in the test
    [posted] = fake_twilio.requests
    assert posted.form["Body"] == confirmation.body
    assert "Piega" in confirmation.body
    assert posted.form["To"] == PHONE
    assert posted.form["From"] == "Aurora"
    status_path = reverse("twilio-status", args=[confirmation.pk])
    assert posted.form["StatusCallback"] == PUBLIC + status_path
    assert confirmation.provider_id == fake_twilio.messages[0]["sid"]
    assert confirmation.attempts == 1
    assert confirmation.cost >= 1
    assert confirmation.charged == confirmation.cost
    assert account_for(salon).balance == 10 - confirmation.cost

    # 2. Twilio's signed delivery report moves it to delivered.
    response = signed_post(client, status_path, {"MessageSid": confirmation.provider_id,
                                                 "MessageStatus": "delivered"}, fake_twilio.auth_token)
    assert response.status_code == 204
    confirmation.refresh_from_db()
    assert confirmation.status == Message.Status.DELIVERED
    assert confirmation.delivered_at is not None

    # 3. A reminder is queued and the client's STOP lands before the worker picks it up (same commit):
    # the worker decides again at claim time and blocks it, uncharged.
    inbound = reverse("twilio-inbound")
    with transaction.atomic():
        raced = enqueue(appointment, MessageKind.APPOINTMENT_REMINDER, f"remind:{appointment.pk}:1")
        assert raced.status == Message.Status.PENDING
        response = signed_post(client, inbound, {"From": PHONE, "To": "+15005550006", "Body": "STOP",
                                                 "MessageSid": "SMinbound1"}, fake_twilio.auth_token)
        assert response.status_code == 200
    settle(raced)
    assert (raced.status, raced.reason, raced.charged) == (Message.Status.BLOCKED, Reason.SUPPRESSED, 0)
    assert [args for _, args, _ in worker] == [(confirmation.pk,), (raced.pk,)]

    giulia = Client.objects.get(pk=appointment.client_id)
    assert giulia.sms_suppression == "opted_out"
    states = set(ConsentState.objects.filter(client=giulia).values_list("purpose", "channel", "action"))
    assert states == {("service", "sms", "withdrawn"), ("marketing", "sms", "withdrawn")}
    assert set(giulia.consent_events.values_list("source", flat=True)) == {Source.SMS_KEYWORD}

    # Enqueued after the STOP (with the client as it is now): blocked at once, never handed to the worker.
    appointment.client.refresh_from_db()
    with transaction.atomic():
        later = enqueue(appointment, MessageKind.APPOINTMENT_REMINDER, f"remind:{appointment.pk}:2")
    later.refresh_from_db()
    assert (later.status, later.reason, later.charged) == (Message.Status.BLOCKED, Reason.SUPPRESSED, 0)

    assert len(fake_twilio.requests) == 1  # only the confirmation ever reached Twilio
    assert account_for(salon).balance == 10 - confirmation.cost
    assert len(worker) == 2


def test_sweeper_resends_a_pending_message_whose_task_was_lost(fake_twilio, appointment, worker, monkeypatch):
    # The row commits but its task never reaches Redis (e.g. Redis restarted without persistence).
    with monkeypatch.context() as patch:
        patch.setattr(services, "dispatch_after_commit", lambda message_ids, **kwargs: None)
        with transaction.atomic():
            lost = enqueue(appointment, MessageKind.APPOINTMENT_CONFIRMATION, f"confirm:{appointment.pk}")
    assert lost.status == Message.Status.PENDING
    Message.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    with transaction.atomic():
        result = services.sweep_outbox()
    assert result.requeued == 1

    settle(lost)
    assert lost.status == Message.Status.SENT, (lost.error_code, lost.error_text)
    assert [(name, args) for name, args, _ in worker] == [("messaging.tasks.send_message_task", (lost.pk,))]
    [posted] = fake_twilio.requests
    assert posted.form["Body"] == lost.body
    assert posted.form["To"] == PHONE
    assert lost.provider_id == fake_twilio.messages[0]["sid"]
    assert lost.attempts == 1
    assert account_for(appointment.salon).balance == 10 - lost.cost
