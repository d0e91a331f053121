"""The public booking page and the manage link, through Django's test client.

Covers the steps, the headers that make the page embeddable only where the salon allows it, the
abuse guards (Origin, signed form stamp, honeypot, rate limits, bounded fields), the "just taken"
answer, the manage link (cancel up to the notice, preferences) and constant query counts.
"""

import hashlib
import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from booking.models import ManageLink
from booking.selectors import slots_for_days
from clients.models import Client
from consents.models import ConsentEvent, ConsentLink, Source
from consents.services import publish_wording
from messaging.backends import locmem
from messaging.models import Message
from messaging.sending import send_message
from outreach.credits import top_up
from outreach.forms import FORM_SALT
from rights.erasure import erase_client
from tests.factories import (
    AppointmentFactory,
    BookingSettingsFactory,
    ClientFactory,
    MembershipFactory,
    OpeningHoursFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def booking(salon):
    settings = BookingSettingsFactory(salon=salon, slot_step_minutes=30, min_notice_minutes=0,
                                      allowed_site_origins="https://www.aurora.example")
    OpeningHoursFactory.every_day(salon=salon, opens=time(0, 0), closes=time(23, 30))
    return settings


@pytest.fixture
def cut(salon, owner, booking):
    return ServiceFactory(salon=salon, names={"it": "Taglio", "en": "Cut", "fi": "Leikkaus"}, duration_minutes=60,
                          price_display="€35", staff=[owner])


def html(response) -> str:
    return response.content.decode()


def slot_urls(client, salon, service, **params) -> list[str]:
    query = "&".join(f"{key}={value}" for key, value in {"lang": "en", **params}.items())
    response = client.get(f"/b/{salon.slug}/{service.pk}/?{query}")
    assert response.status_code == 200
    return [unescape(url) for url in re.findall(r'href="([^"]*/book/\?[^"]*)"', html(response))]


def hidden(page: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def form_data(client, url: str, **fields) -> dict:
    page = html(client.get(url))
    data = {"at": hidden(page, "at"), "form_token": hidden(page, "form_token"), "shown": hidden(page, "shown"),
            "first_name": "Giulia", "last_name": "Bianchi", "phone": "333 123 4567", "email": "",
            "language": "it"}
    return {**data, **fields}


def post(client, url, data, **headers):
    return client.post(url, data, HTTP_ORIGIN=headers.pop("origin", ORIGIN), **headers)


def written():
    return (Client.objects.count(), Appointment.objects.count(), ConsentEvent.objects.count(),
            Message.objects.count())


def book(client, salon, cut, **fields):
    """Book the first free time three days ahead (beyond the cancellation notice)."""
    in_three_days = timezone.now().astimezone(ZoneInfo(salon.time_zone)).date() + timedelta(days=3)
    url = slot_urls(client, salon, cut, day=in_three_days.isoformat(), **(
        {"staff": fields["staff"]} if "staff" in fields else {}))[0]
    response = post(client, url, form_data(client, url, **fields))
    assert response.status_code == 302, html(response)[-2000:]
    return Appointment.objects.latest("pk"), response


# --- the steps ---------------------------------------------------------------------------------------------

def test_services_page_lists_what_can_be_booked(client, salon, cut, owner):
    ServiceFactory(salon=salon, names={"it": "Colore"}, duration_minutes=90)  # nobody performs it
    ServiceFactory(salon=salon, names={"it": "Piega"}, duration_minutes=30, active=False, staff=[owner])

    response = client.get(f"/b/{salon.slug}/?lang=it")

    assert response.status_code == 200
    page = html(response)
    assert "Taglio" in page
    assert "€35" in page
    assert "Colore" not in page
    assert "Piega" not in page
    assert 'lang="it"' in page


@pytest.mark.parametrize("slug", ["nowhere", "aurora"])
def test_unknown_salon_or_booking_off_is_a_clear_404(client, salon, slug):
    BookingSettingsFactory(salon=salon, enabled=False)
    response = client.get(f"/b/{slug}/")
    assert response.status_code == 404
    assert "does not take bookings online" in html(response)


def test_slots_page_links_each_free_time_and_hides_taken_ones(client, salon, cut, owner):
    urls = slot_urls(client, salon, cut)
    assert urls, "a salon open all day has free times today or tomorrow"
    first = re.search(r"at=([0-9T:\-]+Z)", urls[0]).group(1)
    starts_at = datetime.strptime(first, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))

    assert not any(first in url for url in slot_urls(client, salon, cut))


def test_slots_page_lets_the_client_choose_the_staff_member(client, salon, cut, owner):
    anna = MembershipFactory(salon=salon, user__username="anna", user__first_name="Anna").user
    cut.staff.add(anna)
    page = html(client.get(f"/b/{salon.slug}/{cut.pk}/?lang=en"))
    assert "Anyone available" in page
    assert "Anna" in page

    urls = slot_urls(client, salon, cut, staff=anna.pk)
    assert urls
    assert all(f"staff={anna.pk}" in url for url in urls)
    appointment, _response = book(client, salon, cut, staff=str(anna.pk))
    assert appointment.staff_member == anna


def test_slots_page_takes_a_constant_number_of_queries(client, salon, cut, owner, django_assert_max_num_queries):
    def page_queries(appointments: int) -> None:
        Appointment.objects.all().delete()
        start = timezone.now() + timedelta(days=1)
        for index in range(appointments):
            begin = start + timedelta(hours=index)
            AppointmentFactory(salon=salon, staff_member=owner, starts_at=begin, ends_at=begin + timedelta(minutes=30))
        with django_assert_max_num_queries(8):
            assert client.get(f"/b/{salon.slug}/{cut.pk}/?lang=en").status_code == 200

    page_queries(5)
    page_queries(50)


def test_slots_for_days_is_constant_in_queries_for_a_week(salon, cut, django_assert_max_num_queries):
    today = timezone.localdate()
    with django_assert_max_num_queries(5):
        by_day = slots_for_days(salon=salon, service=cut, days=[today + timedelta(days=n) for n in range(1, 8)])
    assert all(by_day.values())


def test_the_form_shows_the_privacy_notice_and_nothing_ticked(client, salon, cut, wording):
    ClientFactory(salon=salon, phone="+393331234567")
    url = slot_urls(client, salon, cut)[0]
    page = html(client.get(url))
    assert wording(salon, "data_processing", "en").text[:60] in page
    assert "does not depend on these choices" in page
    assert re.findall(r'<input type="checkbox"[^>]*>', page)
    assert " checked" not in page
    assert 'name="website"' in page  # the honeypot, out of the tab order
    assert 'tabindex="-1"' in page


# --- booking ---------------------------------------------------------------------------------------------------

def test_booking_with_nothing_ticked_writes_the_appointment_and_a_confirmation_with_a_manage_link(client, salon, cut):
    appointment, response = book(client, salon, cut)

    assert appointment.source == Appointment.Source.ONLINE
    assert not ConsentEvent.objects.exists()
    (message,) = Message.objects.filter(appointment=appointment, kind="appointment_confirmation")
    assert message.channel == "sms"
    assert "/m/**********************/" in message.body  # the stored text never holds the token
    token = re.search(r"/m/([A-Za-z0-9_\-]{22})/", delivered(message).body).group(1)
    assert ManageLink.objects.get(appointment=appointment).token_hash == hashlib.sha256(token.encode()).hexdigest()
    done = client.get(response["Location"])
    assert done.status_code == 200
    assert "Your appointment is booked" in html(done)


def test_ticked_boxes_become_register_entries_with_the_wording_shown(client, salon, cut, owner, wording):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, marketing_email="on", email="giulia@example.com")
    shown = wording(salon, "marketing", "en")
    # The salon publishes a new wording while the client is filling in the form: the one shown counts.
    publish_wording(salon=salon, purpose="marketing", language="en", title="Offers", text="New offers text.")

    response = post(client, url, data, HTTP_USER_AGENT="Phone/1.0", REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 302
    (event,) = ConsentEvent.objects.all()
    assert (event.purpose, event.channel, event.action, event.source) == ("marketing", "email", "granted",
                                                                          Source.BOOKING_WIDGET)
    assert (event.wording_id, event.wording_sha256) == (shown.pk, shown.sha256)
    assert (event.ip, event.user_agent) == ("198.51.100.4", "Phone/1.0")


def test_a_taken_time_answers_just_taken_with_the_next_free_times(client, salon, cut, owner):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url)
    at = datetime.strptime(data["at"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    AppointmentFactory(salon=salon, staff_member=owner, starts_at=at, ends_at=at + timedelta(hours=1))
    before = written()

    response = post(client, url, data)

    assert response.status_code == 409
    page = html(response)
    assert "This time was just taken" in page
    assert len(re.findall(r'href="[^"]*/book/\?[^"]*at=', page)) >= 3
    assert written() == before
    # Opening the link of a time taken since says so at once, before any typing.
    reopened = client.get(url)
    assert reopened.status_code == 409
    assert "This time was just taken" in html(reopened)


def test_bad_details_get_clear_errors_in_the_clients_language_and_write_nothing(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, phone="12", first_name="x" * 81, email="not-an-email")
    before = written()

    response = post(client, url.replace("lang=en", "lang=it"), {**data, "lang": "it"})

    assert response.status_code == 400
    page = html(response)
    assert 'aria-invalid="true"' in page
    assert "Controlla i campi evidenziati" in page  # "Please check the highlighted fields." in Italian
    assert written() == before


@pytest.mark.parametrize("origin", ["https://evil.example", ""])
def test_a_post_from_another_site_or_without_origin_is_refused(client, salon, cut, origin):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url)
    before = written()
    response = client.post(url, data, **({"HTTP_ORIGIN": origin} if origin else {}))
    assert response.status_code == 403
    assert "was not sent from this salon's booking page" in html(response)
    assert written() == before


def test_the_embedding_site_posts_from_our_own_origin_without_a_csrf_cookie(salon, cut):
    from django.test import Client as Browser

    browser = Browser(enforce_csrf_checks=True)  # like a third-party iframe: no CSRF cookie comes back
    url = slot_urls(browser, salon, cut)[0]
    data = form_data(browser, url)
    browser.cookies.clear()
    assert post(browser, url, data).status_code == 302


@pytest.mark.parametrize("tamper", ["form_token", "shown"])
def test_a_tampered_form_is_refused(client, salon, other_salon, cut, tamper):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url)
    data[tamper] = signing.dumps(other_salon.pk, salt=FORM_SALT) if tamper == "form_token" else "x"
    before = written()
    response = post(client, url, data)
    assert response.status_code == 400
    assert "The form was changed on the way" in html(response)
    assert written() == before


