"""Twenty people book the same staff member's same slot at once on PostgreSQL: exactly one wins."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time

import pytest
from django.db import connection

from appointments.models import Appointment
from booking.models import BookingSettings, OpeningHours, Service
from booking.services import SlotTaken, book_online
from clients.models import Client
from consents.models import ConsentEvent, ConsentState
from consents.services import Evidence
from messaging.models import Message
from tests.factories import MembershipFactory, SalonFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WORKERS = 20
NOW = datetime(2030, 6, 1, 8, tzinfo=UTC)
TEN = datetime(2030, 6, 3, 8, tzinfo=UTC)  # Monday 10:00 in Rome


def test_twenty_parallel_bookings_of_one_slot_give_one_appointment_and_nineteen_slot_taken():
    salon = SalonFactory()
    stylist = MembershipFactory(salon=salon).user
    BookingSettings.objects.create(salon=salon, enabled=True, slot_step_minutes=30)
    OpeningHours.objects.create(salon=salon, weekday=OpeningHours.Weekday.MONDAY, opens=time(9), closes=time(13))
    service = Service.objects.create(salon=salon, names={"it": "Taglio"}, duration_minutes=60)
    service.staff.set([stylist])
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
    assert len(booked) == 1 and len(taken) == WORKERS - 1
    assert all(next_slots and TEN not in next_slots for next_slots in taken)

    (winner,) = booked
    assert Appointment.objects.filter(salon=salon).count() == 1
    assert list(Client.objects.filter(salon=salon).values_list("pk", flat=True)) == [winner]
    assert set(ConsentEvent.objects.filter(salon=salon).values_list("client_id", flat=True)) == {winner}
    assert ConsentEvent.objects.filter(salon=salon).count() == 2
    assert ConsentState.objects.filter(salon=salon).count() == 2
    assert set(Message.objects.filter(salon=salon).values_list("client_id", flat=True)) == {winner}
