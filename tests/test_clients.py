"""Clients: phones read with the salon's region, clear errors for bad contact data."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.models import Client
from clients.services import create_client
from tests.factories import SalonFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("region", "typed", "stored"),
    [
        ("IT", "333 123 4567", "+393331234567"),
        ("FR", "06 12 34 56 78", "+33612345678"),
        ("DE", "0151 23456789", "+4915123456789"),
        ("FI", "040 123 4567", "+358401234567"),
        ("IT", "+33 6 12 34 56 78", "+33612345678"),  # an international number keeps its country
    ],
)
def test_phone_is_parsed_with_the_salons_region(region, typed, stored):
    salon = SalonFactory(phone_region=region)
    client = create_client(salon=salon, first_name="Anna", phone=typed)
    client.refresh_from_db()
    assert client.phone.as_e164 == stored


def test_invalid_phone_is_refused_with_an_example():
    salon = SalonFactory(phone_region="IT")
    with pytest.raises(ValidationError) as error:
        create_client(salon=salon, first_name="Anna", phone="12")
    message = " ".join(error.value.messages)
    assert "“12” is not a valid phone number for IT" in message
    assert "+39" in message
    assert not Client.objects.exists()


def test_invalid_email_is_refused():
    salon = SalonFactory()
    with pytest.raises(ValidationError) as error:
        create_client(salon=salon, first_name="Anna", email="anna@@example")
    assert "email" in error.value.message_dict
    assert not Client.objects.exists()


def test_email_domain_is_normalised_and_language_defaults_to_salons():
    salon = SalonFactory(language="fi")
    client = create_client(salon=salon, first_name="Aino", email="  Aino.V@Example.FI ")
    assert client.email == "Aino.V@example.fi"
    assert client.language == "fi"
    assert client.lifecycle == Client.Lifecycle.PROSPECT


def test_admin_form_reads_national_phone_with_salon_region(client, owner, salon):
    client.force_login(owner)
    response = client.post(reverse("admin:clients_client_add"), {
        "salon": salon.pk, "first_name": "Giulia", "last_name": "Bianchi", "phone": "347 765 4321",
        "email": "giulia@example.com", "language": "it",
        "consent_states-TOTAL_FORMS": 0, "consent_states-INITIAL_FORMS": 0,
        "consent_events-TOTAL_FORMS": 0, "consent_events-INITIAL_FORMS": 0,
        "contact_changes-TOTAL_FORMS": 0, "contact_changes-INITIAL_FORMS": 0,
    })
    assert response.status_code == 302, response.text[:2000]
    assert Client.objects.get(first_name="Giulia").phone.as_e164 == "+393477654321"


def test_admin_form_shows_a_clear_phone_error(client, owner, salon):
    client.force_login(owner)
    response = client.post(reverse("admin:clients_client_add"), {
        "salon": salon.pk, "first_name": "Giulia", "phone": "not a number", "language": "it",
        "consent_states-TOTAL_FORMS": 0, "consent_states-INITIAL_FORMS": 0,
        "consent_events-TOTAL_FORMS": 0, "consent_events-INITIAL_FORMS": 0,
        "contact_changes-TOTAL_FORMS": 0, "contact_changes-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "is not a valid phone number for IT" in response.text
    assert not Client.objects.exists()


def test_appointment_must_end_after_it_starts(salon):
    from datetime import timedelta

    from django.utils import timezone

    from appointments.models import Appointment
    from tests.factories import ClientFactory

    start = timezone.now()
    appointment = Appointment(salon=salon, client=ClientFactory(salon=salon), starts_at=start,
                              ends_at=start - timedelta(minutes=5), service="Cut")
    with pytest.raises(ValidationError, match="end after it starts"):
        appointment.full_clean()
