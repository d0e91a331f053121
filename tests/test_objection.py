"""Objection to direct marketing withdraws all marketing and personalised consent in one register transaction."""

import pytest
from django.core.exceptions import ValidationError

from consents.integrity import verify_register
from consents.models import ConsentEvent, ConsentState, Source
from consents.policy import decide
from consents.selectors import client_state
from consents.services import Evidence
from core.vocabulary import MessageKind, Purpose
from rights.objection import object_to_marketing
from tests.register_tools import grant

pytestmark = pytest.mark.django_db

MARKETING_KEYS = {("marketing", "sms"), ("marketing", "email"), ("marketing", "phone"), ("personalised", "")}


@pytest.fixture
def consenting(client_, owner, wording):
    """A client who granted data processing, service by SMS, marketing on both channels and personalised."""
    for purpose, channel in [("data_processing", ""), ("service", "sms"), ("marketing", "sms"),
                             ("marketing", "email"), ("personalised", "")]:
        grant(client=client_, purpose=purpose, channel=channel, wording=wording(client_.salon, purpose),
              source=Source.IN_PERSON, actor=owner)
    return client_


def test_objection_withdraws_marketing_on_every_channel_and_personalised(consenting, owner):
    events = object_to_marketing(client=consenting, by=owner)

    assert {(e.purpose, e.channel) for e in events} == MARKETING_KEYS
    assert all(e.action == "withdrawn" for e in events)
    assert all(e.source == Source.STAFF_UPDATE for e in events)
    assert all(e.actor == owner for e in events)
    assert all("GDPR art. 21" in e.note for e in events)
    states = {(s.purpose, s.channel): s.action for s in ConsentState.objects.filter(client=consenting)}
    assert {key: states[key] for key in MARKETING_KEYS} == dict.fromkeys(MARKETING_KEYS, "withdrawn")


def test_objection_leaves_data_processing_and_appointment_messages_alone(consenting, owner):
    object_to_marketing(client=consenting, by=owner)

    state = client_state(consenting)
    assert decide(state, MessageKind.APPOINTMENT_REMINDER, "sms").allowed
    for kind in (MessageKind.MARKETING, MessageKind.PERSONALISED_SUGGESTION):
        for channel in ("sms", "email"):
            assert not decide(state, kind, channel).allowed


def test_objection_is_one_register_transaction(consenting, owner):
    before = ConsentEvent.objects.filter(salon=consenting.salon).count()

    events = object_to_marketing(client=consenting, by=owner)

    # One append: consecutive entries, one recording instant, the chain intact.
    assert [e.seq for e in events] == list(range(before + 1, before + 5))
    assert len({e.recorded_at for e in events}) == 1
    assert verify_register(consenting.salon).ok


def test_a_failure_midway_writes_no_entry_at_all(consenting, owner, monkeypatch):
    before = ConsentEvent.objects.count()

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ConsentState, "save", fail)  # the current-state update after the entries are written
    with pytest.raises(RuntimeError):
        object_to_marketing(client=consenting, by=owner)

    assert ConsentEvent.objects.count() == before


def test_objection_by_the_client_through_the_form_needs_no_staff(client_):
    events = object_to_marketing(client=client_, source=Source.FORM_LINK, evidence=Evidence(ip="203.0.113.9"))

    assert len(events) == 4
    assert {e.ip for e in events} == {"203.0.113.9"}
    assert all(e.actor is None for e in events)


def test_objection_recorded_by_staff_must_name_them(client_):
    with pytest.raises(ValidationError):
        object_to_marketing(client=client_)

    assert not ConsentEvent.objects.exists()


def test_objection_of_a_client_never_asked_is_still_recorded_as_proof(client_, owner):
    events = object_to_marketing(client=client_, by=owner)

    assert ConsentEvent.objects.filter(client=client_, purpose__in=[Purpose.MARKETING, Purpose.PERSONALISED]).count() \
        == len(events) == 4
