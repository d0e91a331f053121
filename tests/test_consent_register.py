"""record_consent: the register's one writer appends chained entries and keeps the current state."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consents.chain import GENESIS_HASH, entry_hash
from consents.models import Action, ConsentEvent, ConsentState, Source
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import Purpose
from tests.factories import ClientFactory, ConsentWordingFactory
from tests.register_tools import grant, withdraw

pytestmark = pytest.mark.django_db


def test_a_grant_is_an_entry_with_wording_hash_source_and_evidence(client_, wording, owner):
    shown = wording(client_.salon, "data_processing", "it")
    [event] = grant(client=client_, purpose=Purpose.DATA_PROCESSING, wording=shown, source=Source.IN_PERSON,
                    actor=owner, evidence=Evidence(ip="203.0.113.7", user_agent="Safari", request_id="r-1"))
    event.refresh_from_db()
    assert (event.purpose, event.channel, event.action) == ("data_processing", "", "granted")
    assert event.wording == shown
    assert event.wording_sha256 == shown.sha256
    assert (event.source, event.actor, event.ip, event.user_agent, event.request_id) == (
        "in_person", owner, "203.0.113.7", "Safari", "r-1")
    assert event.occurred_at <= timezone.now()
    state = ConsentState.objects.get(client=client_, purpose="data_processing")
    assert state.granted
    assert state.event == event


def test_entries_are_chained_per_salon(client_, other_salon, wording):
    other = ClientFactory(salon=other_salon)
    dp = "data_processing"
    first = grant(client=client_, purpose=dp, wording=wording(client_.salon, dp), source=Source.FORM_LINK)[0]
    elsewhere = grant(client=other, purpose=dp, wording=wording(other_salon, dp), source=Source.FORM_LINK)[0]
    second = withdraw(client=client_, purpose=dp, source=Source.FORM_LINK)[0]
    assert (first.seq, second.seq, elsewhere.seq) == (1, 2, 1)
    assert first.prev_hash == GENESIS_HASH == elsewhere.prev_hash
    assert second.prev_hash == first.entry_hash


def test_entry_hash_covers_every_field(client_, wording):
    [event] = grant(client=client_, purpose="marketing", channel="email",
                    wording=wording(client_.salon, "marketing"), source=Source.FORM_LINK)
    event.refresh_from_db()
    fields = {f: getattr(event, f) for f in (
        "prev_hash", "seq", "salon_id", "client_id", "purpose", "channel", "action", "occurred_at",
        "recorded_at", "wording_id", "wording_sha256", "source", "actor_id", "ip", "user_agent",
        "request_id", "note")}
    assert entry_hash(**fields) == event.entry_hash
    for name, changed in [("action", "withdrawn"), ("channel", "sms"), ("client_id", event.client_id + 1),
                          ("occurred_at", event.occurred_at + timedelta(microseconds=1)), ("ip", "10.0.0.1")]:
        assert entry_hash(**{**fields, name: changed}) != event.entry_hash, name


def test_one_recording_writes_all_choices_atomically(client_, wording):
    salon = client_.salon
    events = record_consent(client=client_, source=Source.FORM_LINK, changes=[
        ConsentChange("data_processing", True, "", wording(salon, "data_processing")),
        ConsentChange("service", True, "sms", wording(salon, "service")),
        ConsentChange("marketing", False, "email"),
    ])
    assert [e.seq for e in events] == [1, 2, 3]
    assert ConsentState.objects.filter(client=client_).count() == 3


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (ConsentChange("marketing", True, "", None), {}, "per channel"),
        (ConsentChange("data_processing", False, "sms"), {}, "not given per channel"),
        (ConsentChange("service", True, "sms", None), {}, "wording"),
        (ConsentChange("nonsense", True), {}, "Unknown purpose"),
        (ConsentChange("marketing", False, "fax"), {}, "per channel"),
        (ConsentChange("data_processing", False), {"source": Source.IN_PERSON}, "staff member"),
        (ConsentChange("data_processing", False), {"evidence": Evidence(ip="not-an-ip")}, "IP address"),
        (ConsentChange("data_processing", False), {"source": "carrier_pigeon"}, "Unknown consent source"),
        (ConsentChange("data_processing", False),
         {"occurred_at": timezone.now() + timedelta(days=1)}, "future"),
    ],
)
def test_bad_changes_are_refused_and_nothing_is_written(client_, change, kwargs, message):
    valid_first = ConsentChange("data_processing", False) if change.purpose != "data_processing" else None
    changes = [c for c in (valid_first, change) if c]
    kwargs = {"source": Source.FORM_LINK, **kwargs}
    with pytest.raises(ValidationError, match=message):
        record_consent(client=client_, changes=changes, **kwargs)
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_wording_of_another_purpose_or_salon_is_refused(client_, other_salon, wording):
    with pytest.raises(ValidationError, match="another purpose"):
        grant(client=client_, purpose="marketing", channel="sms",
              wording=wording(client_.salon, "service"), source=Source.FORM_LINK)
    theirs = ConsentWordingFactory(salon=other_salon, purpose="marketing", title="Theirs", text="Their offers")
    with pytest.raises(ValidationError, match="another salon"):
        grant(client=client_, purpose="marketing", channel="sms", wording=theirs, source=Source.FORM_LINK)
    assert not ConsentEvent.objects.exists()


def test_erased_client_cannot_grant(client_, wording):
    client_.erased_at = timezone.now()
    client_.save()
    with pytest.raises(ValidationError, match="erased"):
        grant(client=client_, purpose="data_processing", wording=wording(client_.salon, "data_processing"),
              source=Source.FORM_LINK)


def test_the_same_choice_twice_writes_nothing_new_when_asked(client_, wording):
    change = ConsentChange("marketing", True, "email", wording(client_.salon, "marketing"))
    assert len(record_consent(client=client_, changes=[change], source=Source.FORM_LINK, skip_unchanged=True)) == 1
    assert record_consent(client=client_, changes=[change], source=Source.FORM_LINK, skip_unchanged=True) == []
    declined = ConsentChange("marketing", False, "sms")  # never asked before: an explicit refusal is recorded
    assert len(record_consent(client=client_, changes=[declined], source=Source.FORM_LINK, skip_unchanged=True)) == 1
    assert record_consent(client=client_, changes=[declined], source=Source.FORM_LINK, skip_unchanged=True) == []
    assert ConsentEvent.objects.count() == 2


def test_latest_choice_wins_in_current_state(client_, wording):
    grant(client=client_, purpose="marketing", channel="sms", wording=wording(client_.salon, "marketing"),
          source=Source.FORM_LINK)
    withdraw(client=client_, purpose="marketing", channel="sms", source=Source.SMS_KEYWORD)
    state = ConsentState.objects.get(client=client_, purpose="marketing", channel="sms")
    assert state.action == Action.WITHDRAWN


def test_an_imported_older_choice_never_overrides_a_newer_one(client_, wording):
    withdraw(client=client_, purpose="marketing", channel="email", source=Source.EMAIL_UNSUBSCRIBE)
    grant(client=client_, purpose="marketing", channel="email", wording=wording(client_.salon, "marketing"),
          source=Source.IMPORT, occurred_at=timezone.now() - timedelta(days=400))
    assert ConsentEvent.objects.count() == 2  # the register keeps the old proof...
    state = ConsentState.objects.get(client=client_, purpose="marketing", channel="email")
    assert state.action == Action.WITHDRAWN  # ...but the current state stays with the newer choice


def test_ipv6_evidence_is_stored_in_canonical_form(client_):
    [event] = withdraw(client=client_, purpose="data_processing", source=Source.FORM_LINK,
                       evidence=Evidence(ip="2001:DB8:0:0:0:0:0:1"))
    event.refresh_from_db()
    assert event.ip == "2001:db8::1"
