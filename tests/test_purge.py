"""purge: dead consent links go, old message texts are blanked (rows stay), dormant clients are proposed."""

import io
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.models import Client
from consents.models import ConsentEvent, ConsentLink, Source
from messaging.models import Message
from rights.retention import purge
from tests.factories import AppointmentFactory, ClientFactory, ConsentLinkFactory, MessageFactory, SalonFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
_tokens = itertools.count()


@pytest.fixture
def short(db):
    """Keeps message texts 6 months, proposes erasure after 24 months without a visit."""
    return SalonFactory(name="Short", message_retention_months=6, erasure_proposal_months=24)


@pytest.fixture
def long(db):
    """Keeps message texts 24 months, proposes erasure after 36 months without a visit."""
    return SalonFactory(name="Long", message_retention_months=24, erasure_proposal_months=36,
                        time_zone="Europe/Helsinki")


def message(salon, *, age, status=Message.Status.DELIVERED, **fields):
    """A reminder from `age` ago, delivered unless `status` says otherwise: a text to blank, an outcome to keep."""
    client = ClientFactory(salon=salon)
    row = MessageFactory(client=client, status=status, recipient=str(client.phone), subject="Promemoria",
                         body="Ciao Anna, a domani alle 10!", segments=1, cost=1, charged=1,
                         provider_id=f"SM{next(_tokens)}", sent_at=NOW - age, delivered_at=NOW - age, **fields)
    Message.objects.filter(pk=row.pk).update(created_at=NOW - age, updated_at=NOW - age)
    row.refresh_from_db()
    return row


def client_of(salon, *, last_visit=None, added=None, **fields):
    person = ClientFactory(salon=salon, last_visit=last_visit, **fields)
    Client.objects.filter(pk=person.pk).update(created_at=added or NOW - timedelta(days=1))
    return person


def by_salon(report):
    return {done.salon.pk: done for done in report.salons}


# (a) consent links

def test_links_expired_or_revoked_more_than_30_days_ago_are_deleted(short, long, client_, wording):
    gone = [
        ConsentLinkFactory(salon=short, expires_at=NOW - timedelta(days=31)),
        ConsentLinkFactory(salon=short, expires_at=NOW + timedelta(days=200), revoked_at=NOW - timedelta(days=31)),
        ConsentLinkFactory(salon=long, expires_at=NOW - timedelta(days=400)),
    ]
    kept = [
        ConsentLinkFactory(salon=short, expires_at=NOW - timedelta(days=29)),  # expired, but within the grace
        ConsentLinkFactory(salon=short, expires_at=NOW + timedelta(days=10), revoked_at=NOW - timedelta(days=5)),
        ConsentLinkFactory(salon=long, expires_at=NOW + timedelta(days=10)),  # still usable
    ]
    grant(client=client_, purpose="data_processing", wording=wording(client_.salon, "data_processing"),
          source=Source.FORM_LINK)
    register = list(ConsentEvent.objects.values_list("pk", "entry_hash"))

    report = by_salon(purge(now=NOW))

    assert report[short.pk].links_deleted == 2
    assert report[long.pk].links_deleted == 1
    assert not ConsentLink.objects.filter(pk__in=[x.pk for x in gone]).exists()
    assert set(ConsentLink.objects.values_list("pk", flat=True)) == {x.pk for x in kept}
    assert list(ConsentEvent.objects.values_list("pk", "entry_hash")) == register  # the register is not touched


# (b) message texts

def test_message_texts_past_each_salons_retention_are_blanked_and_the_outcome_rows_stay(short, long):
    old_in_short = message(short, age=timedelta(days=200), error_code="30003", error_text="Unreachable handset")
    recent_in_short = message(short, age=timedelta(days=170))
    same_age_in_long = message(long, age=timedelta(days=200))
    old_in_long = message(long, age=timedelta(days=760), channel="email")

    report = by_salon(purge(now=NOW))

    assert report[short.pk].messages_blanked == 1
    assert report[long.pk].messages_blanked == 1
    for blanked, before in [(Message.objects.get(pk=old_in_short.pk), old_in_short),
                            (Message.objects.get(pk=old_in_long.pk), old_in_long)]:
        assert blanked.body == ""
        assert blanked.subject == ""
        outcome = ["kind", "channel", "status", "cost", "charged", "segments", "provider_id", "error_code",
                   "error_text", "created_at", "updated_at", "sent_at", "delivered_at", "client_id", "dedupe_key"]
        assert {f: getattr(blanked, f) for f in outcome} == {f: getattr(before, f) for f in outcome}
    for kept in (recent_in_short, same_age_in_long):
        assert Message.objects.get(pk=kept.pk).body == "Ciao Anna, a domani alle 10!"
    assert Message.objects.count() == 4  # rows are never deleted


