"""No live link token is readable where we keep or log anything: the outbox stores each text with its link
redacted, and the token is derived again only to hand the text to the provider (issue 14, links nobody can read)."""

import hashlib
import logging
import re
from datetime import UTC, datetime, time

import pytest
from celery.signals import task_prerun
from django.apps import apps
from django.core import mail
from django.db import models
from django.db.models.functions import Cast
from django.urls import reverse

from booking.models import OpeningHours
from consents.services import Evidence
from core.links import REDACTED
from core.vocabulary import MessageKind
from messaging.backends import locmem
from messaging.models import Message
from messaging.services import enqueue_message, resend
from outreach.consent_requests import send_consent_request
from outreach.credits import top_up
from outreach.online_booking import book_online
from tests.factories import (
    AppointmentFactory,
    BookingSettingsFactory,
    ClientFactory,
    OpeningHoursFactory,
    ServiceFactory,
)
from tests.register_tools import grant

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/[cum]/([A-Za-z0-9_-]{22})/")
NOW = datetime(2030, 6, 1, 8, tzinfo=UTC)
TEN = datetime(2030, 6, 3, 8, tzinfo=UTC)  # Monday 10:00 in Rome


def columns_holding(text: str) -> list[str]:
    """Every text-like column of every table whose value contains `text` (JSON as its text)."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                rows = model._default_manager.annotate(as_text=Cast(field.name, models.TextField()))
                if rows.filter(as_text__contains=text).exists():
                    found.append(f"{model._meta.db_table}.{field.column}")
    return found


@pytest.fixture
def sent_links(salon, owner, wording, django_capture_on_commit_callbacks, caplog):
    """A consent request (SMS), a marketing email with its preference and unsubscribe links, and an online
    booking's confirmation with its manage link, each sent through the outbox; what the providers got."""
    caplog.set_level(logging.DEBUG)
    payloads = []

    def keep_payload(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra):
        payloads.append(repr((args, kwargs)))

    task_prerun.connect(keep_payload, weak=False)
    top_up(salon=salon, amount=100)
    giulia = ClientFactory(salon=salon, phone="+393331234567", email="giulia@example.com", language="it")
    AppointmentFactory(client=giulia)  # a relationship: the request is service, not marketing
    for purpose, channel in [("data_processing", ""), ("marketing", "email")]:
        grant(client=giulia, purpose=purpose, channel=channel, wording=wording(salon, purpose, "it"),
              source="form_link")
    BookingSettingsFactory(salon=salon, slot_step_minutes=30)
    OpeningHoursFactory(salon=salon, weekday=OpeningHours.Weekday.MONDAY, opens=time(9), closes=time(13))
    cut = ServiceFactory(salon=salon, names={"en": "Cut"}, duration_minutes=60, staff=[owner])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            request = send_consent_request(client=giulia, channel="sms")
            promo = enqueue_message(client=giulia, kind=MessageKind.MARKETING, channel="email", dedupe_key="promo:1",
                                    context={"text": "Promo", "subject": "Giugno"})
            booked = book_online(salon=salon, service=cut, starts_at=TEN, first_name="Anna", last_name="Verdi",
                                 phone="+393339876543", email="", language="en", consents=[],
                                 evidence=Evidence(ip="203.0.113.7"), now=NOW)
    finally:
        task_prerun.disconnect(keep_payload)
    confirmation = Message.objects.get(appointment=booked.appointment, kind="appointment_confirmation")
    received = {
        "request": next(sms.body for sms in locmem.outbox if sms.message_id == request.pk),
        "promo": mail.outbox[-1].body,
        "unsubscribe": mail.outbox[-1].extra_headers["List-Unsubscribe"],
        "confirmation": next(sms.body for sms in locmem.outbox if sms.message_id == confirmation.pk),
    }
    return {"messages": [request, promo, confirmation], "received": received, "payloads": payloads,
            "log": caplog.text}


def tokens_in(received: dict) -> dict[str, str]:
    return {name: LINK.search(text).group(1) for name, text in received.items()}