def test_a_page_left_open_too_long_must_be_sent_again(client, salon, cut, monkeypatch):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url)
    monkeypatch.setattr("outreach.forms.FORM_MAX_AGE", -1)
    response = post(client, url, data)
    assert response.status_code == 400
    assert "open for too long" in html(response)


def test_the_honeypot_refuses_bots_and_writes_nothing(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    before = written()
    response = post(client, url, form_data(client, url, website="http://spam.example"))
    assert response.status_code == 400
    assert "could not be sent" in html(response)
    assert written() == before


def test_bookings_are_limited_per_phone(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, first_name="")  # invalid: nothing booked, but every try counts
    spellings = ["333 000 0001", "+39 333 0000001", "3330000001", "333-000-0001", "(333) 000 0001"]
    assert [post(client, url, {**data, "phone": phone}).status_code for phone in spellings] == [400] * 5
    response = post(client, url, {**data, "phone": "333 0000 001"})
    assert response.status_code == 429
    assert "Please wait a moment" in html(response)
    assert post(client, url, {**data, "phone": "333 000 0002"}).status_code == 400  # another phone: not limited


def test_bookings_are_limited_per_ip(client, salon, cut, monkeypatch):
    monkeypatch.setattr("outreach.views.booking.POSTS_PER_IP", 3)
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, first_name="")
    for number in range(3):
        assert post(client, url, {**data, "phone": f"333 000 00{number:02d}"}).status_code == 400
    response = post(client, url, {**data, "phone": "333 000 0099"})
    assert response.status_code == 429
    assert "Please wait a moment" in html(response)


