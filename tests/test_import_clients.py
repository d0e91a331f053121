"""Importing an address book from CSV: bad rows reported by line, good rows imported, re-imports idempotent,
prior consents in the register with source `import`, and never over a newer choice."""

import codecs
import re
import zoneinfo
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from consents.models import Action, ConsentEvent, ConsentState, Source
from rights import importing
from tests.factories import ClientFactory
from tests.register_tools import withdraw

pytestmark = pytest.mark.django_db

ROME = zoneinfo.ZoneInfo("Europe/Rome")

BAD_ROWS = """\
first_name,last_name,phone,email,language,last_visit,consent_marketing_sms,consent_date,consent_source
Anna,Rossi,333 123 4567,anna@example.com,it,2024-05-01,,,
Bruno,Bianchi,12,,,,,,

Carla,Verdi,,carla@,,,,,
Dario,,,dario@example.com,xx,,,,
Elena,,333 123 4567,,,,,,
,Neri,,neri@example.com,,,,,
Fabio,,,fabio@example.com,,,yes,,
Gina,,,gina@example.com,,,no,2099-01-01,
Hugo,,,,,,,,
Irene,,+39 347 765 4321,IRENE@Example.COM,en,15/03/2024,sì,10/01/2023,paper form 2023
"""

CONSENTS = """\
first_name,last_name,phone,email,language,consent_data_processing,consent_marketing_sms,consent_marketing_email,\
consent_date,consent_source
Anna,Rossi,333 123 4567,,fr,yes,no,oui,2023-01-10,paper form 2023
Bruno,Bianchi,,bruno@example.com,,ja,,,2023-01-10,paper form 2023
"""