def test_no_table_no_log_line_and_no_task_payload_holds_a_token_that_was_sent(sent_links, client):
    tokens = tokens_in(sent_links["received"])
    assert len(set(tokens.values())) == 3  # the request, the preference link (twice: body and header), manage
    for name, token in tokens.items():
        assert columns_holding(token) == [], name
        assert token not in sent_links["log"], name
        assert not any(token in payload for payload in sent_links["payloads"]), name
    assert sent_links["payloads"], "the tasks ran through Celery (eager) and their payloads were seen"
    # Each token the client got opens its page.
    assert client.get(reverse("consent-form", args=[tokens["request"]])).status_code == 200
    assert client.get(reverse("consent-form", args=[tokens["promo"]])).status_code == 200
    assert client.get(reverse("booking-manage", args=[tokens["confirmation"]])).status_code == 200


def test_the_outbox_keeps_the_text_with_the_link_redacted_and_the_hash_of_what_was_sent(sent_links):
    for message in sent_links["messages"]:
        message.refresh_from_db()
        assert f"/{REDACTED}/" in message.body
        assert message.status == Message.Status.SENT
    request, promo, confirmation = sent_links["messages"]
    received = sent_links["received"]
    assert request.text_sha256 == hashlib.sha256(received["request"].encode()).hexdigest()
    assert confirmation.text_sha256 == hashlib.sha256(received["confirmation"].encode()).hexdigest()
    # Same length and encoding as what was sent: the stored segments and cost are the real ones.
    assert len(request.body) == len(received["request"])
    assert promo.headers["List-Unsubscribe"].count(REDACTED) == 1


def test_the_message_page_in_the_admin_shows_the_redacted_text(sent_links, client, owner):
    request = sent_links["messages"][0]
    client.force_login(owner)
    page = client.get(reverse("admin:messaging_message_change", args=[request.pk])).content.decode()
    assert f"/c/{REDACTED}/" in page
    assert tokens_in(sent_links["received"])["request"] not in page


def test_staff_resend_a_link_they_cannot_open_and_it_still_opens_the_page(sent_links, client, owner,
                                                                        django_capture_on_commit_callbacks):
    confirmation = sent_links["messages"][2]  # "I lost my confirmation": the desk sends it again
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:messaging_message_changelist"),
                               {"action": "send_again", "_selected_action": [confirmation.pk]})
    assert response.status_code == 302
    again = Message.objects.exclude(pk=confirmation.pk).get(kind=MessageKind.APPOINTMENT_CONFIRMATION)
    assert again.status == Message.Status.SENT, again.reason
    resent = next(sms.body for sms in locmem.outbox if sms.message_id == again.pk)
    token = LINK.search(resent).group(1)
    assert token == tokens_in(sent_links["received"])["confirmation"]  # the same link, sent again
    client.logout()
    assert client.get(reverse("booking-manage", args=[token])).status_code == 200


def test_a_resent_consent_request_still_honours_the_cooldown(sent_links, owner):
    again = resend(message=sent_links["messages"][0], by=owner)
    assert again.status == Message.Status.BLOCKED
    assert again.reason == "cooldown"


def test_a_message_whose_link_cannot_be_derived_again_is_not_resent(salon, owner):
    # Sent before this release: the stored text was redacted by the migration and no link is named.
    old = Message.objects.create(
        salon=salon, client=ClientFactory(salon=salon), kind=MessageKind.CONSENT_REQUEST, channel="sms",
        language="en", body=f"Hello https://x.example/c/{REDACTED}/", dedupe_key="old:1", status="sent",
    )
    with pytest.raises(Exception, match="made before links could be re-sent"):
        resend(message=old, by=owner)


def test_the_migration_redacts_links_already_stored_in_the_outbox(salon):
    from importlib import import_module

    migration = import_module("messaging.migrations.0006_redact_links_in_stored_messages")
    token = "AbCdEfGhIjKlMnOpQrStUv"
    message = Message.objects.create(
        salon=salon, client=ClientFactory(salon=salon), kind=MessageKind.MARKETING, channel="email",
        language="en", body=f"Offers: https://x.example/c/{token}/ and /m/{token}/", dedupe_key="old:2",
        headers={"List-Unsubscribe": f"<https://x.example/u/{token}/>", "List-Unsubscribe-Post": "One-Click"},
    )
    migration.redact(apps, None)
    message.refresh_from_db()
    assert token not in message.body
    assert token not in message.headers["List-Unsubscribe"]
    assert message.body == f"Offers: https://x.example/c/{REDACTED}/ and /m/{REDACTED}/"
    assert message.headers["List-Unsubscribe-Post"] == "One-Click"