def test_a_bad_time_parameter_is_a_clear_400(client, salon, cut):
    response = client.get(f"/b/{salon.slug}/{cut.pk}/book/?at=tomorrow&lang=en")
    assert response.status_code == 400
    assert "Choose one of the times offered" in html(response)


def test_a_tampered_done_link_is_not_found(client, salon, cut):
    assert client.get(f"/b/{salon.slug}/booked/nonsense/").status_code == 404


# --- embedding --------------------------------------------------------------------------------------------------

def test_only_the_salons_sites_may_frame_the_booking_pages(client, salon, cut):
    for url in (f"/b/{salon.slug}/", f"/b/{salon.slug}/{cut.pk}/", slot_urls(client, salon, cut)[0]):
        response = client.get(url)
        assert "X-Frame-Options" not in response
        assert "frame-ancestors 'self' https://www.aurora.example" in response["Content-Security-Policy"]


def test_the_manage_page_and_the_admin_may_not_be_framed(client, salon, cut):
    appointment, _response = book(client, salon, cut)
    body = Message.objects.get(appointment=appointment, kind="appointment_confirmation").body
    manage = client.get(re.search(r"(/m/[^/\s]+/)", body).group(1))
    assert manage["X-Frame-Options"] == "DENY"
    assert client.get("/admin/login/")["X-Frame-Options"] == "DENY"


