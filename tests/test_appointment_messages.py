"""Appointment messages: confirmation, cancellation, review request and reminders, on the policy's channels."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from appointments.models import Appointment
from clients.models import Client
from clients.services import mark_dormant
from consents.models import Source
from messaging.models import Message
from outreach.appointments import (
    book_appointment,
    cancel_appointment,
    complete_appointment,
    in_quiet_hours,
    reminder_due,
    send_reminders,
)
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory, MembershipFactory, SalonFactory
from tests.register_tools import grant, withdraw

pytestmark = pytest.mark.django_db
ROME, HELSINKI = ZoneInfo("Europe/Rome"), ZoneInfo("Europe/Helsinki")


@pytest.fixture
def rome(db):
    salon = SalonFactory(name="Roma", time_zone="Europe/Rome", sms_sender_id="Roma")
    top_up(salon=salon, amount=100)
    return salon


def kinds(client):
    return sorted(Message.objects.filter(client=client).values_list("kind", "channel"))


def test_booking_confirms_on_the_default_channel_only(rome, django_capture_on_commit_callbacks):
    client = ClientFactory(salon=rome, email="a@example.com")
    start = datetime(2030, 3, 4, 10, 0, tzinfo=ROME)
    with django_capture_on_commit_callbacks(execute=True):
        book_appointment(salon=rome, client=client, starts_at=start, ends_at=start + timedelta(hours=1),
                         service="Piega")
    assert kinds(client) == [("appointment_confirmation", "sms")]  # no preference: the salon's default, SMS
    assert Message.objects.get().status == Message.Status.SENT


def test_both_service_channels_get_both_and_cancellation_follows(rome, wording, django_capture_on_commit_callbacks):
    client = ClientFactory(salon=rome, email="a@example.com")
    for channel in ("sms", "email"):
        grant(client=client, purpose="service", channel=channel, wording=wording(rome, "service"),
              source=Source.FORM_LINK)
    start = datetime(2030, 3, 4, 10, 0, tzinfo=ROME)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book_appointment(salon=rome, client=client, starts_at=start,
                                       ends_at=start + timedelta(hours=1), service="Colore")
        cancel_appointment(appointment=appointment)
        cancel_appointment(appointment=appointment)  # twice: one notice per channel
    assert kinds(client) == [("appointment_cancellation", "email"), ("appointment_cancellation", "sms"),
                             ("appointment_confirmation", "email"), ("appointment_confirmation", "sms")]


def test_done_moves_the_last_visit_and_asks_for_a_review_only_with_data_processing(rome, wording):
    with_dp = ClientFactory(salon=rome, email="a@example.com")
    grant(client=with_dp, purpose="data_processing", wording=wording(rome, "data_processing"),
          source=Source.FORM_LINK)
    without = ClientFactory(salon=rome)
    for client in (with_dp, without):
        appointment = AppointmentFactory(client=client, starts_at=datetime(2026, 5, 2, 23, 30, tzinfo=ROME))
        complete_appointment(appointment=appointment)
        client.refresh_from_db()
        assert client.last_visit.isoformat() == "2026-05-02"
        assert client.lifecycle == "client"
    assert kinds(with_dp) == [("review_request", "sms")]  # no service preference: the default channel
    assert kinds(without) == []


def test_quiet_hours_span_midnight():
    assert in_quiet_hours(time(22, 0), time(21, 0), time(8, 0))
    assert in_quiet_hours(time(3, 0), time(21, 0), time(8, 0))
    assert not in_quiet_hours(time(8, 0), time(21, 0), time(8, 0))
    assert not in_quiet_hours(time(12, 0), time(21, 0), time(8, 0))


@pytest.mark.parametrize(("zone", "starts", "expected"), [
    # 24 h before a 15:00 appointment: 15:00 the day before, outside quiet hours.
    ("Europe/Rome", datetime(2030, 3, 5, 15, 0), datetime(2030, 3, 4, 15, 0)),
    # 24 h before a 07:30 appointment is 07:30, in the quiet hours: moved to 08:00, still before it.
    ("Europe/Helsinki", datetime(2030, 3, 5, 7, 30), datetime(2030, 3, 4, 8, 0)),
    # 24 h before a 22:00 appointment is 22:00: moved to 08:00 the next morning (the appointment day).
    ("Europe/Rome", datetime(2030, 3, 5, 22, 0), datetime(2030, 3, 5, 8, 0)),
])
def test_reminders_are_moved_out_of_the_night_in_the_salons_time_zone(zone, starts, expected):
    salon = SalonFactory(time_zone=zone)
    appointment = AppointmentFactory(client=ClientFactory(salon=salon),
                                     starts_at=starts.replace(tzinfo=ZoneInfo(zone)))
    assert reminder_due(appointment, salon) == expected.replace(tzinfo=ZoneInfo(zone))


def test_send_reminders_sends_what_is_due_once(rome, django_capture_on_commit_callbacks):
    client = ClientFactory(salon=rome)
    now = datetime(2030, 3, 4, 15, 5, tzinfo=ROME)
    due = AppointmentFactory(client=client, starts_at=datetime(2030, 3, 5, 15, 0, tzinfo=ROME))
    AppointmentFactory(client=client, starts_at=datetime(2030, 3, 6, 15, 0, tzinfo=ROME))  # not yet due
    with django_capture_on_commit_callbacks(execute=True):
        first = send_reminders(now=now)
        second = send_reminders(now=now + timedelta(minutes=10))
    assert (first.due, first.queued, second.due) == (1, 1, 0)
    assert list(Message.objects.filter(kind="appointment_reminder").values_list("appointment", flat=True)) == [
        due.pk]


def test_no_reminder_goes_at_night_even_when_the_run_is_late(rome):
    client = ClientFactory(salon=rome)
    AppointmentFactory(client=client, starts_at=datetime(2030, 3, 5, 20, 50, tzinfo=ROME))  # due 20:50
    assert send_reminders(now=datetime(2030, 3, 4, 21, 10, tzinfo=ROME)).queued == 0
    assert send_reminders(now=datetime(2030, 3, 5, 8, 0, tzinfo=ROME)).queued == 1


def test_a_client_who_withdrew_data_processing_gets_no_reminder(rome):
    client = ClientFactory(salon=rome)
    withdraw(client=client, purpose="data_processing", source=Source.FORM_LINK)
    AppointmentFactory(client=client, starts_at=datetime(2030, 3, 5, 15, 0, tzinfo=ROME))
    assert send_reminders(now=datetime(2030, 3, 4, 15, 5, tzinfo=ROME)).queued == 0
    assert not Message.objects.exists()


def test_send_reminders_command(rome, capsys):
    call_command("send_reminders")
    assert "reminders queued" in capsys.readouterr().out


def test_mark_dormant_is_set_based_per_salon(rome):
    from datetime import date

    helsinki = SalonFactory(time_zone="Europe/Helsinki", dormant_months=6)
    old_rome = ClientFactory(salon=rome, last_visit=date(2025, 1, 1), lifecycle="client")
    recent_rome = ClientFactory(salon=rome, last_visit=date(2026, 6, 1), lifecycle="dormant")
    old_helsinki = ClientFactory(salon=helsinki, last_visit=date(2026, 3, 1), lifecycle="client")
    changed = mark_dormant(today=date(2026, 11, 22))
    assert changed[rome.pk] == (1, 1)
    assert changed[helsinki.pk] == (1, 0)
    states = dict(Client.objects.values_list("pk", "lifecycle"))
    assert states[old_rome.pk] == "dormant"
    assert states[recent_rome.pk] == "client"
    assert states[old_helsinki.pk] == "dormant"


def test_booking_from_the_admin_sends_the_confirmation(client, member, rome, django_capture_on_commit_callbacks):
    from django.urls import reverse

    MembershipFactory(salon=rome, user=member)
    giulia = ClientFactory(salon=rome, first_name="Giulia")
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:appointments_appointment_add"), {
            "salon": rome.pk, "client": giulia.pk, "starts_at_0": "2030-01-10", "starts_at_1": "10:00",
            "ends_at_0": "2030-01-10", "ends_at_1": "11:00", "service": "Piega", "status": "booked",
        })
    assert response.status_code == 302, response.text[:500]
    appointment = Appointment.objects.get(client=giulia)
    assert kinds(giulia) == [("appointment_confirmation", "sms")]
    assert Message.objects.get().appointment == appointment
