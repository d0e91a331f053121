"""Webhooks: Twilio delivery reports and replies (signed), anymail tracking events."""

import base64
import json

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from clients.models import Client
from consents.models import ConsentState, Source
from core.vocabulary import MessageKind
from credits.services import account_for
from messaging.backends import locmem
from messaging.models import Message
from messaging.services import enqueue_message
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory, MessageFactory

pytestmark = pytest.mark.django_db

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://salon.example.com"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:secret"}


def signed_post(client, path, data, *, token=TOKEN):
    signature = RequestValidator(token).compute_signature(PUBLIC + path, data)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def sent_sms(salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    appointment = AppointmentFactory(client=ClientFactory(salon=salon, phone="+393471112233", language="en"))
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_message(client=appointment.client, kind=MessageKind.APPOINTMENT_CONFIRMATION,
                                  channel="sms", appointment=appointment, dedupe_key="c:1")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


def test_each_sms_names_its_own_status_callback(sent_sms):
    assert locmem.outbox[0].status_callback == f"{PUBLIC}/webhooks/twilio/status/{sent_sms.pk}/"


def test_delivery_report_moves_the_message_forward(client, sent_sms):
    path = reverse("twilio-status", args=[sent_sms.pk])
    response = signed_post(client, path, {"MessageSid": sent_sms.provider_id, "MessageStatus": "delivered"})
    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == Message.Status.DELIVERED
    assert sent_sms.delivered_at is not None


def test_a_late_report_never_moves_a_final_state_backwards(client, sent_sms):
    path = reverse("twilio-status", args=[sent_sms.pk])
    signed_post(client, path, {"MessageSid": sent_sms.provider_id, "MessageStatus": "delivered"})
    signed_post(client, path, {"MessageSid": sent_sms.provider_id, "MessageStatus": "sent"})
    sent_sms.refresh_from_db()
    assert sent_sms.status == Message.Status.DELIVERED


def test_failed_report_refunds_and_21610_counts_as_stop(client, sent_sms, salon):
    path = reverse("twilio-status", args=[sent_sms.pk])
    signed_post(client, path, {"MessageSid": sent_sms.provider_id, "MessageStatus": "failed", "ErrorCode": "21610"})
    sent_sms.refresh_from_db()
    assert sent_sms.status == Message.Status.FAILED
    assert sent_sms.error_code == "21610"
    assert account_for(salon).balance == 10
    assert Client.objects.get(pk=sent_sms.client_id).sms_suppression == "opted_out"


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_bad_or_missing_signature_is_refused_and_changes_nothing(client, sent_sms, signature):
    path = reverse("twilio-status", args=[sent_sms.pk])
    response = client.post(path, {"MessageSid": sent_sms.provider_id, "MessageStatus": "delivered"},
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    sent_sms.refresh_from_db()
    assert sent_sms.status == Message.Status.SENT


def test_signature_made_with_another_token_is_refused(client, sent_sms):
    path = reverse("twilio-status", args=[sent_sms.pk])
    response = signed_post(client, path, {"MessageSid": sent_sms.provider_id, "MessageStatus": "delivered"},
                           token="someone-elses-token")
    assert response.status_code == 403


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "STOPALL", "cancel", "End", "QUIT"])
def test_stop_reply_withdraws_sms_consent_and_suppresses_sms(client, salon, word):
    giulia = ClientFactory(salon=salon, phone="+393471112233")
    response = signed_post(client, reverse("twilio-inbound"),
                           {"From": "+393471112233", "To": "+15005550006", "Body": word, "MessageSid": "SM1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    giulia.refresh_from_db()
    assert giulia.sms_suppression == "opted_out"
    states = dict(ConsentState.objects.filter(client=giulia).values_list("purpose", "action"))
    assert states == {"service": "withdrawn", "marketing": "withdrawn"}
    assert set(giulia.consent_events.values_list("source", flat=True)) == {Source.SMS_KEYWORD}


def test_start_lifts_the_suppression_but_grants_nothing(client, salon):
    giulia = ClientFactory(salon=salon, phone="+393471112233")
    signed_post(client, reverse("twilio-inbound"), {"From": "+393471112233", "Body": "STOP"})
    signed_post(client, reverse("twilio-inbound"), {"From": "+393471112233", "Body": "START"})
    giulia.refresh_from_db()
    assert giulia.sms_suppression == ""
    assert not ConsentState.objects.filter(client=giulia, action="granted").exists()


def test_help_answers_with_the_salons_name(client, salon):
    ClientFactory(salon=salon, phone="+393471112233", language="en")
    response = signed_post(client, reverse("twilio-inbound"), {"From": "+393471112233", "Body": "HELP"})
    assert "Salone Aurora: reply STOP to stop our text messages, START to receive them again." in response.text


def test_help_answers_in_the_clients_language_with_the_salons_phone(client, salon, other_salon):
    salon.contact_phone = "+390212345678"
    salon.save()
    other_salon.contact_email = "ciao@other.example"
    other_salon.save()
    ClientFactory(salon=salon, phone="+393471112233", language="it")
    ClientFactory(salon=other_salon, phone="+393471112233", language="it")
    response = signed_post(client, reverse("twilio-inbound"), {"From": "+393471112233", "Body": "help"})
    assert ("Other Salon (ciao@other.example), Salone Aurora (+39 02 1234 5678): rispondi STOP"
            in response.text)


def test_help_from_an_unknown_number_still_explains_the_keywords(client, salon):
    response = signed_post(client, reverse("twilio-inbound"), {"From": "+393479999999", "Body": "INFO"})
    assert "salonconsent: reply STOP" in response.text


def test_optouttype_from_advanced_opt_out_is_honoured(client, salon):
    giulia = ClientFactory(salon=salon, phone="+393471112233")
    signed_post(client, reverse("twilio-inbound"),
                {"From": "+393471112233", "Body": "Basta messaggi", "OptOutType": "STOP"})
    giulia.refresh_from_db()
    assert giulia.sms_suppression == "opted_out"


def test_an_ordinary_reply_changes_nothing(client, salon):
    giulia = ClientFactory(salon=salon, phone="+393471112233")
    signed_post(client, reverse("twilio-inbound"), {"From": "+393471112233", "Body": "Grazie, a domani!"})
    giulia.refresh_from_db()
    assert giulia.sms_suppression == ""
    assert not giulia.consent_events.exists()


# anymail: the real Postmark tracking webhook view, with basic auth, emits the tracking signal.

@pytest.fixture
def sent_email(salon):
    client = ClientFactory(salon=salon, email="giulia@example.com")
    return MessageFactory(client=client, kind=MessageKind.MARKETING, channel="email", status=Message.Status.SENT,
                          provider_id="b7bc2f4a-e38e-4336-af7d-e6c392c2f817")


def postmark(client, payload, auth="hook:secret"):
    credentials = base64.b64encode(auth.encode()).decode()
    return client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Basic {credentials}")


def test_hard_bounce_suppresses_email_and_writes_a_register_entry(client, sent_email):
    response = postmark(client, {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "ID": 42,
                                 "MessageID": sent_email.provider_id, "Email": "giulia@example.com",
                                 "BouncedAt": "2026-11-22T10:00:00Z"})
    assert response.status_code == 200
    giulia = Client.objects.get(pk=sent_email.client_id)
    assert giulia.email_suppression == "hard_bounce"
    assert set(giulia.consent_events.values_list("source", "channel")) == {("bounce", "email")}
    sent_email.refresh_from_db()
    assert sent_email.status == Message.Status.UNDELIVERED


def test_complaint_suppresses_email(client, sent_email):
    postmark(client, {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "ID": 43,
                      "MessageID": sent_email.provider_id, "Email": "giulia@example.com",
                      "BouncedAt": "2026-11-22T10:00:00Z"})
    assert Client.objects.get(pk=sent_email.client_id).email_suppression == "complaint"


def test_unsubscribe_withdraws_email_marketing(client, sent_email):
    postmark(client, {"RecordType": "SubscriptionChange", "MessageID": sent_email.provider_id,
                      "Recipient": "giulia@example.com", "SuppressSending": True,
                      "SuppressionReason": "ManualSuppression", "ChangedAt": "2026-11-22T10:00:00Z"})
    state = ConsentState.objects.get(client_id=sent_email.client_id)
    assert (state.purpose, state.channel, state.action) == ("marketing", "email", "withdrawn")
    assert state.event.source == Source.EMAIL_UNSUBSCRIBE


def test_anymail_webhook_without_the_secret_is_refused(client, sent_email):
    response = postmark(client, {"RecordType": "SpamComplaint", "MessageID": sent_email.provider_id},
                        auth="hook:wrong")
    assert response.status_code == 400
    assert Client.objects.get(pk=sent_email.client_id).email_suppression == ""


@pytest.mark.parametrize("sender", ["", "whatsapp:+39347", "not a number"])
def test_a_reply_from_an_unreadable_sender_is_answered_and_ignored(client, salon, sender):
    response = signed_post(client, reverse("twilio-inbound"), {"From": sender, "Body": "STOP"})
    assert response.status_code == 200
    assert not Client.objects.exclude(sms_suppression="").exists()


def test_a_delivery_report_that_beats_the_worker_keeps_delivered_and_sent_time(salon):
    from messaging.backends import SendResult
    from messaging.sending import claim, record_sent
    from messaging.webhooks import apply_delivery_report

    top_up(salon=salon, amount=10)
    appointment = AppointmentFactory(client=ClientFactory(salon=salon))
    queued = enqueue_message(client=appointment.client, kind=MessageKind.APPOINTMENT_CONFIRMATION, channel="sms",
                             appointment=appointment, dedupe_key="race:1")
    [message] = claim(message_ids=[queued.pk])
    apply_delivery_report(message.pk, provider_id="SM123", status="delivered")  # before the worker records
    record_sent(results=[(message, SendResult(provider_id="SM123"))])
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert message.sent_at is not None
    assert message.provider_id == "SM123"
