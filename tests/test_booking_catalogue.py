"""The online-booking catalogue: validation, the slot selector's query count and who edits it in the admin."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from appointments.models import Appointment
from booking.models import BookingSettings, ClosedDay, OpeningHours, Service
from booking.selectors import slots_for
from salons.models import Membership
from tests.factories import (
    AppointmentFactory,
    BookingSettingsFactory,
    ClosedDayFactory,
    MembershipFactory,
    OpeningHoursFactory,
    SalonFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 6, 3)
NOW = datetime(2030, 6, 1, 8, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def cut(salon, owner, member):
    BookingSettingsFactory(salon=salon, slot_step_minutes=30)
    OpeningHoursFactory(salon=salon, weekday=OpeningHours.Weekday.MONDAY, opens=time(9), closes=time(13))
    OpeningHoursFactory(salon=salon, weekday=OpeningHours.Weekday.MONDAY, opens=time(14), closes=time(18))
    return ServiceFactory(salon=salon, names={"it": "Taglio", "en": "Cut"}, duration_minutes=60, price_display="€35",
                          staff=[owner, member])


# --- validation -------------------------------------------------------------------------------------------


def test_a_service_needs_its_name_in_the_salons_language(salon):
    service = Service(salon=salon, names={"en": "Cut"}, duration_minutes=30)
    with pytest.raises(ValidationError) as error:
        service.full_clean()
    assert "names" in error.value.message_dict


@pytest.mark.parametrize("names", [{}, {"xx": "Cut", "it": "Taglio"}, {"it": ""}, {"it": "x" * 121}, ["Taglio"]])
def test_service_names_are_a_mapping_of_known_languages_to_short_texts(salon, names):
    with pytest.raises(ValidationError):
        Service(salon=salon, names=names, duration_minutes=30).full_clean()


def test_a_service_name_is_shown_in_the_clients_language_or_else_the_salons(salon):
    service = Service(salon=salon, names={"it": "Taglio", "fi": "Hiustenleikkaus"}, duration_minutes=30)
    service.full_clean()
    assert service.name_for("fi") == "Hiustenleikkaus"
    assert service.name_for("de") == "Taglio"
    assert str(service) == "Taglio"


def test_staff_of_another_salon_cannot_perform_a_service(cut, outsider, salon):
    # add() writes without a savepoint of its own: a caller that goes on after a refusal needs one.
    with pytest.raises(ValidationError), transaction.atomic():
        cut.staff.add(outsider)
    with pytest.raises(ValidationError), transaction.atomic():
        outsider.booking_services.add(cut)
    assert set(cut.staff.all()) == {m.user for m in Membership.objects.filter(salon=salon)}


def test_the_salon_must_close_after_it_opens(salon):
    with pytest.raises(ValidationError) as error:
        OpeningHours(salon=salon, weekday=0, opens=time(18), closes=time(9)).full_clean()
    assert "closes" in error.value.message_dict
    with pytest.raises(ValidationError):
        OpeningHours(salon=salon, weekday=0, opens=time(9), closes=time(9)).full_clean()


def test_a_lunch_break_is_two_intervals_but_they_may_not_overlap(salon):
    OpeningHoursFactory(salon=salon, weekday=0, opens=time(9), closes=time(13))
    OpeningHours(salon=salon, weekday=0, opens=time(14), closes=time(18)).full_clean()
    OpeningHours(salon=salon, weekday=1, opens=time(12), closes=time(18)).full_clean()
    with pytest.raises(ValidationError):
        OpeningHours(salon=salon, weekday=0, opens=time(12), closes=time(18)).full_clean()


def test_a_day_is_closed_once_per_salon(salon, other_salon):
    ClosedDayFactory(salon=salon, date=MONDAY, reason="Ferragosto")
    ClosedDay(salon=other_salon, date=MONDAY).full_clean()
    with pytest.raises(ValidationError):
        ClosedDay(salon=salon, date=MONDAY).full_clean()


def test_embedding_sites_are_origins_one_per_line(salon):
    settings = BookingSettings(salon=salon, allowed_site_origins="https://www.aurora.it\n\nhttp://localhost:8000/\n")
    settings.full_clean()
    assert settings.site_origins() == ["https://www.aurora.it", "http://localhost:8000"]
    for bad in ("www.aurora.it", "https://aurora.it/booking", "https://*.aurora.it", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            BookingSettings(salon=salon, allowed_site_origins=bad).full_clean()


def test_booking_settings_have_the_specs_defaults(salon):
    settings = BookingSettings.objects.create(salon=salon)
    assert (settings.enabled, settings.horizon_days, settings.min_notice_minutes, settings.slot_step_minutes,
            settings.cancellation_notice_hours) == (False, 60, 120, 15, 24)


# --- slots_for ---------------------------------------------------------------------------------------------


def local_starts(slots):
    return [s.start.astimezone(ROME).strftime("%H:%M") for s in slots]


def book(salon, staff, start_hour, minutes=60, status=Appointment.Status.BOOKED):
    start = datetime.combine(MONDAY, time(start_hour), tzinfo=ROME)
    return AppointmentFactory(salon=salon, staff_member=staff, starts_at=start,
                              ends_at=start + timedelta(minutes=minutes), status=status)


def test_slots_follow_the_hours_and_lunch_break_of_the_salon(salon, cut):
    assert local_starts(slots_for(salon=salon, service=cut, day=MONDAY, now=NOW)) == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00",
        "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00",
    ]


def test_a_booked_appointment_takes_its_staff_member_only_and_cancelled_ones_take_nobody(salon, cut, owner, member):
    book(salon, owner, 10)
    book(salon, member, 10, status=Appointment.Status.CANCELLED)
    slots = {local_starts([s])[0]: s.staff_ids_free for s in slots_for(salon=salon, service=cut, day=MONDAY, now=NOW)}
    assert slots["10:00"] == (member.pk,)
    assert set(slots["11:00"]) == {owner.pk, member.pk}
    book(salon, member, 10)
    assert "10:00" not in local_starts(slots_for(salon=salon, service=cut, day=MONDAY, now=NOW))


def test_choosing_a_staff_member_shows_only_their_free_time(salon, cut, owner, member):
    book(salon, member, 9, minutes=240)
    slots = slots_for(salon=salon, service=cut, day=MONDAY, staff=member, now=NOW)
    assert local_starts(slots)[0] == "14:00"
    assert all(s.staff_ids_free == (member.pk,) for s in slots)


def test_a_staff_member_busy_in_another_salon_is_busy_here_too(salon, other_salon, cut, member):
    MembershipFactory(salon=other_salon, user=member)
    book(other_salon, member, 9, minutes=240)
    slots = slots_for(salon=salon, service=cut, day=MONDAY, staff=member, now=NOW)
    assert local_starts(slots)[0] == "14:00"


def test_no_slots_on_a_closed_day_when_booking_is_off_or_for_another_salons_service(salon, other_salon, cut):
    other_service = ServiceFactory(salon=other_salon, names={"it": "Piega"}, duration_minutes=30)
    assert slots_for(salon=salon, service=other_service, day=MONDAY, now=NOW) == []
    ClosedDayFactory(salon=salon, date=MONDAY, reason="Festa")
    assert slots_for(salon=salon, service=cut, day=MONDAY, now=NOW) == []
    ClosedDay.objects.all().delete()
    BookingSettings.objects.filter(salon=salon).update(enabled=False)
    assert slots_for(salon=salon, service=cut, day=MONDAY, now=NOW) == []


def test_someone_who_left_the_salon_is_not_offered(salon, cut, member):
    Membership.objects.filter(salon=salon, user=member).delete()
    slots = slots_for(salon=salon, service=cut, day=MONDAY, now=NOW)
    assert slots
    assert all(member.pk not in s.staff_ids_free for s in slots)


def test_minimum_notice_and_horizon_come_from_the_salons_settings(salon, cut):
    now = datetime.combine(MONDAY, time(9, 10), tzinfo=ROME)
    assert local_starts(slots_for(salon=salon, service=cut, day=MONDAY, now=now))[0] == "11:30"
    assert slots_for(salon=salon, service=cut, day=MONDAY, now=now - timedelta(days=61)) == []


@pytest.mark.parametrize("appointments", [5, 50])
def test_slots_take_a_constant_number_of_queries(salon, cut, owner, member, appointments,
                                                 django_assert_max_num_queries):
    for n in range(appointments):  # the owner's afternoon is full; the member is free all day
        # One booking per hour (the database refuses overlaps); the rest are cancelled rows.
        book(salon, owner, 14 + n % 4, minutes=15,
             status=Appointment.Status.BOOKED if n < 4 else Appointment.Status.CANCELLED)
    with django_assert_max_num_queries(5):
        slots = slots_for(salon=salon, service=cut, day=MONDAY, now=NOW)
    by_start = {local_starts([s])[0]: set(s.staff_ids_free) for s in slots}
    assert by_start["09:00"] == {owner.pk, member.pk}
    assert by_start["14:00"] == {member.pk}


# --- admin -------------------------------------------------------------------------------------------------


def test_the_owner_edits_the_catalogue_in_the_admin(client, salon, owner, member, cut):
    client.force_login(owner)
    response = client.post(reverse("admin:booking_service_add"), {
        "salon": salon.pk, "names": '{"it": "Colore", "en": "Colour"}', "duration_minutes": 90,
        "price_display": "€60", "staff": [member.pk], "active": "on", "ordering": 1,
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    colour = Service.objects.get(names__it="Colore")
    assert list(colour.staff.all()) == [member]

    response = client.post(reverse("admin:booking_openinghours_add"), {
        "salon": salon.pk, "weekday": 1, "opens": "09:00", "closes": "19:00",
    })
    assert response.status_code == 302
    assert OpeningHours.objects.filter(salon=salon, weekday=1).exists()

    settings = BookingSettings.objects.get(salon=salon)
    response = client.post(reverse("admin:booking_bookingsettings_change", args=[settings.pk]), {
        "salon": salon.pk, "enabled": "on", "horizon_days": 30, "min_notice_minutes": 60, "slot_step_minutes": 15,
        "cancellation_notice_hours": 12, "allowed_site_origins": "https://www.aurora.it",
    })
    assert response.status_code == 302
    settings.refresh_from_db()
    assert (settings.horizon_days, settings.site_origins()) == (30, ["https://www.aurora.it"])


def test_the_owner_cannot_give_a_service_to_another_salons_staff(client, salon, owner, outsider, cut):
    client.force_login(owner)
    response = client.post(reverse("admin:booking_service_change", args=[cut.pk]), {
        "salon": salon.pk, "names": '{"it": "Taglio"}', "duration_minutes": 60, "staff": [outsider.pk],
        "ordering": 0,
    })
    assert response.status_code == 200
    assert outsider not in cut.staff.all()


def test_the_owner_is_told_when_the_salons_language_is_missing(client, salon, owner):
    client.force_login(owner)
    response = client.post(reverse("admin:booking_service_add"), {
        "salon": salon.pk, "names": '{"en": "Cut"}', "duration_minutes": 30, "ordering": 0,
    })
    assert response.status_code == 200
    assert "salon&#x27;s language (it)" in response.text or "salon's language (it)" in response.text
    assert not Service.objects.exists()


def test_a_staff_member_can_view_but_not_edit_the_catalogue(client, salon, member, cut):
    client.force_login(member)
    assert "Taglio" in client.get(reverse("admin:booking_service_changelist")).text
    page = client.get(reverse("admin:booking_service_change", args=[cut.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert client.get(reverse("admin:booking_service_add")).status_code == 403
    response = client.post(reverse("admin:booking_service_change", args=[cut.pk]), {
        "salon": salon.pk, "names": '{"it": "Rasato"}', "duration_minutes": 5, "ordering": 0,
    })
    assert response.status_code == 403
    cut.refresh_from_db()
    assert cut.names["it"] == "Taglio"
    hours = OpeningHours.objects.filter(salon=salon).first()
    assert client.post(reverse("admin:booking_openinghours_delete", args=[hours.pk]), {"post": "yes"}).status_code \
        == 403
    assert OpeningHours.objects.filter(pk=hours.pk).exists()


def test_an_outsider_sees_nothing_of_the_salons_catalogue(client, outsider, salon, cut):
    ClosedDayFactory(salon=salon, date=MONDAY, reason="Ferragosto")
    client.force_login(outsider)
    for name in ("service", "openinghours", "closedday", "bookingsettings"):
        page = client.get(reverse(f"admin:booking_{name}_changelist"))
        assert page.status_code == 200
        assert "Taglio" not in page.text
        assert "Ferragosto" not in page.text
        assert "Salone Aurora" not in page.text
    response = client.get(reverse("admin:booking_service_change", args=[cut.pk]))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    add_page = client.get(reverse("admin:booking_service_add")).text
    assert "Salone Aurora" not in add_page
    assert ">owner<" not in add_page
    assert ">member<" not in add_page


def test_a_new_salon_has_no_catalogue_and_no_slots(db):
    salon = SalonFactory()
    service = ServiceFactory(salon=salon, names={"it": "Taglio"}, duration_minutes=30)
    assert slots_for(salon=salon, service=service, day=MONDAY, now=NOW) == []
