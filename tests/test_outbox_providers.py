"""The outbox through the real twilio and anymail libraries, against fake providers on loopback."""

import pytest

from clients.models import Client
from consents.models import Source
from consents.selectors import current_wording
from consents.services import ConsentChange, record_consent
from core.vocabulary import MessageKind
from credits.services import account_for
from messaging.models import Message
from messaging.services import enqueue_message
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory

pytestmark = pytest.mark.django_db


def book(salon, **client_fields):
    return AppointmentFactory(client=ClientFactory(salon=salon, language="it", **client_fields), service="Piega")


def confirm(appointment, channel):
    return enqueue_message(client=appointment.client, kind=MessageKind.APPOINTMENT_CONFIRMATION, channel=channel,
                           appointment=appointment, dedupe_key=f"c:{appointment.pk}:{channel}")


def test_sms_goes_through_the_twilio_library(fake_twilio, salon, settings, django_capture_on_commit_callbacks):
    settings.PUBLIC_BASE_URL = "https://salon.example.com"
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=10)
    appointment = book(salon, phone="+393331234567")
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment, "sms")
    message.refresh_from_db()
    [posted] = fake_twilio.requests
    assert posted.form["To"] == "+393331234567"
    assert posted.form["From"] == "Aurora"
    assert posted.form["Body"] == message.body
    assert "Salone Aurora" in message.body
    assert "Piega" in message.body
    assert posted.form["StatusCallback"] == f"https://salon.example.com/webhooks/twilio/status/{message.pk}/"
    assert message.status == Message.Status.SENT
    assert message.provider_id.startswith("SM")
    assert account_for(salon).balance == 9


def test_twilio_21610_fails_refunds_and_records_the_opt_out(fake_twilio, salon, django_capture_on_commit_callbacks):
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=10)
    appointment = book(salon, phone="+15005550004")  # Twilio's magic number for "replied STOP"
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment, "sms")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_code == "21610"
    assert account_for(salon).balance == 10
    client = Client.objects.get(pk=appointment.client_id)
    assert client.sms_suppression == "opted_out"
    assert client.consent_events.filter(source="sms_keyword").exists()


def test_email_goes_through_anymail_to_the_esp(fake_postmark, salon, django_capture_on_commit_callbacks):
    salon.email_price = 2
    salon.save()
    top_up(salon=salon, amount=10)
    appointment = book(salon, email="giulia@example.com")
    record_consent(client=appointment.client, source=Source.FORM_LINK, changes=[
        ConsentChange("service", True, "email", current_wording(salon=salon, purpose="service", language="it"))])
    with django_capture_on_commit_callbacks(execute=True):
        message = confirm(appointment, "email")
    message.refresh_from_db()
    [posted] = fake_postmark.requests
    assert posted.json["To"] == "giulia@example.com"
    assert posted.json["Subject"] == message.subject
    assert posted.json["TextBody"] == message.body
    assert message.status == Message.Status.SENT
    assert message.provider_id == fake_postmark.message_ids[0]
    assert account_for(salon).balance == 8
