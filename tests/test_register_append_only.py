"""The database itself refuses to edit the consent register, the credit ledger and used wordings."""

import pytest
from django.db import DatabaseError, connection, transaction

from consents.models import ConsentEvent, Source
from core.vocabulary import Purpose
from credits.models import CreditEntry
from outreach.credits import top_up
from tests.factories import ConsentWordingFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(client_, wording):
    return grant(client=client_, purpose=Purpose.DATA_PROCESSING,
                 wording=wording(client_.salon, "data_processing"), source=Source.FORM_LINK)[0]


def refused(sql, params=()):
    """Run raw SQL and report whether the database refused it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return str(error)
    return ""


def test_raw_update_of_register_entry_is_refused(entry):
    message = refused("UPDATE consents_consentevent SET action = 'withdrawn' WHERE id = %s", [entry.pk])
    assert "append-only" in message
    assert ConsentEvent.objects.get(pk=entry.pk).action == "granted"


def test_raw_delete_of_register_entry_is_refused(entry):
    assert "append-only" in refused("DELETE FROM consents_consentevent WHERE id = %s", [entry.pk])
    assert ConsentEvent.objects.filter(pk=entry.pk).exists()


def test_raw_delete_is_refused_by_the_trigger_itself(client_, wording):
    """An entry no current state refers to (superseded) can only be protected by the trigger."""
    first = grant(client=client_, purpose=Purpose.MARKETING, channel="sms",
                  wording=wording(client_.salon, "marketing"), source=Source.FORM_LINK)[0]
    grant(client=client_, purpose=Purpose.MARKETING, channel="sms",
          wording=wording(client_.salon, "marketing"), source=Source.FORM_LINK)
    assert "append-only" in refused("DELETE FROM consents_consentevent WHERE id = %s", [first.pk])
    assert ConsentEvent.objects.filter(pk=first.pk).exists()


def test_orm_update_and_delete_are_refused(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(pk=entry.pk).update(source=Source.PAPER)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.all()._raw_delete(using="default")
    assert ConsentEvent.objects.get(pk=entry.pk).source == Source.FORM_LINK


def test_credit_ledger_refuses_update_and_delete(salon):
    line = top_up(salon=salon, amount=10)
    assert "append-only" in refused("UPDATE credits_creditentry SET amount = 1000 WHERE id = %s", [line.pk])
    assert "append-only" in refused("DELETE FROM credits_creditentry WHERE id = %s", [line.pk])
    assert CreditEntry.objects.get(pk=line.pk).amount == 10


def test_used_wording_cannot_change_its_words(entry):
    used = entry.wording
    assert refused("UPDATE consents_consentwording SET text = 'Something else' WHERE id = %s", [used.pk])
    used.refresh_from_db()
    assert used.text != "Something else"


def test_unused_wording_may_still_be_corrected(salon):
    draft = ConsentWordingFactory(salon=salon, text="Draft")
    assert refused("UPDATE consents_consentwording SET text = 'Final' WHERE id = %s", [draft.pk]) == ""
    draft.refresh_from_db()
    assert draft.text == "Final"
