"""Signed checkpoints of the register: signed with the installation's Ed25519 key, kept append-only, and a
register that was truncated, rebuilt or rewritten before a checkpoint fails `verify_register --checkpoint`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction

from consents.checkpoints import as_document, check_against_register, make_checkpoint
from consents.merkle import checkpoint_signature_holds as signature_holds
from consents.merkle import root
from consents.models import Checkpoint, ConsentEvent
from tests.factories import ClientFactory
from tests.register_tools import grant, register_trigger_disabled, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(salon, wording):
    for client in ClientFactory.create_batch(3, salon=salon):
        grant(client=client, purpose="marketing", channel="sms", wording=wording(salon, "marketing"),
              source="form_link")
        withdraw(client=client, purpose="marketing", channel="sms", source="form_link")
    return salon


def given_out(tmp_path, salon) -> str:
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(as_document(make_checkpoint(salon=salon))))
    return str(path)


def verify(path):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_register", "--checkpoint", path, stdout=out, stderr=err)
    except CommandError:
        return False, err.getvalue()
    return True, out.getvalue()


def test_a_checkpoint_signs_the_registers_tree_head(history):
    checkpoint = make_checkpoint(salon=history)
    hashes = [bytes.fromhex(h) for h in ConsentEvent.objects.filter(salon=history).order_by("seq")
              .values_list("entry_hash", flat=True)]
    document = as_document(checkpoint)
    assert (document["size"], document["root"]) == (6, root(hashes).hex())
    assert signature_holds(document, document["public_key"])
    for field, value in [("size", 5), ("root", "0" * 64), ("salon", history.pk + 1), ("time", "2020-01-01")]:
        assert not signature_holds({**document, field: value}, document["public_key"]), field


def test_checkpoints_are_kept_append_only(history):
    checkpoint = make_checkpoint(salon=history)
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.filter(pk=checkpoint.pk).update(size=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.filter(pk=checkpoint.pk).delete()


def test_the_register_still_holds_an_earlier_checkpoint_after_more_entries(history, wording, tmp_path):
    path = given_out(tmp_path, history)
    grant(client=ClientFactory(salon=history), purpose="marketing", channel="sms",
          wording=wording(history, "marketing"), source="form_link")
    ok, output = verify(path)
    assert ok, output
    assert "6 entries, still contained in the register" in output


def test_a_truncated_register_fails_its_checkpoint(history, tmp_path):
    path = given_out(tmp_path, history)
    last = ConsentEvent.objects.filter(salon=history).order_by("-seq").first()
    with register_trigger_disabled() as cursor:
        cursor.execute("DELETE FROM consents_consentstate WHERE event_id = %s", [last.pk])
        cursor.execute("DELETE FROM consents_consentevent WHERE id = %s", [last.pk])
    ok, output = verify(path)
    assert not ok
    assert "has 5 entries, fewer than the 6 the checkpoint covered" in output


def test_a_rewritten_entry_before_the_checkpoint_fails_it(history, tmp_path):
    path = given_out(tmp_path, history)
    first = ConsentEvent.objects.filter(salon=history).order_by("seq").first()
    with register_trigger_disabled() as cursor:  # a rebuilt chain: every hash recomputed would fail the same
        cursor.execute("UPDATE consents_consentevent SET entry_hash = %s WHERE id = %s", ["e" * 64, first.pk])
    ok, output = verify(path)
    assert not ok
    assert "the first 6 entries no longer have the checkpoint's root" in output


def test_a_forged_checkpoint_is_refused(history, tmp_path):
    path = tmp_path / "forged.json"
    document = as_document(make_checkpoint(salon=history))
    path.write_text(json.dumps({**document, "size": 3}))
    ok, output = verify(str(path))
    assert not ok
    assert "signature does not hold" in output


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "nonsense.json"
    path.write_text("not json")
    with pytest.raises(CommandError, match="not a readable checkpoint"):
        call_command("verify_register", "--checkpoint", str(path))


def test_the_command_signs_and_writes_each_salons_checkpoint(history, tmp_path):
    out = StringIO()
    call_command("checkpoint_register", "--output", str(tmp_path), stdout=out)
    written = tmp_path / f"checkpoint-{history.pk}-6.json"
    assert written.exists()
    assert check_against_register(json.loads(written.read_text())).ok
    assert f"salon {history.pk}" in out.getvalue()


def test_owners_get_each_checkpoint_by_email_with_its_json(history, owner, member):
    from django.core import mail

    from consents.checkpoints import mail_to_owners

    owner.email, member.email = "owner@salon.example", "staff@salon.example"
    owner.save()
    member.save()
    checkpoint = make_checkpoint(salon=history)
    assert mail_to_owners(checkpoint) == 1
    [email] = mail.outbox
    assert email.to == ["owner@salon.example"]  # owners only
    name, content, mimetype = email.attachments[0]
    assert name == f"checkpoint-{history.pk}-6.json"
    assert mimetype == "application/json"
    assert check_against_register(json.loads(content)).ok


def test_the_desk_downloads_its_salons_checkpoints_and_no_other(history, client, owner, outsider):
    from django.urls import reverse

    checkpoint = make_checkpoint(salon=history)
    url = reverse("admin:consents_checkpoint_download", args=[checkpoint.pk])
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert json.loads(response.content) == as_document(checkpoint)
    assert "attachment" in response["Content-Disposition"]
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_the_daily_run_signs_and_mails_only_registers_that_grew(history, owner, wording, other_salon):
    from django.core import mail

    from rights.tasks import checkpoint_registers_task

    owner.email = "owner@salon.example"
    owner.save()
    checkpoint_registers_task()
    assert Checkpoint.objects.filter(salon=history).count() == 1
    assert not Checkpoint.objects.filter(salon=other_salon).exists()  # an empty register: nothing to sign
    assert len(mail.outbox) == 1
    checkpoint_registers_task()  # nothing new since: no second checkpoint, no second email
    assert Checkpoint.objects.filter(salon=history).count() == 1
    assert len(mail.outbox) == 1
    grant(client=ClientFactory(salon=history), purpose="marketing", channel="sms",
          wording=wording(history, "marketing"), source="form_link")
    checkpoint_registers_task()
    assert list(Checkpoint.objects.filter(salon=history).order_by("pk").values_list("size", flat=True)) == [6, 7]
    assert len(mail.outbox) == 2
