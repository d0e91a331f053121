"""Staff send privacy authorisation requests from the address book, after a confirmation page."""

import pytest
from django.urls import reverse

from messaging.backends import locmem
from messaging.models import Message
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_clients(salon):
    salon.sms_sender_id = "Aurora"
    salon.save()
    ready = AppointmentFactory(client=ClientFactory(salon=salon, first_name="Ready")).client
    no_phone = AppointmentFactory(client=ClientFactory(salon=salon, first_name="Nophone", phone="")).client
    stranger = ClientFactory(salon=salon, first_name="Stranger")  # no appointment: no relationship
    return ready, no_phone, stranger


def test_the_action_shows_counts_reasons_and_cost_before_sending_anything(client, member, salon, three_clients):
    top_up(salon=salon, amount=10)
    client.force_login(member)
    response = client.post(reverse("admin:clients_client_changelist"), {
        "action": "request_consent_by_sms", "_selected_action": [c.pk for c in three_clients],
    })
    page = response.text
    assert response.status_code == 200
    assert "1 request will be sent." in page
    assert "The client has no phone number" in page
    assert "No appointment coming up or in the last 90 days" in page
    assert "Cost: 1 credits. Balance: 10 credits." in page
    assert not Message.objects.exists()
    assert locmem.outbox == []


def test_confirming_sends_and_leads_to_the_outbox(client, member, salon, three_clients,
                                                  django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    ready = three_clients[0]
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:clients_client_request_consent"), {
            "channel": "sms", "ids": ",".join(str(c.pk) for c in three_clients), "confirm": "yes",
        })
    assert response.status_code == 302
    assert "kind__exact=consent_request" in response.url
    assert [sms.to for sms in locmem.outbox] == [ready.phone.as_e164]
    assert Message.objects.get().status == Message.Status.SENT
    assert "1 privacy authorisation request queued." in client.get(response.url).text


def test_a_short_balance_is_announced(client, member, salon, three_clients):
    client.force_login(member)  # no credits at all
    page = client.get(reverse("admin:clients_client_request_consent"),
                      {"channel": "sms", "ids": str(three_clients[0].pk)}).text
    assert "1 credits short" in page


def test_another_salons_clients_cannot_be_targeted(client, outsider, three_clients):
    client.force_login(outsider)
    page = client.get(reverse("admin:clients_client_request_consent"),
                      {"channel": "sms", "ids": ",".join(str(c.pk) for c in three_clients)}).text
    assert "0 requests will be sent." not in page
    assert "Ready" not in page
    assert not Message.objects.exists()


def test_a_bad_channel_is_a_clear_400(client, member, three_clients):
    client.force_login(member)
    response = client.get(reverse("admin:clients_client_request_consent"), {"channel": "fax", "ids": "1"})
    assert response.status_code == 400
    assert "Choose SMS or email" in response.text