def test_owners_see_the_embed_snippet(client, salon, booking, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:booking_bookingsettings_change", args=[booking.pk]))
    page = html(response)
    assert "&lt;iframe id=&quot;salonconsent-booking-aurora&quot; src=&quot;http" in page
    assert f"/b/{salon.slug}/" in page
    assert "salonconsentBookingHeight" in page


# --- the manage link --------------------------------------------------------------------------------------------

def delivered(message):
    """The SMS the client received for this outbox message (the worker sends it first if it has not yet)."""
    if not any(sms.message_id == message.pk for sms in locmem.outbox):
        top_up(salon=message.salon, amount=max(message.cost, 1))  # these tests' salon starts without credits
        send_message(message_id=message.pk)
    (sms,) = [sms for sms in locmem.outbox if sms.message_id == message.pk]
    return sms


def manage_url(appointment, language="en") -> str:
    """The manage link as the client received it in the confirmation SMS."""
    message = Message.objects.get(appointment=appointment, kind="appointment_confirmation")
    return re.search(r"(/m/[A-Za-z0-9_\-]{22}/)", delivered(message).body).group(1) + f"?lang={language}"


def test_the_manage_page_speaks_the_clients_language(client, salon, cut):
    appointment, _response = book(client, salon, cut, language="it")
    page = html(client.get(manage_url(appointment).split("?")[0]))
    assert 'lang="it"' in page
    assert "Disdici l’appuntamento" in page


def test_the_client_cancels_through_the_manage_link(client, salon, cut):
    appointment, _response = book(client, salon, cut)
    url = manage_url(appointment)
    page = client.get(url)
    assert page.status_code == 200
    assert "Cancel the appointment" in html(page)

    response = client.post(url, {"action": "cancel"})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "client")
    assert Message.objects.filter(appointment=appointment, kind="appointment_cancellation").exists()
    again = client.post(url, {"action": "cancel"})
    assert again.status_code == 400
    assert "already cancelled" in html(again)
    assert Message.objects.filter(appointment=appointment, kind="appointment_cancellation").count() == 1


def test_too_late_to_cancel_online(client, salon, cut, booking):
    appointment, _response = book(client, salon, cut)
    booking.cancellation_notice_hours = 24 * 365
    booking.save()
    url = manage_url(appointment)
    assert "Cancel the appointment" not in html(client.get(url))
    response = client.post(url, {"action": "cancel"})
    assert response.status_code == 400
    assert "too late to cancel online" in html(response)
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_the_manage_link_opens_the_preference_page(client, salon, cut):
    appointment, _response = book(client, salon, cut)
    response = client.post(manage_url(appointment), {"action": "preferences"})
    assert response.status_code == 302
    assert "/c/" in response["Location"]
    assert ConsentLink.objects.filter(client=appointment.client, kind="preferences").exists()
    assert client.get(response["Location"]).status_code == 200


