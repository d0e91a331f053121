"""Breach support: who a breach window may have exposed, the 72-hour clock, and notices sent once."""

import zoneinfo
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client, SuppressionReason
from consents.models import Source
from core.vocabulary import MessageKind
from credits.models import CreditEntry
from credits.services import account_for
from messaging.backends import locmem
from messaging.models import Message
from outreach.credits import top_up
from rights.breach import affected_clients, breach_report
from tests.factories import AppointmentFactory, ClientFactory, MessageFactory
from tests.register_tools import withdraw

pytestmark = pytest.mark.django_db

WHAT_HAPPENED = "On 20 November a laptop with our booking records was stolen from the salon."
CONTACT = "privacy@aurora.example or 06 1234 5678"


def age(client, days=30):
    """Make a client look untouched for `days`: created and last updated then."""
    then = timezone.now() - timedelta(days=days)
    Client.objects.filter(pk=client.pk).update(created_at=then, updated_at=then)
    return client


@pytest.fixture
def window():
    now = timezone.now()
    return now - timedelta(days=2), now


@pytest.fixture
def book(salon, other_salon, owner):
    """The salon's clients, each touched (or not) in a different way, and another salon's client."""
    now = timezone.now()
    clients = {
        "new": ClientFactory(salon=salon, first_name="New"),
        "untouched": age(ClientFactory(salon=salon, first_name="Untouched")),
        "appointment": age(ClientFactory(salon=salon, first_name="Booked")),
        "message": age(ClientFactory(salon=salon, first_name="Messaged")),
        "register": age(ClientFactory(salon=salon, first_name="Registered")),
        "erased": ClientFactory(salon=salon, first_name="Erased", erased_at=now),
        "other_salon": ClientFactory(salon=other_salon, first_name="Elsewhere"),
    }
    appointment = AppointmentFactory(client=clients["appointment"], starts_at=now - timedelta(days=1))
    AppointmentFactory(client=clients["untouched"], starts_at=now - timedelta(days=20))
    old = now - timedelta(days=25)
    Appointment.objects.filter(client=clients["untouched"]).update(created_at=old, updated_at=old)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=old, updated_at=old)  # it took place in the window
    MessageFactory(client=clients["message"])
    withdraw(client=clients["register"], purpose="marketing", channel="sms", source=Source.IN_PERSON, actor=owner)
    return clients


def test_the_report_lists_the_clients_the_window_touched_and_no_one_else(salon, book, window):
    since, until = window

    listed = set(affected_clients(salon=salon, since=since, until=until))

    assert listed == {book[name] for name in ("new", "appointment", "message", "register")}


def test_a_window_before_any_activity_lists_nobody(salon, book):
    now = timezone.now()

    assert not affected_clients(salon=salon, since=now - timedelta(days=200), until=now - timedelta(days=100)).exists()


def test_the_deadline_is_72_hours_after_detection(salon, window):
    since, until = window
    detected = timezone.now() - timedelta(hours=5)

    report = breach_report(salon=salon, since=since, until=until, detected_at=detected)

    assert report.deadline == detected + timedelta(hours=72)


def run(*args, **options):
    out = StringIO()
    call_command("breach_report", *args, stdout=out, **options)
    return out.getvalue()


def test_the_command_prints_the_count_detection_and_deadline_in_the_salons_time_zone(salon, book):
    since = (timezone.now() - timedelta(days=2)).isoformat()

    out = run("--salon", str(salon.pk), "--since", since, "--detected-at", "2026-11-02T10:00")

    assert "clients possibly affected: 4" in out
    assert "detected: 2026-11-02 10:00 CET" in out
    assert "(72 hours after detection): 2026-11-05 10:00 CET" in out
    assert "Europe/Rome" in out
    assert "Untouched" not in out
    assert "Elsewhere" not in out
    assert "Erased" not in out
    assert not Message.objects.filter(kind=MessageKind.BREACH_NOTICE).exists()  # listing sends nothing


