"""A staff member sees and touches only their own salon's data in the admin."""

import pytest
from django.urls import reverse

from appointments.models import Appointment
from consents.models import Source
from tests.factories import AppointmentFactory, ClientFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_salons(salon, other_salon, wording):
    mine = ClientFactory(salon=salon, first_name="Mine", last_name="Client")
    theirs = ClientFactory(salon=other_salon, first_name="Theirs", last_name="Secret")
    for c in (mine, theirs):
        grant(client=c, purpose="data_processing", wording=wording(c.salon, "data_processing"),
              source=Source.FORM_LINK)
        AppointmentFactory(client=c)
    return mine, theirs


def test_staff_changelist_shows_only_their_salons_clients(client, member, two_salons):
    client.force_login(member)
    response = client.get(reverse("admin:clients_client_changelist"))
    assert response.status_code == 200
    assert "Mine Client" in response.text
    assert "Theirs Secret" not in response.text


def test_staff_cannot_open_another_salons_client(client, member, two_salons):
    _mine, theirs = two_salons
    client.force_login(member)
    response = client.get(reverse("admin:clients_client_change", args=[theirs.pk]))
    assert response.status_code == 302  # the admin answers "does not exist" and goes home
    assert "Secret" not in client.get(response.url).text


def test_register_and_agenda_are_scoped(client, member, two_salons):
    client.force_login(member)
    for name in ("consents_consentevent", "appointments_appointment", "consents_consentstate"):
        page = client.get(reverse(f"admin:{name}_changelist")).text
        assert "Mine" in page, name
        assert "Theirs" not in page, name


def test_client_dropdown_offers_only_own_clients(client, member, two_salons):
    client.force_login(member)
    page = client.get(reverse("admin:appointments_appointment_add")).text
    assert "Theirs" not in page
    search = client.get(reverse("admin:autocomplete"), {
        "app_label": "appointments", "model_name": "appointment", "field_name": "client", "term": "",
    })
    names = [r["text"] for r in search.json()["results"]]
    assert names == ["Mine Client"]


def test_staff_cannot_book_another_salons_client_by_posting_its_id(client, member, salon, two_salons):
    _mine, theirs = two_salons
    client.force_login(member)
    response = client.post(reverse("admin:appointments_appointment_add"), {
        "salon": salon.pk, "client": theirs.pk, "starts_at_0": "2030-01-01", "starts_at_1": "10:00",
        "ends_at_0": "2030-01-01", "ends_at_1": "11:00", "service": "Cut", "status": "booked",
    })
    assert response.status_code == 200  # the form is shown again with an error
    assert "Select a valid choice" in response.text
    assert not Appointment.objects.filter(client=theirs, service="Cut").exists()


def test_register_is_read_only_even_for_superusers(client, superuser, two_salons):
    client.force_login(superuser)
    mine, _theirs = two_salons
    event = mine.consent_events.get()
    assert client.get(reverse("admin:consents_consentevent_add")).status_code == 403
    page = client.get(reverse("admin:consents_consentevent_change", args=[event.pk])).text
    assert 'type="submit" value="Save"' not in page
    delete = client.post(reverse("admin:consents_consentevent_delete", args=[event.pk]), {"post": "yes"})
    assert delete.status_code == 403


def test_superuser_sees_every_salon(client, superuser, two_salons):
    client.force_login(superuser)
    page = client.get(reverse("admin:clients_client_changelist")).text
    assert "Mine Client" in page
    assert "Theirs Secret" in page


def test_a_user_without_membership_sees_no_salon_models(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="drifter"))
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "Clients" not in page.text
    assert client.get(reverse("admin:clients_client_changelist")).status_code == 403


def test_staff_cannot_edit_salon_settings_but_owner_can(client, member, owner, salon):
    url = reverse("admin:salons_salon_change", args=[salon.pk])
    client.force_login(member)
    assert 'name="_save"' not in client.get(url).text
    client.force_login(owner)
    assert 'name="_save"' in client.get(url).text


def test_outsider_cannot_see_salon(client, outsider, salon):
    client.force_login(outsider)
    response = client.get(reverse("admin:salons_salon_change", args=[salon.pk]))
    assert response.status_code == 302
    assert salon.name not in client.get(reverse("admin:salons_salon_changelist")).text


def test_address_book_shows_consent_badges_in_constant_queries(client, member, salon, wording,
                                                               django_assert_max_num_queries):
    for i in range(30):
        c = ClientFactory(salon=salon, first_name=f"Bulk{i}")
        grant(client=c, purpose="marketing", channel="email", wording=wording(salon, "marketing"),
              source=Source.FORM_LINK)
    client.force_login(member)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("admin:clients_client_changelist")).text
    assert "Marketing email: granted" in page
    assert "Data: never asked" in page


def test_the_admin_shows_times_in_the_salons_time_zone(client, member, salon, wording):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    giulia = ClientFactory(salon=salon, first_name="Giulia")
    grant(client=giulia, purpose="data_processing", wording=wording(salon, "data_processing"), source=Source.FORM_LINK,
          occurred_at=datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("UTC")))
    client.force_login(member)
    page = client.get(reverse("admin:clients_client_change", args=[giulia.pk])).text
    assert "13:00" in page  # Europe/Rome in winter is UTC+1


def test_owners_cannot_change_prices_or_sender_id(client, owner, salon):
    client.force_login(owner)
    url = reverse("admin:salons_salon_change", args=[salon.pk])
    page = client.get(url).text
    assert 'name="sms_price_per_segment"' not in page
    assert 'name="sms_sender_id"' not in page


def test_a_saved_client_cannot_be_moved_to_another_salon(client, member, salon):
    giulia = ClientFactory(salon=salon)
    client.force_login(member)
    page = client.get(reverse("admin:clients_client_change", args=[giulia.pk])).text
    assert 'name="salon"' not in page


def test_the_address_book_filters_by_consent_state(client, member, salon, wording):
    from tests.register_tools import withdraw

    granted = ClientFactory(salon=salon, first_name="Granted")
    withdrawn = ClientFactory(salon=salon, first_name="Withdrawn")
    ClientFactory(salon=salon, first_name="Neverasked")
    grant(client=granted, purpose="marketing", channel="email", wording=wording(salon, "marketing"),
          source=Source.FORM_LINK)
    withdraw(client=withdrawn, purpose="marketing", channel="email", source=Source.EMAIL_UNSUBSCRIBE)
    client.force_login(member)
    url = reverse("admin:clients_client_changelist")
    for value, expected in [("granted", "Granted"), ("withdrawn", "Withdrawn"), ("never", "Neverasked")]:
        page = client.get(url, {"consent_marketing_email": value}).text
        shown = {name for name in ("Granted", "Withdrawn", "Neverasked") if f">{name} Rossi<" in page}
        assert shown == {expected}, value
