"""verify_register recomputes the chain and names the first entry that was altered."""

import pytest
from django.core.management import CommandError, call_command

from consents.integrity import verify_register
from consents.models import ConsentEvent, Source
from tests.register_tools import grant, register_trigger_disabled, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(client_, wording):
    """Five entries in the salon's register."""
    salon = client_.salon
    for purpose, channel in [("data_processing", ""), ("service", "sms"), ("marketing", "email")]:
        grant(client=client_, purpose=purpose, channel=channel, wording=wording(salon, purpose),
              source=Source.FORM_LINK)
    withdraw(client=client_, purpose="marketing", channel="email", source=Source.EMAIL_UNSUBSCRIBE)
    withdraw(client=client_, purpose="service", channel="sms", source=Source.SMS_KEYWORD)
    return list(ConsentEvent.objects.filter(salon=salon).order_by("seq"))


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_register", *args, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue() + err.getvalue() + str(error)
    return True, out.getvalue()


def test_an_intact_register_verifies(history, salon):
    ok, output = run("--salon", str(salon.pk))
    assert ok, output
    assert "5 entries, chain intact" in output
    assert history[-1].entry_hash in output


def test_an_altered_entry_is_named(history, salon):
    target = history[2]
    with register_trigger_disabled() as cursor:
        cursor.execute("UPDATE consents_consentevent SET action = 'withdrawn' WHERE id = %s", [target.pk])
    ok, output = run("--salon", str(salon.pk))
    assert not ok
    assert f"entry #3 (id {target.pk})" in output
    assert "altered" in output


def test_an_altered_entry_with_recomputed_hash_breaks_the_next_link(history, salon):
    target = history[1]
    with register_trigger_disabled() as cursor:
        cursor.execute("UPDATE consents_consentevent SET entry_hash = %s WHERE id = %s", ["f" * 64, target.pk])
    check = verify_register(salon)
    assert not check.ok
    assert check.bad_entry_id == target.pk


def test_a_deleted_entry_is_detected(history, salon):
    target = history[1]
    with register_trigger_disabled() as cursor:
        cursor.execute("DELETE FROM consents_consentstate WHERE event_id = %s", [target.pk])
        cursor.execute("DELETE FROM consents_consentevent WHERE id = %s", [target.pk])
    check = verify_register(salon)
    assert not check.ok
    assert "expected entry #2" in check.problem
    assert check.bad_entry_id == history[2].pk


def test_an_altered_wording_is_detected(history, salon):
    used = history[0].wording
    with register_trigger_disabled() as cursor:
        cursor.execute("UPDATE consents_consentwording SET text = 'We may sell your data' WHERE id = %s",
                       [used.pk])
    check = verify_register(salon)
    assert not check.ok
    assert f"wording it refers to (id {used.pk})" in check.problem


def test_current_state_disagreeing_with_register_is_detected(history, salon):
    with register_trigger_disabled() as cursor:
        cursor.execute("UPDATE consents_consentstate SET action = 'granted' WHERE purpose = 'marketing'")
    check = verify_register(salon)
    assert not check.ok
    assert "disagrees" in check.problem


def test_only_the_tampered_salon_fails(history, salon, other_salon):
    with register_trigger_disabled() as cursor:
        cursor.execute("UPDATE consents_consentevent SET note = 'x' WHERE id = %s", [history[0].pk])
    ok, output = run()
    assert not ok
    assert f"salon {other_salon.pk} (Other Salon): 0 entries, chain intact" in output
    assert f"salon {salon.pk} (Salone Aurora): TAMPERED" in output


def test_unknown_salon_is_a_clear_error(db):
    ok, output = run("--salon", "999999")
    assert not ok
    assert "No salon with id 999999" in output