def csv_file(tmp_path, text: str | bytes, name="clients.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(salon, path, *args) -> list[str]:
    out = StringIO()
    call_command("import_clients", salon.slug, str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def test_every_bad_row_is_reported_with_its_line_and_reason_and_only_good_rows_are_imported(salon, tmp_path):
    lines = run(salon, csv_file(tmp_path, BAD_ROWS))

    assert lines[0].startswith("line 3: “12” is not a valid phone number for IT. Type it with its international")
    assert lines[1:] == [
        "line 5: “carla@” is not a valid email address",
        "line 6: unknown language “xx” (use en, it, fr, de, fi)",
        "line 7: duplicate of line 2 (same phone)",
        "line 8: first_name is empty",
        "line 9: consent_date is required when a consent column says yes or no",
        "line 10: consent_date 2099-01-01 is in the future",
        "line 11: needs a phone or an email",
        "2 clients created, 0 updated, 0 unchanged, 1 consent entry recorded, 8 bad rows (listed above)",
    ]
    anna, irene = Client.objects.filter(salon=salon).order_by("first_name")
    assert (anna.first_name, anna.last_name, anna.phone.as_e164, anna.email, anna.language) == (
        "Anna", "Rossi", "+393331234567", "anna@example.com", "it")
    assert anna.last_visit.isoformat() == "2024-05-01"
    assert anna.lifecycle == Client.Lifecycle.CLIENT
    assert (irene.phone.as_e164, irene.email, irene.language, irene.last_visit.isoformat()) == (
        "+393477654321", "IRENE@example.com", "en", "2024-03-15")
    assert irene.lifecycle == Client.Lifecycle.CLIENT
    assert list(ConsentEvent.objects.values_list("client__first_name", "purpose", "channel", "action")) == [
        ("Irene", "marketing", "sms", Action.GRANTED)]


def test_a_file_that_is_not_utf8_is_refused_naming_the_line_and_nothing_is_imported(salon, tmp_path):
    path = csv_file(tmp_path, "first_name,phone\nAnna,333 123 4567\nJosé,333 123 4568\n".encode("latin-1"))

    with pytest.raises(CommandError, match=r"line 3: not UTF-8 text; save the file as UTF-8\. Nothing was imported"):
        run(salon, path)
    assert not Client.objects.exists()


@pytest.mark.parametrize(("text", "reason"), [
    ("last_name,phone\nRossi,333 123 4567\n", "line 1: the header has no “first_name” column"),
    ("first_name,last_name\nAnna,Rossi\n", "line 1: the header needs a “phone” or an “email” column"),
    ("\n\n", "The file is empty"),
    ("first_name,phone,Phone\nAnna,1,2\n", "line 1: the column “phone” appears twice"),
])
def test_a_file_without_its_required_columns_is_refused(salon, tmp_path, text, reason):
    with pytest.raises(CommandError, match=reason):
        run(salon, csv_file(tmp_path, text))
    assert not Client.objects.exists()


def test_an_unknown_salon_or_a_missing_file_is_an_error(salon, tmp_path):
    with pytest.raises(CommandError, match="No salon 'nowhere'"):
        call_command("import_clients", "nowhere", str(csv_file(tmp_path, CONSENTS)))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_clients", str(salon.pk), str(tmp_path / "missing.csv"))


def test_reimporting_the_same_file_creates_no_duplicates_and_no_new_register_entries(salon, tmp_path):
    path = csv_file(tmp_path, CONSENTS)
    assert run(salon, path)[-1] == "2 clients created, 0 updated, 0 unchanged, 4 consent entries recorded, 0 bad rows"

    assert run(salon, path)[-1] == "0 clients created, 0 updated, 2 unchanged, 0 consent entries recorded, 0 bad rows"
    assert Client.objects.filter(salon=salon).count() == 2
    assert ConsentEvent.objects.count() == 4


def test_clients_are_matched_only_within_the_salon(salon, other_salon, tmp_path):
    ClientFactory(salon=other_salon, phone="+393331234567", email="")

    run(salon, csv_file(tmp_path, CONSENTS))

    assert Client.objects.filter(salon=salon, phone="+393331234567").count() == 1
    assert Client.objects.filter(salon=other_salon).count() == 1
    assert not ConsentEvent.objects.filter(salon=other_salon).exists()


def test_a_matched_client_keeps_staff_edits_and_only_its_empty_fields_are_filled(salon, tmp_path):
    staff_typed = ClientFactory(salon=salon, first_name="Annina", last_name="Rossi-Bianchi", phone="+393331234567",
                                email="", language="it", last_visit=None)
    by_email = ClientFactory(salon=salon, first_name="Bruno", last_name="", phone="", email="Bruno@Example.com")
    path = csv_file(tmp_path, "first_name,last_name,phone,email,language,last_visit\n"
                              "Anna,Rossi,333 123 4567,anna@example.com,fr,2024-05-01\n"
                              "Bruno,Bianchi,,bruno@EXAMPLE.com,de,\n")

    assert run(salon, path)[-1] == "0 clients created, 2 updated, 0 unchanged, 0 consent entries recorded, 0 bad rows"

    staff_typed.refresh_from_db()
    assert (staff_typed.first_name, staff_typed.last_name, staff_typed.language) == ("Annina", "Rossi-Bianchi", "it")
    assert staff_typed.email == "anna@example.com"
    assert staff_typed.last_visit.isoformat() == "2024-05-01"
    assert staff_typed.lifecycle == Client.Lifecycle.CLIENT
    by_email.refresh_from_db()
    assert (by_email.last_name, by_email.email, by_email.language) == ("Bianchi", "Bruno@Example.com", "it")
    assert Client.objects.count() == 2


def test_a_row_matching_two_different_clients_is_reported_not_guessed(salon, tmp_path):
    by_phone = ClientFactory(salon=salon, phone="+393331234567", email="")
    by_email = ClientFactory(salon=salon, phone="", email="anna@example.com")

    lines = run(salon, csv_file(tmp_path, "first_name,phone,email\nAnna,333 123 4567,anna@example.com\n"))

    assert lines[0] == (f"line 2: the phone and email match 2 different clients of the salon "
                        f"(#{by_phone.pk}, #{by_email.pk}); merge them first")
    assert Client.objects.count() == 2


def test_prior_consent_becomes_register_entries_with_source_import_and_the_past_date(salon, tmp_path, wording):
    run(salon, csv_file(tmp_path, CONSENTS))

    anna = Client.objects.get(first_name="Anna")
    events = list(ConsentEvent.objects.filter(client=anna).order_by("seq"))
    assert [(e.purpose, e.channel, e.action) for e in events] == [
        ("data_processing", "", Action.GRANTED), ("marketing", "sms", Action.WITHDRAWN),
        ("marketing", "email", Action.GRANTED)]
    given = datetime(2023, 1, 10, tzinfo=ROME)
    for event in events:
        assert event.source == Source.IMPORT
        assert event.occurred_at == given
        assert event.actor is None
        assert event.note == "imported: paper form 2023 (wording shown then unknown; current wording referenced)"
        assert event.recorded_at > given
    # Grants reference the current wording in the client's language (French here); a refusal names none.
    assert events[0].wording == wording(salon, "data_processing", "fr")
    assert events[0].wording_sha256 == events[0].wording.sha256
    assert events[1].wording is None
    assert events[2].wording == wording(salon, "marketing", "fr")
    states = {(s.purpose, s.channel): (s.action, s.occurred_at) for s in ConsentState.objects.filter(client=anna)}
    assert states == {("data_processing", ""): (Action.GRANTED, given), ("marketing", "sms"): (Action.WITHDRAWN, given),
                      ("marketing", "email"): (Action.GRANTED, given)}


def test_an_import_never_overrides_a_newer_withdrawal(salon, tmp_path):
    anna = ClientFactory(salon=salon, phone="+393331234567")
    withdraw(client=anna, purpose="marketing", channel="sms", source=Source.FORM_LINK,
             occurred_at=timezone.now() - timedelta(days=1))
    last_year = (timezone.localdate() - timedelta(days=365)).isoformat()

    run(salon, csv_file(tmp_path, f"first_name,phone,consent_marketing_sms,consent_date\n"
                                  f"Anna,333 123 4567,yes,{last_year}\n"))

    state = ConsentState.objects.get(client=anna, purpose="marketing", channel="sms")
    assert state.action == Action.WITHDRAWN
    assert state.event.source == Source.FORM_LINK
    assert ConsentEvent.objects.filter(client=anna).count() == 1


def test_an_import_newer_than_the_current_state_changes_it(salon, tmp_path):
    anna = ClientFactory(salon=salon, phone="+393331234567")
    withdraw(client=anna, purpose="marketing", channel="sms", source=Source.FORM_LINK,
             occurred_at=timezone.now() - timedelta(days=800))
    last_year = (timezone.localdate() - timedelta(days=365)).isoformat()

    run(salon, csv_file(tmp_path, f"first_name,phone,consent_marketing_sms,consent_date\n"
                                  f"Anna,333 123 4567,yes,{last_year}\n"))

    state = ConsentState.objects.get(client=anna, purpose="marketing", channel="sms")
    assert state.action == Action.GRANTED
    assert state.event.source == Source.IMPORT


def test_a_dry_run_writes_nothing_and_prints_the_same_report(salon, tmp_path):
    path = csv_file(tmp_path, BAD_ROWS + "Bruno,Bianchi,,bruno@example.com,,,yes,2023-01-10,paper\n"
                                         "Carlo,,333 999 8888,,,,no,2023-01-10,paper\n")
    ClientFactory(salon=salon, first_name="Bruno", phone="", email="bruno@example.com")

    dry = run(salon, path, "--dry-run")

    assert dry[-1] == "Dry run: nothing was written."
    assert Client.objects.count() == 1
    assert not ConsentEvent.objects.exists()
    assert run(salon, path) == dry[:-1]
    assert "3 clients created, 1 updated, 0 unchanged, 3 consent entries recorded, 8 bad rows (listed above)" in dry


def test_a_crash_half_way_leaves_no_client_without_its_consents(salon, tmp_path, monkeypatch):
    path = csv_file(tmp_path, CONSENTS)
    real = importing.record_consent

    def crash_on_bruno(*, client, **kwargs):
        if client.first_name == "Bruno":
            raise RuntimeError("database went away")
        return real(client=client, **kwargs)

    monkeypatch.setattr(importing, "record_consent", crash_on_bruno)
    with pytest.raises(RuntimeError):
        run(salon, path)
    assert not Client.objects.filter(consent_events__isnull=True).exists()
    assert not ConsentState.objects.exists() or Client.objects.count() == ConsentState.objects.values(
        "client").distinct().count()

    monkeypatch.setattr(importing, "record_consent", real)
    run(salon, path)
    assert Client.objects.count() == 2
    assert ConsentEvent.objects.count() == 4


def test_semicolons_a_bom_quoted_fields_and_crlf_are_read(salon, tmp_path):
    text = 'First Name;Last_Name;PHONE;Email\r\nAnna;"Rossi; Bianchi";333 123 4567;anna@example.com\r\n'
    path = csv_file(tmp_path, codecs.BOM_UTF8 + text.encode())

    assert run(salon, path)[-1] == "1 client created, 0 updated, 0 unchanged, 0 consent entries recorded, 0 bad rows"
    anna = Client.objects.get()
    assert (anna.first_name, anna.last_name, anna.language) == ("Anna", "Rossi; Bianchi", "it")


def test_unknown_columns_are_named_and_ignored(salon, tmp_path):
    lines = run(salon, csv_file(tmp_path, "first_name,email,notes\nAnna,anna@example.com,VIP\n"))

    assert lines[0] == "Ignored columns: notes"
    assert Client.objects.get().notes == ""


def test_matching_reads_the_address_book_once_not_per_row(salon, tmp_path, django_assert_max_num_queries):
    for n in range(40):
        ClientFactory(salon=salon, phone=f"+39333100{n:04d}", email=f"c{n}@example.com")
    rows = "".join(f"C{n},333 100 {n:04d},c{n}@example.com,yes,2023-01-10\n" for n in range(40))
    path = csv_file(tmp_path, "first_name,phone,email,consent_data_processing,consent_date\n" + rows)

    with django_assert_max_num_queries(5):
        lines = run(salon, path, "--dry-run")
    assert "0 clients created, 40 updated, 0 unchanged, 40 consent entries recorded, 0 bad rows" in lines


# The admin page -----------------------------------------------------------------------------------


def upload(text: str | bytes, name="clients.csv"):
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")


def test_the_address_book_links_to_the_import_page_which_starts_with_a_dry_run(client, member):
    client.force_login(member)
    url = reverse("admin:clients_client_import")

    assert url in client.get(reverse("admin:clients_client_changelist")).text
    page = client.get(url).text
    assert "Import clients (CSV)" in page
    assert re.search(r'<input type="checkbox" name="dry_run"[^>]* checked>', page)


def test_a_member_dry_runs_then_imports_into_their_salon(client, member, salon):
    client.force_login(member)
    url = reverse("admin:clients_client_import")

    response = client.post(url, {"salon": salon.pk, "file": upload(BAD_ROWS), "dry_run": "on"})
    page = response.text
    assert response.status_code == 200
    assert "line 6: unknown language “xx” (use en, it, fr, de, fi)" in page
    assert "2 clients created, 0 updated, 0 unchanged, 1 consent entry recorded, 8 bad rows (listed above)" in page
    assert "Dry run: nothing was written." in page
    assert not Client.objects.exists()

    page = client.post(url, {"salon": salon.pk, "file": upload(BAD_ROWS)}).text
    assert "line 7: duplicate of line 2 (same phone)" in page
    assert Client.objects.filter(salon=salon).count() == 2
    assert ConsentEvent.objects.get().actor == member


def test_an_outsider_cannot_import_into_another_salon(client, outsider, salon, other_salon):
    client.force_login(outsider)
    url = reverse("admin:clients_client_import")

    page = client.post(url, {"salon": salon.pk, "file": upload(CONSENTS)}).text
    assert "Select a valid choice" in page
    assert not Client.objects.exists()

    client.post(url, {"salon": other_salon.pk, "file": upload(CONSENTS)})
    assert Client.objects.filter(salon=other_salon).count() == 2
    assert not Client.objects.filter(salon=salon).exists()


def test_the_page_shows_file_errors_and_refuses_large_files(client, member, salon, monkeypatch):
    client.force_login(member)
    url = reverse("admin:clients_client_import")

    page = client.post(url, {"salon": salon.pk, "file": upload("first_name,phone\nJosé,1\n".encode("latin-1"))}).text
    assert "line 2: not UTF-8 text; save the file as UTF-8. Nothing was imported." in page

    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 1024 * 1024)
    page = client.post(url, {"salon": salon.pk, "file": upload(b"first_name,phone\n" + b"x" * 1024 * 1024)}).text
    assert "The file is larger than 1 MB" in page
    assert not Client.objects.exists()


def test_a_client_added_while_the_file_is_imported_is_not_created_twice(salon, tmp_path, monkeypatch):
    check = importing._Checker.check

    def a_double_click_lands_meanwhile(self, records):
        rows = check(self, records)
        ClientFactory(salon=salon, first_name="Anna", phone="+393331234567", email="")
        return rows

    monkeypatch.setattr(importing._Checker, "check", a_double_click_lands_meanwhile)
    lines = run(salon, csv_file(tmp_path, CONSENTS))

    assert lines == [
        "line 2: a client with this phone or email was added while the file was being imported; "
        "import the file again to update it",
        "1 client created, 0 updated, 0 unchanged, 1 consent entry recorded, 1 bad row (listed above)",
    ]
    assert Client.objects.filter(phone="+393331234567").count() == 1
