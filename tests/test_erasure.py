"""Erasure: no personal value of the client is left in any table, the register still verifies,
the contacts go to a keyed suppression list, and a re-import of the same contact starts without consent."""

from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from clients.models import Client, ErasureRequest, SuppressedContact, SuppressionReason
from clients.suppression import contact_digest, is_suppressed
from consents.integrity import verify_register
from consents.links import new_link
from consents.models import ConsentEvent, ConsentLink, ConsentScan, ConsentState, Source
from consents.services import Evidence
from messaging.models import Message
from rights.erasure import erase_client, request_erasure
from rights.importing import import_clients
from rights.inventory import INVENTORY, Treatment
from tests.factories import AppointmentFactory, ClientFactory, ConsentScanFactory, MessageFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db

FIRST, LAST, EMAIL, PHONE, NATIONAL = "Zenobia", "Quartermaine", "Zenobia.Q@Example.org", "+393331234567", "3331234567"
PERSONAL_VALUES = (FIRST, LAST, EMAIL.lower(), PHONE, NATIONAL)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def zenobia(salon, owner, wording, media):
    """A client with everything salonconsent can hold about her: consents, a scan, messages, a booking."""
    client = ClientFactory(salon=salon, first_name=FIRST, last_name=LAST, email=EMAIL.lower(), phone=PHONE,
                           notes=f"{FIRST} prefers mornings")
    evidence = Evidence(ip="203.0.113.7", user_agent="Mozilla/5.0 (test)", note="consent form")
    grant(client=client, purpose="data_processing", wording=wording(salon, "data_processing", "it"),
          source=Source.FORM_LINK, evidence=evidence)
    grant(client=client, purpose="marketing", channel="sms", wording=wording(salon, "marketing", "it"),
          source=Source.FORM_LINK, evidence=evidence)
    ConsentScanFactory(client=client, uploaded_by=owner, sha256="ab" * 32, file__filename=f"{FIRST}-{LAST}.pdf",
                       file__data=b"%PDF-1.4 signed")
    appointment = AppointmentFactory(client=client, service="Colour")
    MessageFactory(
        client=client, appointment=appointment, kind="appointment_reminder", channel="sms", recipient=PHONE,
        body=f"Ciao {FIRST}, a domani!", status=Message.Status.DELIVERED,
        dedupe_key=f"appointment_reminder:{appointment.pk}:sms", error_text=f"number {PHONE} unreachable once",
    )
    MessageFactory(
        client=client, kind="marketing", channel="email", recipient=EMAIL.lower(), subject=f"{FIRST}, our offers",
        body=f"Dear {FIRST} {LAST}", headers={"To": f"{FIRST} <{EMAIL.lower()}>"}, status=Message.Status.SENT,
        dedupe_key=f"marketing:{client.pk}:email",
    )
    new_link(client=client, kind=ConsentLink.Kind.REQUEST, channel="sms")
    LogEntry.objects.log_actions(owner.pk, [client], CHANGE, change_message="[]", single_object=True)
    return client