def test_notify_twice_sends_one_notice_per_client_and_channel_and_charges_once(
    salon, book, django_capture_on_commit_callbacks
):
    top_up(salon=salon, amount=100)
    restricted, stopped, unreachable = (ClientFactory(salon=salon, first_name=name) for name in
                                        ("Restricted", "Stopped", "Unreachable"))
    Client.objects.filter(pk=restricted.pk).update(is_restricted=True)
    Client.objects.filter(pk=stopped.pk).update(sms_suppression=SuppressionReason.OPTED_OUT)
    Client.objects.filter(pk=unreachable.pk).update(phone="", email="")
    since = (timezone.now() - timedelta(days=2)).isoformat()
    args = ("--salon", salon.slug, "--since", since, "--notify", "--message", WHAT_HAPPENED, "--contact", CONTACT)

    with django_capture_on_commit_callbacks(execute=True):
        first = run(*args)
    balance_after_first = account_for(salon).balance
    with django_capture_on_commit_callbacks(execute=True):
        second = run(*args)

    notices = Message.objects.filter(kind=MessageKind.BREACH_NOTICE)
    # 4 touched clients + restricted on both channels, the STOPped one by email only, the unreachable one not at all.
    assert notices.count() == 2 * 5 + 1
    assert sorted(notices.filter(client=stopped).values_list("channel", flat=True)) == ["email"]
    assert set(notices.filter(client=restricted).values_list("status", flat=True)) == {Message.Status.SENT}
    assert set(notices.values_list("status", flat=True)) == {Message.Status.SENT}
    assert len(locmem.outbox) == 5
    assert len(mail.outbox) == 6
    charges = CreditEntry.objects.filter(salon=salon, kind=CreditEntry.Kind.CHARGE)
    assert charges.count() == 5  # email is free by default; one charge per SMS
    assert account_for(salon).balance == balance_after_first
    assert "breach notices queued: 11" in first
    assert "already queued by an earlier run: 0" in first
    assert "breach notices queued: 0" in second
    assert "already queued by an earlier run: 11" in second
    assert f"({unreachable.pk})" in first


def test_the_same_window_start_written_another_way_is_the_same_breach(salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    ClientFactory(salon=salon)
    since = timezone.now().astimezone(UTC).replace(microsecond=0) - timedelta(hours=1)
    in_rome = since.astimezone(zoneinfo.ZoneInfo("Europe/Rome")).replace(tzinfo=None)  # naive: read as salon time
    common = ("--salon", str(salon.pk), "--notify", "--message", WHAT_HAPPENED, "--contact", CONTACT)

    with django_capture_on_commit_callbacks(execute=True):
        run("--since", since.isoformat(), *common)
        second = run("--since", in_rome.isoformat(), *common)

    assert Message.objects.filter(kind=MessageKind.BREACH_NOTICE).count() == 2
    assert "breach notices queued: 0" in second


def test_the_notice_says_what_happened_what_data_what_to_do_and_whom_to_contact(
    salon, django_capture_on_commit_callbacks
):
    giulia = ClientFactory(salon=salon, first_name="Giulia", language="en")
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        run("--salon", str(salon.pk), "--since", since, "--notify", "--message", WHAT_HAPPENED, "--contact", CONTACT)

    email = Message.objects.get(client=giulia, channel="email")
    sms = Message.objects.get(client=giulia, channel="sms")
    assert email.subject == "Salone Aurora: important information about your personal data"
    for text in (WHAT_HAPPENED, CONTACT, "What data may be affected", "What you can do", "Hello Giulia"):
        assert text in email.body
    assert WHAT_HAPPENED in sms.body
    assert CONTACT in sms.body
    assert sms.body.startswith("Salone Aurora:")
    assert sms.reason == "breach_notice"


def test_notify_needs_the_salons_account_and_contact(salon):
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    with pytest.raises(CommandError, match="--message"):
        run("--salon", str(salon.pk), "--since", since, "--notify")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--salon", "nowhere", "--since", "2026-01-01"), "No salon"),
        (("--since", "yesterday"), "not a date"),
        (("--since", "2026-01-02", "--until", "2026-01-01"), "before --since"),
    ],
)
def test_bad_arguments_are_clear_errors(salon, args, error):
    if "--salon" not in args:
        args = ("--salon", str(salon.pk), *args)

    with pytest.raises(CommandError, match=error):
        run(*args)
