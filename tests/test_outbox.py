"""The outbox: a row before anything is sent, re-decided and charged at send time, sent once."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from consents.models import ConsentState, Source
from core.vocabulary import MessageKind
from credits.models import CreditEntry
from credits.services import account_for
from messaging.backends import ProviderError, SMSBackend, locmem
from messaging.models import Message
from messaging.sending import send_message
from messaging.services import enqueue_message, sweep_outbox
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory
from tests.register_tools import withdraw

pytestmark = pytest.mark.django_db

CONFIRMATION = MessageKind.APPOINTMENT_CONFIRMATION


@pytest.fixture
def appointment(salon):
    client = ClientFactory(salon=salon, first_name="Giulia", phone="+393331234567", language="en")
    return AppointmentFactory(client=client, service="Colour")


def confirm(appointment, channel="sms", **kwargs):
    return enqueue_message(client=appointment.client, kind=CONFIRMATION, channel=channel, appointment=appointment,
                           dedupe_key=f"confirmation:{appointment.pk}:{channel}", **kwargs)


def ledger_sum(salon):
    return CreditEntry.objects.filter(salon=salon).aggregate(total=Sum("amount"))["total"] or 0


def test_enqueue_writes_the_row_and_the_worker_sends_it(appointment, salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = confirm(appointment)
    # The row exists, rendered and priced, before any provider call.
    assert message.status == Message.Status.PENDING
    assert locmem.outbox == []
    assert "Salone Aurora: your appointment for Colour is confirmed" in message.body
    assert (message.encoding, message.segments, message.cost) == ("gsm7", 1, 1)
    assert message.reason == "default_channel"
    assert message.reason_text
    for callback in callbacks:
        callback()  # the task, eagerly
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.provider_id.startswith("locmem-")
    assert [sms.to for sms in locmem.outbox] == ["+393331234567"]
    assert locmem.outbox[0].sender == salon.sms_sender_id
    assert locmem.outbox[0].body == message.body
    assert account_for(salon).balance == 9 == ledger_sum(salon)
    assert message.charged == 1


def test_enqueueing_the_same_message_twice_creates_one_row(appointment, salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=True):
        first = confirm(appointment)
        second = confirm(appointment)
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(locmem.outbox) == 1


def test_a_message_the_policy_refuses_is_stored_blocked_with_its_reason(appointment, salon,
                                                                         django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = confirm(appointment, channel="email")  # no service preference: email is not a default channel
    assert callbacks == []
    assert message.status == Message.Status.BLOCKED
    assert message.reason == "not_default_channel"
    assert account_for(salon).balance == 10


def test_withdrawal_after_queuing_wins(appointment, salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = confirm(appointment)
    withdraw(client=appointment.client, purpose="data_processing", source=Source.FORM_LINK)
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == Message.Status.BLOCKED
    assert message.reason == "dp_withdrawn"
    assert locmem.outbox == []
    assert account_for(salon).balance == 10
    assert ledger_sum(salon) == 10


def test_no_credit_holds_the_message_and_a_top_up_releases_it(appointment, salon,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment)
    message.refresh_from_db()
    assert message.status == Message.Status.HELD_NO_CREDIT
    assert locmem.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        top_up(salon=salon, amount=5)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(locmem.outbox) == 1
    assert account_for(salon).balance == 4 == ledger_sum(salon)


def test_a_held_confirmation_for_a_cancelled_appointment_expires_uncharged(appointment, salon,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment)
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    with django_capture_on_commit_callbacks(execute=True):
        top_up(salon=salon, amount=5)
    message.refresh_from_db()
    assert message.status == Message.Status.EXPIRED
    assert message.charged == 0
    assert locmem.outbox == []
    assert account_for(salon).balance == 5


def test_a_second_delivery_of_the_task_sends_nothing(appointment, salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment)
    assert send_message(message_id=message.pk) is None
    assert len(locmem.outbox) == 1
    assert account_for(salon).balance == 9


def test_sms_segments_and_cost_follow_the_salons_price(salon, django_capture_on_commit_callbacks):
    salon.sms_price_per_segment = 3
    salon.save()
    client = ClientFactory(salon=salon, language="en")
    message = enqueue_message(client=client, kind=MessageKind.MARKETING, channel="sms", dedupe_key="m:1",
                              context={"text": "Offerta " * 30, "link": "https://x.test/p/abc"})
    assert message.status == Message.Status.BLOCKED  # no marketing consent
    # 240 characters of offer plus the preference link every marketing message carries: 3 parts of 153.
    assert 306 < len(message.body) <= 459
    assert message.encoding == "gsm7"
    assert message.segments == 3
    assert message.cost == 9


class FailingBackend(SMSBackend):
    """An SMS provider that refuses with a preset error (the real Twilio mapping is tested separately)."""

    error: ProviderError | None = None

    def send(self, sms):
        raise self.error


@pytest.fixture
def failing(settings):
    settings.SMS_BACKEND = "tests.test_outbox.FailingBackend"
    return FailingBackend


def test_permanent_error_fails_refunds_and_never_retries(appointment, salon, failing,
                                                         django_capture_on_commit_callbacks):
    failing.error = ProviderError("The 'To' number is not a valid phone number.", code="21211", permanent=True)
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_code == "21211"
    assert message.charged == 0
    assert account_for(salon).balance == 10 == ledger_sum(salon)
    assert list(CreditEntry.objects.filter(message=message).values_list("kind", flat=True).order_by("id")) == [
        "charge", "refund"]


def test_opted_out_error_records_the_opt_out_and_suppresses_sms(appointment, salon, failing,
                                                                django_capture_on_commit_callbacks):
    failing.error = ProviderError("Attempt to send to unsubscribed recipient", code="21610", permanent=True,
                                  opted_out=True)
    top_up(salon=salon, amount=10)
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment)
    client = Client.objects.get(pk=appointment.client_id)
    assert client.sms_suppression == "opted_out"
    states = dict(ConsentState.objects.filter(client=client).values_list("purpose", "action"))
    assert states == {"service": "withdrawn", "marketing": "withdrawn"}
    assert client.consent_events.filter(source=Source.SMS_KEYWORD, note__contains="21610").count() == 2
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert account_for(salon).balance == 10


def test_transient_error_goes_back_to_pending_keeping_its_single_charge(appointment, salon, failing):
    failing.error = ProviderError("Service unavailable", code="503", permanent=False)
    top_up(salon=salon, amount=10)
    message = confirm(appointment)  # no on_commit in this test: we drive the sends by hand
    outcome = send_message(message_id=message.pk)
    assert outcome.retry_in == 30
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    assert message.charged == 1
    assert message.error_code == "503"
    failing.error = None
    from django.test import override_settings

    with override_settings(SMS_BACKEND="locmem"):
        send_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 2
    assert account_for(salon).balance == 9 == ledger_sum(salon)  # charged once across the retry


def test_transient_errors_give_up_after_max_attempts_and_refund(appointment, salon, failing):
    failing.error = ProviderError("Too Many Requests", code="429", permanent=False)
    top_up(salon=salon, amount=10)
    message = confirm(appointment)
    delays = [send_message(message_id=message.pk).retry_in for _ in range(5)]
    assert delays == [30, 60, 120, 240, None]
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert account_for(salon).balance == 10


def test_sweeper_requeues_stale_pending_and_flags_stale_sending(appointment, salon,
                                                               django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    lost = confirm(appointment)  # its task was lost (no on_commit ran)
    stuck_appointment = AppointmentFactory(client=appointment.client)
    stuck = confirm(stuck_appointment)
    long_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=lost.pk).update(updated_at=long_ago)
    Message.objects.filter(pk=stuck.pk).update(status=Message.Status.SENDING, sending_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep_outbox()
    assert (result.requeued, result.unknown) == (1, 1)
    lost.refresh_from_db()
    stuck.refresh_from_db()
    assert lost.status == Message.Status.SENT
    assert stuck.status == Message.Status.UNKNOWN
    assert "check the provider" in stuck.error_text
    assert len(locmem.outbox) == 1  # the stale `sending` one is never resent blindly


def test_a_timed_out_send_is_left_unknown_charged_and_never_resent(appointment, salon, failing):
    failing.error = ProviderError("Twilio did not answer in time", code="timeout", permanent=False, ambiguous=True)
    top_up(salon=salon, amount=10)
    message = confirm(appointment)
    assert send_message(message_id=message.pk).retry_in is None
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message.charged == 1
    assert send_message(message_id=message.pk) is None  # a duplicate task does not resend it
    assert account_for(salon).balance == 9 == ledger_sum(salon)
