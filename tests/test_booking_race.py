"""Twenty people book the same staff member's same slot at once on PostgreSQL: exactly one wins."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from html import unescape

import requests
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment
from booking.models import OpeningHours
from clients.models import Client
from consents.models import ConsentEvent, ConsentState
from consents.services import Evidence
from messaging.models import Message
from outreach.online_booking import SlotTaken, book_online
from tests.factories import (
    BookingSettingsFactory,
    MembershipFactory,
    OpeningHoursFactory,
    SalonFactory,
    ServiceFactory,
)
from tests.markers import RACE

pytestmark = RACE

WORKERS = 20
NOW = datetime(2030, 6, 1, 8, tzinfo=UTC)
TEN = datetime(2030, 6, 3, 8, tzinfo=UTC)  # Monday 10:00 in Rome


def test_twenty_parallel_bookings_of_one_slot_give_one_appointment_and_nineteen_slot_taken():
    salon = SalonFactory()
    stylist = MembershipFactory(salon=salon).user
    BookingSettingsFactory(salon=salon, slot_step_minutes=30)
    OpeningHoursFactory(salon=salon, weekday=OpeningHours.Weekday.MONDAY, opens=time(9), closes=time(13))
    service = ServiceFactory(salon=salon, names={"it": "Taglio"}, duration_minutes=60, staff=[stylist])
    start = threading.Barrier(WORKERS)

    def attempt(i):
        try:
            start.wait()
            result = book_online(
                salon=salon, service=service, starts_at=TEN, staff=stylist, first_name=f"Client{i}",
                last_name="Rossi", phone=f"+39333{i:07d}", email=f"c{i}@example.com", language="it",
                consents=[("marketing", "sms"), ("service", "email")], evidence=Evidence(ip="203.0.113.1"),
                now=NOW,
            )
            return ("booked", result.client.pk)
        except SlotTaken as taken:
            return ("taken", [slot.start for slot in taken.next_slots])
        except Exception as error:  # anything else would be a 500 on the page
            return ("error", repr(error))
        finally:
            connection.close()  # each thread had its own PostgreSQL session

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(attempt, range(WORKERS)))

    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert errors == []
    booked = [detail for kind, detail in outcomes if kind == "booked"]
    taken = [detail for kind, detail in outcomes if kind == "taken"]
    assert len(booked) == 1
    assert len(taken) == WORKERS - 1
    assert all(next_slots for next_slots in taken)
    assert all(TEN not in next_slots for next_slots in taken)

    (winner,) = booked
    assert Appointment.objects.filter(salon=salon).count() == 1
    assert list(Client.objects.filter(salon=salon).values_list("pk", flat=True)) == [winner]
    assert set(ConsentEvent.objects.filter(salon=salon).values_list("client_id", flat=True)) == {winner}
    assert ConsentEvent.objects.filter(salon=salon).count() == 2
    assert ConsentState.objects.filter(salon=salon).count() == 2
    assert set(Message.objects.filter(salon=salon).values_list("client_id", flat=True)) == {winner}


def test_twenty_parallel_posts_of_the_booking_page_give_one_booking_and_nineteen_just_taken_pages(
        live_server, monkeypatch):
    """The same race through HTTP: the live server handles each POST in its own thread and connection."""
    cache.clear()
    monkeypatch.setattr("outreach.views.booking.POSTS_PER_IP", 1000)  # all twenty come from 127.0.0.1
    salon = SalonFactory()
    stylist = MembershipFactory(salon=salon).user
    BookingSettingsFactory(salon=salon, slot_step_minutes=30, min_notice_minutes=0)
    OpeningHoursFactory.every_day(salon=salon, opens=time(8), closes=time(20))
    service = ServiceFactory(salon=salon, names={"it": "Taglio"}, duration_minutes=60, staff=[stylist])
    day = timezone.now().date() + timedelta(days=2)

    def get(path):
        response = requests.get(live_server.url + path, timeout=30)
        response.raise_for_status()
        return response.text

    page = get(f"/b/{salon.slug}/{service.pk}/?lang=en&day={day}")
    url = unescape(re.search(r'href="([^"]*/book/\?[^"]*)"', page).group(1))

    def own_form():
        """Each client's own page of that time (each page's stamp books once)."""
        form = get(url)

        def hidden(name):
            return unescape(re.search(rf'name="{name}" value="([^"]*)"', form).group(1))

        return {"at": hidden("at"), "form_token": hidden("form_token"), "shown": hidden("shown"),
                "last_name": "Rossi", "email": "", "language": "en", "marketing_sms": "on"}

    # One client tapping "Confirm" five times at once: one booking, the same "booked" page each time.
    tapped = own_form()
    taps = threading.Barrier(5)

    def tap(_i):
        taps.wait()
        return requests.post(live_server.url + url, data={**tapped, "first_name": "Tap", "phone": "+393330009999"},
                             headers={"Origin": live_server.url}, timeout=60).status_code

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(tap, range(5))) == [200] * 5
    assert Appointment.objects.filter(salon=salon).count() == 1
    Appointment.objects.filter(salon=salon).update(status=Appointment.Status.CANCELLED)  # free the time again

    forms = [own_form() for _ in range(WORKERS)]
    assert len({form["form_token"] for form in forms}) == WORKERS
    start = threading.Barrier(WORKERS)

    def attempt(i):
        data = {**forms[i], "first_name": f"Client{i}", "phone": f"+39333{i:07d}"}
        start.wait()
        # The winner's redirect to the done page is followed: 200.
        response = requests.post(live_server.url + url, data=data, headers={"Origin": live_server.url}, timeout=60)
        return response.status_code, response.text

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(attempt, range(WORKERS)))

    statuses = sorted(status for status, _body in outcomes)
    assert statuses == [200] + [409] * (WORKERS - 1)
    assert all("This time was just taken" in body for status, body in outcomes if status == 409)
    booked = Appointment.objects.filter(salon=salon, status=Appointment.Status.BOOKED)
    assert booked.count() == 1
    winner = booked.get().client_id
    tapper = Client.objects.get(salon=salon, first_name="Tap").pk
    assert sorted(Client.objects.filter(salon=salon).values_list("pk", flat=True)) == sorted([tapper, winner])
    assert set(ConsentEvent.objects.filter(salon=salon).values_list("client_id", flat=True)) == {tapper, winner}