def test_unknown_and_erased_manage_links(client, salon, owner, cut):
    assert client.get("/m/AAAAAAAAAAAAAAAAAAAAAA/").status_code == 404
    appointment, _response = book(client, salon, cut)
    url = manage_url(appointment)
    erase_client(client=appointment.client, by=owner, reason="The client asked by phone.")
    assert client.get(url).status_code == 410


def test_the_agenda_shows_online_bookings_and_client_cancellations(client, salon, cut, owner):
    appointment, _response = book(client, salon, cut)
    client.post(manage_url(appointment), {"action": "cancel"})
    client.force_login(owner)
    local_day = appointment.starts_at.astimezone(ZoneInfo(salon.time_zone)).date()
    page = html(client.get(reverse("admin:appointments_appointment_agenda") + f"?day={local_day}"))
    assert "Booked online" in page
    assert "Cancelled by the client online" in page


def test_the_details_page_and_the_booking_take_a_bounded_number_of_queries(
        client, salon, cut, owner, django_assert_max_num_queries):
    start = timezone.now() + timedelta(days=4)
    for index in range(40):
        begin = start + timedelta(hours=index)
        AppointmentFactory(salon=salon, staff_member=owner, starts_at=begin, ends_at=begin + timedelta(minutes=30))
    url = slot_urls(client, salon, cut)[0]
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    data = form_data(client, url, marketing_email="on", email="giulia@example.com")
    with django_assert_max_num_queries(40):  # a new client, one grant (and the register's tree head), the confirmation
        assert post(client, url, data).status_code == 302


def test_confirming_the_empty_form_says_what_is_missing(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, first_name="", last_name="", phone="")
    response = post(client, url, data)
    assert response.status_code == 400
    page = html(response)
    for message in ("Please enter your first name.", "Please enter your last name.", "Please enter your phone number."):
        assert message in page
    assert written() == (0, 0, 0, 0)


def test_a_bad_phone_is_reported_with_the_other_fields_in_one_round(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    page = html(post(client, url, form_data(client, url, first_name="", phone="12")))
    assert "Please enter your first name." in page
    assert "is not a valid phone number" in page


def test_a_double_tap_on_confirm_books_once_and_answers_the_same(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, email="giulia@example.com", marketing_email="on")
    first, second = post(client, url, data), post(client, url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Appointment.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.filter(kind="appointment_confirmation").count() == 1


def test_a_resend_seconds_later_answers_the_same_page(client, salon, cut, monkeypatch):
    # The two posts of a double tap may straddle a second: the answer must not depend on when each lands.
    import time as time_module

    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, email="giulia@example.com")
    first = post(client, url, data)
    later = time_module.time() + 7
    monkeypatch.setattr(time_module, "time", lambda: later)
    second = post(client, url, data)
    assert first["Location"] == second["Location"]
    assert client.get(second["Location"]).status_code == 200
    assert Appointment.objects.count() == 1


def test_a_corrected_form_can_still_be_sent(client, salon, cut):
    url = slot_urls(client, salon, cut)[0]
    data = form_data(client, url, first_name="")
    assert post(client, url, data).status_code == 400
    assert post(client, url, {**data, "first_name": "Giulia"}).status_code == 302


def test_cancelling_asks_for_confirmation_first(client, salon, cut):
    appointment, _response = book(client, salon, cut)
    url = manage_url(appointment)
    response = client.post(url, {"action": "confirm_cancel"})
    assert response.status_code == 200
    assert "Yes, cancel the appointment" in html(response)
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_a_time_inside_the_cancellation_notice_says_it_cannot_be_cancelled_online(client, salon, cut, booking):
    booking.cancellation_notice_hours = 24 * 30
    booking.save()
    page = html(client.get(slot_urls(client, salon, cut)[0]))
    assert "it cannot be cancelled online" in page
