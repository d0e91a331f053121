"""seed_demo builds a believable salon once; running it again changes nothing."""

from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from consents.integrity import verify_register
from consents.models import ConsentEvent, ConsentState
from credits.models import CreditEntry
from salons.models import Salon

pytestmark = pytest.mark.django_db


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_salon_logins_clients_agenda_and_credits():
    output = seed()
    salon = Salon.objects.get(slug="demo")
    assert "owner  login: owner / demo-owner-pass" in output
    assert "staff  login: staff / demo-staff-pass" in output
    assert "500 credits" in output
    assert 45 <= salon.clients.count() <= 60
    assert salon.credit_account.balance == 500
    salon_tz = ZoneInfo(salon.time_zone)
    today = timezone.now().astimezone(salon_tz).date()
    days = {a.starts_at.astimezone(salon_tz).date() for a in Appointment.objects.filter(salon=salon)}
    assert days == {today, today + timedelta(days=1)}
    # Varied consent states: some never asked, some granted, some withdrawn, some suppressed.
    with_state = ConsentState.objects.filter(salon=salon).values("client").distinct().count()
    assert 0 < with_state < salon.clients.count()
    assert ConsentState.objects.filter(salon=salon, action="withdrawn").exists()
    assert ConsentState.objects.filter(salon=salon, purpose="marketing", channel="email", action="granted").exists()
    assert Client.objects.filter(salon=salon).exclude(sms_suppression="").exists()
    assert Client.objects.filter(salon=salon, lifecycle="prospect").exists()
    assert verify_register(salon).ok


def test_seed_demo_twice_duplicates_nothing():
    seed()
    counts = (Client.objects.count(), Appointment.objects.count(), ConsentEvent.objects.count(),
              CreditEntry.objects.count())
    output = seed()
    assert "already there" in output
    assert (Client.objects.count(), Appointment.objects.count(), ConsentEvent.objects.count(),
            CreditEntry.objects.count()) == counts


def test_demo_owner_sees_the_clients_with_their_consent_state(client):
    seed()
    assert client.login(request=HttpRequest(), username="owner", password="demo-owner-pass")  # axes needs a request
    page = client.get(reverse("admin:clients_client_changelist")).text
    assert "Marketing email: granted" in page
    assert "never asked" in page
    assert "withdrawn" in page
