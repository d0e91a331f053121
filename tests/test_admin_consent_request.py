"""Staff send privacy authorisation requests from the address book."""

import pytest
from django.urls import reverse

from credits.services import top_up
from messaging.backends import locmem
from messaging.models import Message
from tests.factories import AppointmentFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_bulk_request_by_sms_reports_queued_and_skipped_with_reasons(client, member, salon,
                                                                     django_capture_on_commit_callbacks):
    locmem.outbox.clear()
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=10)
    ready = AppointmentFactory(client=ClientFactory(salon=salon, first_name="Ready")).client
    no_phone = AppointmentFactory(client=ClientFactory(salon=salon, first_name="Nophone", phone="")).client
    stranger = ClientFactory(salon=salon, first_name="Stranger")  # no appointment: no relationship
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:clients_client_changelist"), {
            "action": "request_consent_by_sms", "_selected_action": [ready.pk, no_phone.pk, stranger.pk],
        }, follow=True)
    page = response.text
    assert "1 privacy authorisation request queued." in page
    assert "1 not sent: The client has no phone number" in page
    assert "1 not sent: No appointment coming up or in the last 90 days" in page
    assert [sms.to for sms in locmem.outbox] == [ready.phone.as_e164]
    assert Message.objects.get(client=ready).status == Message.Status.SENT
