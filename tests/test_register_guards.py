"""Nobody empties or rewrites the register unnoticed: TRUNCATE is refused on the register, its state, the
wordings and the ledger; the current state cannot disagree with the register; and the application's own
database role cannot switch any of that off (issue 14, a register nobody can empty)."""

import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from consents.models import ConsentEvent, ConsentState, ConsentWording
from credits.models import CreditEntry
from outreach.credits import top_up
from tests.factories import ClientFactory
from tests.register_tools import grant, withdraw

GUARDED = ["consents_consentevent", "consents_consentstate", "consents_consentwording", "credits_creditentry"]


@pytest.fixture
def history(salon, wording):
    giulia = ClientFactory(salon=salon)
    grant(client=giulia, purpose="marketing", channel="sms", wording=wording(salon, "marketing"), source="form_link")
    withdraw(client=giulia, purpose="marketing", channel="sms", source="form_link")
    top_up(salon=salon, amount=10)
    return giulia


def counts():
    return (ConsentEvent.objects.count(), ConsentState.objects.count(), ConsentWording.objects.count(),
            CreditEntry.objects.count())


@pytest.mark.postgres
# Committed rows: TRUNCATE inside a transaction with pending constraint checks fails before any trigger.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("table", GUARDED)
def test_truncate_is_refused_and_the_rows_stay(history, table):
    before = counts()
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert counts() == before


def test_a_state_row_flipped_outside_the_writer_is_refused(history):
    with pytest.raises(DatabaseError, match="latest register entry"), transaction.atomic():
        ConsentState.objects.filter(client=history).update(action="granted")
    assert ConsentState.objects.get(client=history).action == "withdrawn"


def test_a_state_row_pointing_at_an_older_entry_is_refused(history):
    first = ConsentEvent.objects.filter(client=history).order_by("seq").first()
    with pytest.raises(DatabaseError, match="latest register entry"), transaction.atomic():
        ConsentState.objects.filter(client=history).update(event=first, action=first.action,
                                                           occurred_at=first.occurred_at)


def test_a_state_row_cannot_be_deleted(history):
    with pytest.raises(DatabaseError, match="DELETE refused"), transaction.atomic():
        ConsentState.objects.filter(client=history).delete()
    assert ConsentState.objects.filter(client=history).exists()


def test_the_writer_still_moves_the_state(history, wording, salon):
    grant(client=history, purpose="marketing", channel="sms", wording=wording(salon, "marketing"), source="form_link")
    assert ConsentState.objects.get(client=history).action == "granted"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_application_role_cannot_switch_the_guards_off(salon, wording):
    giulia = ClientFactory(salon=salon)
    grant(client=giulia, purpose="marketing", channel="sms", wording=wording(salon, "marketing"), source="form_link")
    top_up(salon=salon, amount=10)
    role = f"sc_app_{uuid.uuid4().hex[:8]}"
    call_command("app_role", role, stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings = connection.settings_dict
    try:
        with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, dbname=settings["NAME"],
                             user=role, autocommit=True) as app:
            assert app.execute("SELECT count(*) FROM consents_consentevent").fetchone() == (1,)  # it can work
            refused = {
                "truncate": "TRUNCATE consents_consentevent CASCADE",
                "alter table": "ALTER TABLE consents_consentevent ADD COLUMN x integer",
                "disable trigger": "ALTER TABLE consents_consentevent DISABLE TRIGGER ALL",
                "guard setting": "SET session_replication_role = replica",
                "drop trigger": "DROP TRIGGER consents_register_append_only ON consents_consentevent",
                "rewrite an entry": "UPDATE consents_consentevent SET note = 'x'",
                "empty the ledger": "DELETE FROM credits_creditentry",
                "flip the state": "UPDATE consents_consentstate SET action = 'withdrawn'",
            }
            for what, statement in refused.items():
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as refusal:
                    app.execute(statement)
                assert refusal.value.sqlstate == "42501", what
        assert ConsentEvent.objects.count() == 1
        assert ConsentState.objects.get(client=giulia).action == "granted"
        assert CreditEntry.objects.count() == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_role_command_prints_its_sql_without_running_it(capsys):
    call_command("app_role", "salonconsent_app", "--print")
    printed = capsys.readouterr().out
    assert 'CREATE ROLE "salonconsent_app" LOGIN NOSUPERUSER' in printed
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES" in printed
    assert "TRUNCATE" not in printed