def rows_mentioning(value: str) -> list[str]:
    """Every table.column of the database whose text holds `value` (case-insensitive)."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                name = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} "
                    f"WHERE LOWER(CAST({name} AS TEXT)) LIKE %s",
                    [f"%{value.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column.name}")
    return hits


def test_before_erasure_the_search_finds_the_client_everywhere(zenobia):
    hits = rows_mentioning(LAST)
    assert {"clients_client.last_name", "messaging_message.body", "consents_consentscan.file",
            "django_admin_log.object_repr"} <= set(hits)


def test_after_erasure_no_personal_value_of_the_client_remains_in_any_table(
    zenobia, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        erase_client(client=zenobia, by=owner, reason="client asked at the desk")

    for value in PERSONAL_VALUES:
        assert rows_mentioning(value) == [], value


def test_the_register_keeps_its_entries_and_still_verifies(zenobia, salon, owner):
    entries = list(ConsentEvent.objects.filter(client=zenobia).values_list("pk", "entry_hash", "ip", "user_agent"))

    erase_client(client=zenobia, by=owner, reason="client asked at the desk")

    assert list(ConsentEvent.objects.filter(client=zenobia).values_list("pk", "entry_hash", "ip", "user_agent")) \
        == entries
    assert entries[0][2:] == ("203.0.113.7", "Mozilla/5.0 (test)")  # proof fields kept as declared
    assert verify_register(salon).ok


def test_proof_fields_kept_are_declared_as_kept_in_the_inventory():
    kept = INVENTORY["consents.ConsentEvent"].names(Treatment.KEEP_AS_PROOF)
    assert set(kept) == {"ip", "user_agent", "request_id", "note"}


def test_the_client_row_stays_as_a_pseudonymous_id_that_nothing_is_sent_to(zenobia, owner):
    erase_client(client=zenobia, by=owner, reason="client asked at the desk")

    client = Client.objects.get(pk=zenobia.pk)
    assert (client.first_name, client.last_name, client.email, str(client.phone), client.notes) == \
        ("Erased", "", "", "", "")
    assert client.is_erased
    assert client.is_restricted
    assert client.sms_suppression == client.email_suppression == SuppressionReason.ERASED
    assert str(client) == f"Erased client #{client.pk}"


def test_messages_keep_their_outcome_but_lose_recipient_and_text(zenobia, owner):
    erase_client(client=zenobia, by=owner, reason="client asked at the desk")

    rows = Message.objects.filter(client=zenobia).order_by("dedupe_key").values(
        "status", "recipient", "subject", "body", "headers", "error_text")
    assert list(rows) == [
        {"status": "delivered", "recipient": "", "subject": "", "body": "", "headers": {}, "error_text": ""},
        {"status": "sent", "recipient": "", "subject": "", "body": "", "headers": {}, "error_text": ""},
    ]


def test_appointments_keep_date_service_and_status_for_accounting(zenobia, owner):
    before = list(zenobia.appointments.values("starts_at", "service", "status"))

    erase_client(client=zenobia, by=owner, reason="client asked at the desk")

    assert list(zenobia.appointments.values("starts_at", "service", "status")) == before


def test_the_scan_file_is_deleted_after_commit_and_its_hash_kept(zenobia, owner, media,
                                                                 django_capture_on_commit_callbacks):
    path = media / ConsentScan.objects.get(client=zenobia).file.name
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        result = erase_client(client=zenobia, by=owner, reason="client asked at the desk")

    scan = ConsentScan.objects.get(client=zenobia)
    assert not path.exists()
    assert result.files_deleted
    assert scan.file.name == ""
    assert scan.sha256 == "ab" * 32


def test_links_are_revoked_and_the_pending_request_is_answered_by_the_staff_member(zenobia, owner):
    request = request_erasure(client=zenobia)

    result = erase_client(client=zenobia, by=owner, reason="request from the consent form")

    request.refresh_from_db()
    assert (request.status, request.handled_by, request.reason) == ("done", owner, "request from the consent form")
    assert result.request == request
    assert not ConsentLink.objects.filter(client=zenobia, revoked_at__isnull=True).exists()


def test_an_erasure_without_a_request_is_recorded_as_a_done_request(zenobia, owner):
    erase_client(client=zenobia, by=owner, reason="asked by phone")

    request = ErasureRequest.objects.get(client=zenobia)
    assert (request.status, request.source, request.handled_by) == ("done", "staff", owner)


def test_erasing_twice_is_refused(zenobia, owner):
    erase_client(client=zenobia, by=owner, reason="asked by phone")

    with pytest.raises(ValidationError, match="already erased"):
        erase_client(client=zenobia, by=owner, reason="asked again")


@pytest.mark.parametrize("reason", ["", "   ", f"{FIRST} asked", f"call back on {NATIONAL}"])
def test_a_reason_that_is_empty_or_names_the_client_is_refused_and_nothing_is_erased(zenobia, owner, reason):
    with pytest.raises(ValidationError):
        erase_client(client=zenobia, by=owner, reason=reason)

    assert not Client.objects.get(pk=zenobia.pk).is_erased
    assert not SuppressedContact.objects.exists()


def test_other_clients_are_untouched(zenobia, owner, salon):
    other = ClientFactory(salon=salon, first_name="Bruna", notes="regular")
    MessageFactory(client=other, kind="marketing", recipient=str(other.phone), body="Ciao Bruna")

    erase_client(client=zenobia, by=owner, reason="asked by phone")

    other.refresh_from_db()
    assert (other.first_name, other.notes, other.is_erased) == ("Bruna", "regular", False)
    assert Message.objects.get(client=other).body == "Ciao Bruna"


# The suppression list ----------------------------------------------------------------------------


def test_the_contacts_go_to_the_suppression_list_as_keyed_digests(zenobia, owner, salon, other_salon):
    erase_client(client=zenobia, by=owner, reason="asked by phone")

    assert SuppressedContact.objects.filter(salon=salon).count() == 2
    assert is_suppressed(salon, phone="333 123 4567")  # typed the national way, read with the salon's region
    assert is_suppressed(salon, email=EMAIL.upper())
    assert not is_suppressed(salon, phone="333 765 4321", email="someone@example.org")
    assert not is_suppressed(other_salon, phone=PHONE, email=EMAIL)  # the list is per salon


def test_the_digest_depends_on_the_key_and_the_salon(settings):
    settings.SUPPRESSION_HMAC_KEY = "first key"
    digest = contact_digest(salon_id=1, kind="phone", value=PHONE)

    assert digest != contact_digest(salon_id=1, kind="phone", value=PHONE, key="another key")
    assert digest != contact_digest(salon_id=2, kind="phone", value=PHONE)
    assert PHONE not in digest
    assert len(digest) == 64


def test_a_suppression_is_found_only_with_the_key_it_was_made_with(zenobia, owner, salon, settings):
    erase_client(client=zenobia, by=owner, reason="asked by phone")

    settings.SUPPRESSION_HMAC_KEY = settings.SUPPRESSION_HMAC_KEY + "rotated"
    assert not is_suppressed(salon, phone=PHONE)


def test_two_clients_with_the_same_phone_can_both_be_erased(salon, owner):
    first, second = ClientFactory(salon=salon, phone=PHONE), ClientFactory(salon=salon, phone=PHONE)

    erase_client(client=first, by=owner, reason="duplicate")
    erase_client(client=second, by=owner, reason="duplicate")

    assert SuppressedContact.objects.filter(salon=salon, kind="phone").count() == 1


def test_a_reimport_of_the_same_phone_is_flagged_and_creates_a_new_client_without_prior_consent(zenobia, owner,
                                                                                               salon):
    erase_client(client=zenobia, by=owner, reason="asked by phone")
    data = (
        "first_name,phone,email,consent_data_processing,consent_marketing_sms,consent_date\n"
        f"{FIRST},333 123 4567,,yes,yes,2024-01-10\n"
        "Bruna,333 765 4321,,yes,yes,2024-01-10\n"
    ).encode()

    report = import_clients(salon=salon, data=data)

    assert [str(p) for p in report.problems] == [
        "line 2: contact was erased before (suppression list): imported as a new client without prior consent"]
    assert (report.created, report.bad_rows, report.consent_entries) == (2, 0, 2)
    new = Client.objects.get(salon=salon, phone=PHONE, erased_at__isnull=True)
    assert new.pk != zenobia.pk
    assert not ConsentEvent.objects.filter(client=new).exists()
    assert not ConsentState.objects.filter(client=new).exists()
    assert ConsentState.objects.filter(client__first_name="Bruna", purpose="marketing").exists()


def test_a_reimport_of_the_same_email_is_flagged_in_a_dry_run_too(zenobia, owner, salon):
    erase_client(client=zenobia, by=owner, reason="asked by phone")

    report = import_clients(salon=salon, data=f"first_name,email\nZ,{EMAIL.upper()}\n".encode(), dry_run=True)

    assert report.flagged_rows == 1
    assert report.created == 1
    assert "imported without prior consent" in report.summary


# The command -------------------------------------------------------------------------------------


def erase_command(*args, answer=None, monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setattr("builtins.input", lambda prompt: answer)
    out = StringIO()
    call_command("erase_client", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_with_yes_erases_and_says_it_is_irreversible(zenobia, salon, owner):
    out = erase_command(salon.slug, str(zenobia.pk), "--reason", "asked by letter", "--yes", "--by", owner.username)

    assert "cannot be undone" in out
    assert f"Client #{zenobia.pk} erased" in out
    assert Client.objects.get(pk=zenobia.pk).is_erased
    assert ErasureRequest.objects.get(client=zenobia).handled_by == owner


def test_the_command_asks_and_erases_nothing_unless_confirmed(zenobia, salon, owner, monkeypatch):
    with pytest.raises(CommandError, match="nothing was erased"):
        erase_command(salon.slug, str(zenobia.pk), "--reason", "asked by letter", "--by", owner.username,
                      answer="no", monkeypatch=monkeypatch)
    assert not Client.objects.get(pk=zenobia.pk).is_erased

    out = erase_command(salon.slug, str(zenobia.pk), "--reason", "asked by letter", "--by", owner.username,
                        answer="erase", monkeypatch=monkeypatch)
    assert "erased" in out
    assert Client.objects.get(pk=zenobia.pk).is_erased


def test_the_command_refuses_a_client_of_another_salon(zenobia, other_salon):
    with pytest.raises(CommandError, match="has no client"):
        erase_command(other_salon.slug, str(zenobia.pk), "--reason", "x", "--yes", "--by", "nobody")


def test_the_admin_history_no_longer_names_the_client(zenobia, owner):
    erase_client(client=zenobia, by=owner, reason="asked by phone")

    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Client), object_id=str(zenobia.pk))
    assert entry.object_repr == f"Erased #{zenobia.pk}"


def test_a_short_name_inside_an_ordinary_word_does_not_block_the_reason(salon, owner):
    al = ClientFactory(salon=salon, first_name="Al", last_name="")

    erase_client(client=al, by=owner, reason="personal request")

    assert Client.objects.get(pk=al.pk).is_erased


def test_only_an_owner_of_the_clients_salon_can_erase_whoever_calls(zenobia, member, outsider):
    for by in (None, member, outsider):
        with pytest.raises(PermissionDenied):
            erase_client(client=zenobia, by=by, reason="asked by phone")
    assert not Client.objects.get(pk=zenobia.pk).is_erased


def test_the_command_refuses_a_user_who_does_not_own_the_salon(zenobia, salon, member):
    with pytest.raises(CommandError, match="only an owner"):
        erase_command(salon.slug, str(zenobia.pk), "--reason", "asked by letter", "--yes", "--by", member.username)
    assert not Client.objects.get(pk=zenobia.pk).is_erased