def test_a_message_still_on_its_way_keeps_its_text(short):
    held = message(short, age=timedelta(days=400), status=Message.Status.HELD_NO_CREDIT)
    pending = message(short, age=timedelta(days=400), status=Message.Status.PENDING)
    assert by_salon(purge(now=NOW))[short.pk].messages_blanked == 0
    assert {m.body for m in Message.objects.filter(pk__in=[held.pk, pending.pk])} == {"Ciao Anna, a domani alle 10!"}


def test_a_second_run_finds_nothing_more_to_do(short, long):
    message(short, age=timedelta(days=400))
    ConsentLinkFactory(salon=long, expires_at=NOW - timedelta(days=60))
    purge(now=NOW)
    again = purge(now=NOW)
    assert [(d.links_deleted, d.messages_blanked) for d in again.salons] == [(0, 0), (0, 0)]


# (c) dormant clients proposed for erasure

def test_dormant_clients_are_proposed_for_erasure_per_salon_and_not_erased(short, long):
    long_gone = client_of(short, last_visit=date(2024, 6, 1), added=NOW - timedelta(days=2000))
    never_came = client_of(short, added=NOW - timedelta(days=25 * 31))
    client_of(short, last_visit=date(2024, 7, 1))  # 23½ months: not yet
    client_of(short, added=NOW - timedelta(days=30))  # a new prospect
    client_of(short, last_visit=date(2020, 1, 1), erased_at=NOW - timedelta(days=9))  # already erased
    booked_again = client_of(short, last_visit=date(2023, 1, 1))
    AppointmentFactory(client=booked_again, starts_at=NOW + timedelta(days=3))  # coming back: not dormant

    gone_from_long = client_of(long, last_visit=date(2023, 6, 1))  # 36½ months
    client_of(long, last_visit=date(2024, 6, 1))  # 24½ months: dormant in Short's terms, not in Long's

    report = by_salon(purge(now=NOW))

    assert report[short.pk].erasure_proposals == sorted([long_gone.pk, never_came.pk])
    assert report[long.pk].erasure_proposals == [gone_from_long.pk]
    assert Client.objects.filter(erased_at__isnull=False).count() == 1  # proposals only: nothing erased


# dry run

def test_a_dry_run_reports_the_same_and_changes_nothing(short, long):
    ConsentLinkFactory(salon=short, expires_at=NOW - timedelta(days=45))
    ConsentLinkFactory(salon=long, expires_at=NOW - timedelta(days=5), revoked_at=NOW - timedelta(days=40))
    old = message(short, age=timedelta(days=365))
    message(long, age=timedelta(days=800))
    dormant = client_of(long, last_visit=date(2022, 1, 1))

    dry = purge(now=NOW, dry_run=True)

    assert dry.dry_run
    assert ConsentLink.objects.count() == 2
    assert set(Message.objects.values_list("body", flat=True)) == {"Ciao Anna, a domani alle 10!"}
    real = purge(now=NOW)
    summary = [(d.salon.pk, d.links_deleted, d.messages_blanked, d.erasure_proposals) for d in dry.salons]
    assert summary == [(d.salon.pk, d.links_deleted, d.messages_blanked, d.erasure_proposals) for d in real.salons]
    assert summary == [(short.pk, 1, 1, []), (long.pk, 1, 1, [dormant.pk])]
    assert Message.objects.get(pk=old.pk).body == ""
    assert ConsentLink.objects.count() == 0


# the command

def run_purge(*args):
    out = io.StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def due(short):
    """Something of each kind to do in `short`, relative to the real clock (the command has no --now)."""
    now = timezone.now()
    ConsentLinkFactory(salon=short, expires_at=now - timedelta(days=40))
    row = message(short, age=timedelta(days=0))
    Message.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=400))
    old = ClientFactory(salon=short, last_visit=(now - timedelta(days=800)).date())
    return row, old


def test_the_command_prints_a_line_per_salon(short, long, due):
    row, old = due
    output = run_purge()
    assert (f"salon {short.pk} (Short): links deleted: 1, message texts blanked: 1, "
            f"clients proposed for erasure: 1 ({old.pk})") in output
    assert f"salon {long.pk} (Long): links deleted: 0, message texts blanked: 0, clients proposed for erasure: 0" \
        in output
    assert "dry run" not in output
    assert Message.objects.get(pk=row.pk).body == ""


def test_the_command_in_a_dry_run_says_so_and_changes_nothing(short, due):
    row, old = due
    output = run_purge("--dry-run")
    assert f"links deleted: 1, message texts blanked: 1, clients proposed for erasure: 1 ({old.pk})" in output
    assert "(dry run: nothing changed)" in output
    assert ConsentLink.objects.count() == 1
    assert Message.objects.get(pk=row.pk).body != ""
