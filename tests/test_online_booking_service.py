"""Online booking's service: client matching, consent capture, confirmation, and nothing written on refusal."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from appointments.models import Appointment
from booking.models import OpeningHours
from clients.models import Client
from consents.models import ConsentEvent, ConsentState, Source
from consents.services import Evidence
from messaging.models import Message
from outreach.online_booking import BookingResult, SlotTaken, book_online
from rights.erasure import erase_client
from tests.factories import (
    AppointmentFactory,
    BookingSettingsFactory,
    ClientFactory,
    OpeningHoursFactory,
    ServiceFactory,
)
from tests.register_tools import withdraw

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 6, 3)
NOW = datetime(2030, 6, 1, 8, tzinfo=UTC)
TEN = datetime(2030, 6, 3, 8, tzinfo=UTC)  # 10:00 in Rome (CEST)
EVIDENCE = Evidence(ip="203.0.113.7", user_agent="Mozilla/5.0 (test)")


@pytest.fixture
def cut(salon, owner):
    BookingSettingsFactory(salon=salon, slot_step_minutes=30)
    OpeningHoursFactory(salon=salon, weekday=OpeningHours.Weekday.MONDAY, opens=time(9), closes=time(13))
    return ServiceFactory(salon=salon, names={"it": "Taglio", "en": "Cut"}, duration_minutes=60, staff=[owner])


def book(salon, cut, **overrides) -> BookingResult:
    details = {"salon": salon, "service": cut, "starts_at": TEN, "first_name": "Giulia", "last_name": "Bianchi",
               "phone": "333 123 4567", "email": "", "language": "it", "consents": [], "evidence": EVIDENCE,
               "now": NOW}
    return book_online(**{**details, **overrides})


def written():
    return (Client.objects.count(), Appointment.objects.count(), ConsentEvent.objects.count(),
            Message.objects.count())


def test_booking_with_nothing_ticked_books_and_confirms_per_policy(salon, cut, owner):
    result = book(salon, cut)

    appointment = result.appointment
    assert result.created_client
    assert not result.flagged_suppressed
    assert (appointment.starts_at, appointment.ends_at) == (TEN, TEN + timedelta(hours=1))
    assert appointment.staff_member == owner  # picked: the only free performer
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.service == "Taglio"  # the client's language
    assert result.client.phone.as_e164 == "+393331234567"
    assert result.client.lifecycle == Client.Lifecycle.PROSPECT  # a visit makes a client, not a booking
    assert not ConsentEvent.objects.exists()
    confirmations = Message.objects.filter(appointment=appointment, kind="appointment_confirmation")
    assert list(confirmations.values_list("channel", flat=True)) == ["sms"]


def test_the_same_phone_is_the_same_client_and_ticked_boxes_are_recorded(salon, cut, wording):
    first = book(salon, cut)
    second = book(salon, cut, starts_at=TEN + timedelta(hours=1), phone="+39 333 1234567",
                  email="giulia@Example.com", first_name="Someone", consents=[("marketing", "email")])

    assert second.client == first.client
    assert not second.created_client
    second.client.refresh_from_db()
    assert second.client.first_name == "Giulia"  # a booking never rewrites the client's details
    (event,) = ConsentEvent.objects.filter(client=first.client)
    shown = wording(salon, "marketing", "it")
    assert (event.purpose, event.channel, event.action) == ("marketing", "email", "granted")
    assert event.source == Source.BOOKING_WIDGET
    assert (event.wording_id, event.wording_sha256) == (shown.pk, shown.sha256)
    assert (event.ip, event.user_agent) == ("203.0.113.7", "Mozilla/5.0 (test)")


def test_an_existing_client_is_matched_by_email_too(salon, cut):
    known = ClientFactory(salon=salon, phone="+393339999999", email="giulia@example.com")
    result = book(salon, cut, phone="333 123 4567", email="giulia@EXAMPLE.com")
    assert result.client == known
    assert not result.created_client


def test_a_client_who_withdrew_marketing_stays_withdrawn(salon, cut, wording):
    known = ClientFactory(salon=salon, phone="+393331234567")
    withdraw(client=known, purpose="marketing", channel="sms", source=Source.FORM_LINK)
    before = ConsentEvent.objects.count()

    result = book(salon, cut, consents=[("service", "sms")])

    assert result.client == known
    state = {(s.purpose, s.channel): s.action for s in ConsentState.objects.filter(client=known)}
    assert state == {("marketing", "sms"): "withdrawn", ("service", "sms"): "granted"}
    assert ConsentEvent.objects.count() == before + 1


def test_a_contact_of_an_erased_client_becomes_a_new_flagged_client(salon, cut, owner, wording):
    erased = ClientFactory(salon=salon, phone="+393331234567", email="giulia@example.com")
    book(salon, cut, starts_at=TEN + timedelta(hours=2))  # matched to `erased`, who then gets an agenda entry
    erase_client(client=erased, by=owner, reason="asked at the desk")

    result = book(salon, cut, email="giulia@example.com")

    assert result.created_client
    assert result.flagged_suppressed
    assert result.client != erased
    assert result.client.notes
    assert not ConsentState.objects.filter(client=result.client).exists()


def test_a_slot_no_longer_free_is_refused_with_the_next_slots_and_nothing_written(salon, cut, owner):
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN,
                       ends_at=TEN + timedelta(minutes=45))
    before = written()

    with pytest.raises(SlotTaken) as refused:
        book(salon, cut, consents=[("marketing", "sms")], email="new@example.com")

    assert written() == before
    starts = [slot.start for slot in refused.value.next_slots]
    assert starts
    assert starts[0] == TEN + timedelta(minutes=60)
    assert all(start > TEN for start in starts)


def test_the_overlap_check_runs_in_the_transaction_not_only_in_the_slot_list(salon, cut, owner, monkeypatch):
    """Between listing the slots and writing, someone else books: the loser writes nothing."""
    import outreach.online_booking as services

    real = services.slots_for

    def stale_then_real(**kwargs):
        slots = real(**kwargs)
        if not Appointment.objects.exists():
            AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN,
                               ends_at=TEN + timedelta(hours=1))
        return slots

    monkeypatch.setattr(services, "slots_for", stale_then_real)
    with pytest.raises(SlotTaken):
        book(salon, cut, consents=[("marketing", "sms")])
    assert written() == (1, 1, 0, 0)  # only the other booking's client and appointment


@pytest.mark.parametrize(("field", "overrides"), [
    ("phone", {"phone": "12"}),
    ("phone", {"phone": ""}),
    ("email", {"email": "not-an-email"}),
    ("first_name", {"first_name": "  "}),
    ("last_name", {"last_name": "x" * 81}),
    ("language", {"language": "xx"}),
    ("consents", {"consents": [("marketing", "")]}),
])
def test_bad_input_is_refused_per_field_and_writes_nothing(salon, cut, field, overrides):
    before = written()
    with pytest.raises(ValidationError) as refused:
        book(salon, cut, **{"consents": [("marketing", "sms")], **overrides})
    assert field in refused.value.message_dict
    assert written() == before


def test_postgresql_refuses_overlapping_booked_appointments_of_one_staff_member(salon, owner, member, vendor):
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN,
                       ends_at=TEN + timedelta(hours=1))
    # Touching ends, another person, or a cancelled appointment: all fine everywhere.
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN + timedelta(hours=1),
                       ends_at=TEN + timedelta(hours=2))
    AppointmentFactory(salon=salon, staff_member=member, starts_at=TEN,
                       ends_at=TEN + timedelta(hours=1))
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN,
                       ends_at=TEN + timedelta(hours=1), status=Appointment.Status.CANCELLED)
    if vendor != "postgresql":
        return
    with pytest.raises(IntegrityError, match="no_overlapping_bookings_per_staff"), transaction.atomic():
        AppointmentFactory(salon=salon, staff_member=owner,
                           starts_at=TEN + timedelta(minutes=30), ends_at=TEN + timedelta(minutes=90))
    assert connection.vendor == "postgresql"


def test_ticking_a_message_by_email_without_an_email_address_is_a_clear_error(salon, cut):
    before = written()
    with pytest.raises(ValidationError) as error:
        book(salon, cut, consents=[("service", "email")])
    assert "Enter your email address" in error.value.message_dict["email"][0]
    assert written() == before


def test_the_next_free_slots_after_a_taken_one_come_in_a_constant_number_of_queries(
        salon, cut, owner, django_assert_max_num_queries):
    from outreach.online_booking import next_free_slots

    AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN, ends_at=TEN + timedelta(hours=3))
    with django_assert_max_num_queries(5):
        found = next_free_slots(salon=salon, service=cut, after=TEN, now=NOW)
    assert found
    assert all(slot.start >= TEN + timedelta(hours=3) for slot in found)


@pytest.mark.parametrize("date_style", ["ISO, MDY", "SQL, DMY", "German", "Postgres, YMD"])
def test_busy_times_are_read_right_whatever_the_servers_date_style(salon, cut, owner, date_style):
    # The agenda rows are read as text (speed); the text must not depend on the server's settings.
    from booking.selectors import slots_for

    if connection.vendor != "postgresql":
        pytest.skip("DateStyle is PostgreSQL's")
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=TEN + timedelta(microseconds=250_000),
                       ends_at=TEN + timedelta(hours=1, minutes=30))
    with connection.cursor() as cursor:
        cursor.execute(f"SET DateStyle = '{date_style}'")
    day = date(2030, 6, 3)
    starts = {slot.start for slot in slots_for(salon=salon, service=cut, day=day, now=NOW)}
    assert TEN - timedelta(hours=1) in starts  # 09:00–10:00 ends as the busy time begins
    assert TEN - timedelta(minutes=30) not in starts
    assert TEN not in starts
    assert TEN + timedelta(hours=1) not in starts
    assert TEN + timedelta(hours=1, minutes=30) in starts  # starts as the busy time ends
