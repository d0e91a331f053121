"""export_consents: the register as proof of consent an auditor can verify without salonconsent."""

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consents.chain import GENESIS_HASH, entry_hash
from consents.export import COLUMNS, HASH_INPUTS, PERSONAL_COLUMNS, export_register, proof_of_consent
from consents.integrity import verify_register
from consents.models import ConsentEvent, Source
from consents.services import Evidence
from tests.factories import ClientFactory, UserFactory
from tests.register_tools import grant, register_trigger_disabled, withdraw, write_csv, write_json

pytestmark = pytest.mark.django_db

EVIDENCE = Evidence(ip="203.0.113.7", user_agent='Mozilla/5.0 (iPhone; "quoted", comma)', request_id="req-42",
                    note="firmato a mano — modulo n° 7\nseconda riga")


@pytest.fixture
def giulia(salon):
    return ClientFactory(salon=salon, first_name="Giulia", last_name="Bianchi", phone="+393331234567",
                         email="giulia@example.com")


@pytest.fixture
def marco(salon):
    return ClientFactory(salon=salon, first_name="Marco", last_name="Verdi")


@pytest.fixture
def history(salon, other_salon, giulia, marco, member, wording):
    """Entries of two clients in the salon (one by staff, with evidence), and one in another salon."""
    grant(client=giulia, purpose="data_processing", wording=wording(salon, "data_processing"),
          source=Source.FORM_LINK, evidence=EVIDENCE)
    grant(client=giulia, purpose="marketing", channel="sms", wording=wording(salon, "marketing"),
          source=Source.IN_PERSON, actor=member, evidence=EVIDENCE)
    grant(client=marco, purpose="service", channel="email", wording=wording(salon, "service", "it"),
          source=Source.PAPER, actor=member, occurred_at=timezone.now() - timedelta(days=3))
    withdraw(client=giulia, purpose="marketing", channel="sms", source=Source.SMS_KEYWORD)
    stranger = ClientFactory(salon=other_salon, first_name="Outsider")
    grant(client=stranger, purpose="data_processing", wording=wording(other_salon, "data_processing"),
          source=Source.FORM_LINK)
    return list(ConsentEvent.objects.filter(salon=salon).order_by("seq"))


def export(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_consents", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def parse_csv(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _typed(column, value):
    """A CSV cell back as the value the hash covers: ids and numbers as int, empty ids as None."""
    if column in ("entry", "salon_id", "client_id"):
        return int(value)
    if column in ("wording_id", "staff_id"):
        return int(value) if value else None
    return value


def recomputed_hash(row, *, from_csv):
    """entry_hash computed only from the exported columns named in HASH_INPUTS."""
    values = {key: (_typed(column, row[column]) if from_csv else row[column]) for key, column in HASH_INPUTS.items()}
    return entry_hash(
        prev_hash=values["prev"], seq=values["seq"], salon_id=values["salon"], client_id=values["client"],
        purpose=values["purpose"], channel=values["channel"], action=values["action"],
        occurred_at=datetime.fromisoformat(values["occurred_at"]),
        recorded_at=datetime.fromisoformat(values["recorded_at"]), wording_id=values["wording"],
        wording_sha256=values["wording_sha256"], source=values["source"], actor_id=values["actor"],
        ip=values["ip"], user_agent=values["user_agent"], request_id=values["request_id"], note=values["note"],
    )


def canonical_hash(row, *, from_csv):
    """The same hash without salonconsent's code: the documented canonical JSON of the exported columns."""
    payload = {"v": 1, **{key: (_typed(column, row[column]) if from_csv else row[column])
                          for key, column in HASH_INPUTS.items()}}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def test_csv_export_holds_every_entry_and_recomputes_to_its_hashes(history, salon):
    text, summary = export("--salon", str(salon.pk), "--format", "csv")
    rows = parse_csv(text)
    assert tuple(rows[0].keys()) == COLUMNS
    assert [int(r["entry"]) for r in rows] == [e.seq for e in history] == [1, 2, 3, 4]
    prev = GENESIS_HASH
    for row, event in zip(rows, history, strict=True):
        assert row["entry_hash"] == event.entry_hash
        assert row["prev_hash"] == prev == event.prev_hash
        assert recomputed_hash(row, from_csv=True) == row["entry_hash"]
        assert canonical_hash(row, from_csv=True) == row["entry_hash"]
        prev = row["entry_hash"]
    assert "exported 4 register entries" in summary
    assert history[-1].entry_hash in summary


def test_csv_rows_carry_the_fields_an_auditor_needs(history, salon, giulia, member, wording):
    rows = parse_csv(export("--salon", str(salon.pk), "--format", "csv")[0])
    by_staff = rows[1]
    shown = wording(salon, "marketing")
    assert by_staff == by_staff | {
        "salon_id": str(salon.pk), "salon_name": "Salone Aurora", "client_id": str(giulia.pk),
        "client_first_name": "Giulia", "client_last_name": "Bianchi", "client_phone": "+393331234567",
        "client_email": "giulia@example.com", "purpose": "marketing", "channel": "sms", "action": "granted",
        "source": "in_person", "staff_id": str(member.pk), "staff_username": "member", "ip": "203.0.113.7",
        "user_agent": EVIDENCE.user_agent, "request_id": "req-42", "note": EVIDENCE.note,
        "wording_id": str(shown.pk), "wording_version": str(shown.version), "wording_language": shown.language,
        "wording_title": shown.title, "wording_sha256": shown.sha256, "wording_sha256_matches": "true",
    }
    assert by_staff["occurred_at"] == history[1].occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    withdrawal = rows[3]
    assert withdrawal["wording_id"] == withdrawal["wording_sha256"] == withdrawal["wording_sha256_matches"] == ""
    assert withdrawal["staff_id"] == withdrawal["staff_username"] == ""


def test_json_export_round_trips_with_the_anchor_and_the_words_shown(history, salon, wording):
    text, _ = export("--salon", str(salon.pk), "--format", "json")
    document = json.loads(text)
    check = verify_register(salon)
    assert document["salon"] == {"id": salon.pk, "name": "Salone Aurora"}
    assert document["register"] == {"head_hash": check.head_hash, "verified": True, "problem": ""}
    assert document["entry_count"] == 4
    assert document["client_id"] is None
    entries = document["entries"]
    assert [e["entry"] for e in entries] == [1, 2, 3, 4]
    assert entries[-1]["entry_hash"] == check.head_hash
    for entry, event in zip(entries, history, strict=True):
        assert tuple(entry) == COLUMNS
        assert entry["entry_hash"] == event.entry_hash
        assert recomputed_hash(entry, from_csv=False) == entry["entry_hash"]
        assert canonical_hash(entry, from_csv=False) == entry["entry_hash"]
    assert document["hash"]["inputs"] == HASH_INPUTS

    words = {w["id"]: w for w in document["wordings"]}
    assert set(words) == {e.wording_id for e in history if e.wording_id}
    for entry in entries:
        if entry["wording_id"] is None:
            continue
        shown = words[entry["wording_id"]]
        digest = hashlib.sha256(f"{shown['title']}\n\n{shown['text']}".encode()).hexdigest()
        assert digest == shown["sha256"] == entry["wording_sha256"]
        assert entry["wording_sha256_matches"] is True
    assert words[wording(salon, "marketing").pk]["text"] == wording(salon, "marketing").text


def test_a_client_filter_exports_only_that_clients_entries(history, salon, giulia):
    rows = parse_csv(export("--salon", str(salon.pk), "--client", str(giulia.pk), "--format", "csv")[0])
    assert [r["entry"] for r in rows] == ["1", "2", "4"]
    assert {r["client_id"] for r in rows} == {str(giulia.pk)}
    assert all(recomputed_hash(r, from_csv=True) == r["entry_hash"] for r in rows)  # still verifiable entry by entry

    document = json.loads(export("--salon", str(salon.pk), "--client", str(giulia.pk), "--format", "json")[0])
    assert document["client_id"] == giulia.pk
    assert document["entry_count"] == 3
    assert [e["entry"] for e in document["entries"]] == [1, 2, 4]
    assert {w["purpose"] for w in document["wordings"]} == {"data_processing", "marketing"}


def test_another_salons_entries_never_appear(history, salon, other_salon):
    rows = parse_csv(export("--salon", str(salon.pk), "--format", "csv")[0])
    assert {r["salon_id"] for r in rows} == {str(salon.pk)}
    assert "Outsider" not in export("--salon", str(salon.pk), "--format", "json")[0]
    theirs = json.loads(export("--salon", str(other_salon.pk), "--format", "json")[0])
    assert [e["client_first_name"] for e in theirs["entries"]] == ["Outsider"]


def test_an_erased_clients_personal_columns_are_empty_and_the_proof_stays(history, salon, giulia):
    type(giulia).objects.filter(pk=giulia.pk).update(erased_at=timezone.now())
    rows = [r for r in parse_csv(export("--salon", str(salon.pk), "--format", "csv")[0])
            if r["client_id"] == str(giulia.pk)]
    assert len(rows) == 3
    for row in rows:
        assert all(row[column] == "" for column in PERSONAL_COLUMNS)
        assert recomputed_hash(row, from_csv=True) == row["entry_hash"]
    document = json.loads(export("--salon", str(salon.pk), "--format", "json")[0])
    assert "Giulia" not in json.dumps(document)
    assert "giulia@example.com" not in json.dumps(document)
    marco = document["entries"][2]
    assert marco["client_first_name"] == "Marco"


def test_output_to_a_file(history, salon, tmp_path):
    target = tmp_path / "proof.csv"
    out, summary = export("--salon", str(salon.pk), "--format", "csv", "--output", str(target))
    assert out == ""
    assert len(parse_csv(target.read_text(encoding="utf-8"))) == 4
    assert str(target) in summary
    assert not (tmp_path / "proof.csv.part").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--salon", "999999"], "No salon with id 999999"),
    (["--salon", "{salon}", "--client", "999999"], "No client with id 999999"),
    (["--salon", "{salon}", "--client", "{stranger}"], "does not belong to salon"),
])
def test_unknown_salon_or_client_or_a_client_of_another_salon_is_a_clear_error(salon, other_salon, args, message):
    stranger = ClientFactory(salon=other_salon)
    args = [a.format(salon=salon.pk, stranger=stranger.pk) for a in args]
    with pytest.raises(CommandError, match=message):
        export(*args, "--format", "csv")


def test_a_tampered_register_is_exported_flagged_and_the_command_fails(history, salon):
    with register_trigger_disabled() as cursor:
        cursor.execute("UPDATE consents_consentevent SET note = 'x' WHERE id = %s", [history[0].pk])
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="failed verification"):
        call_command("export_consents", "--salon", str(salon.pk), "--format", "json", stdout=out, stderr=err)
    document = json.loads(out.getvalue())
    assert document["register"]["verified"] is False
    assert "altered" in document["register"]["problem"]
    assert recomputed_hash(document["entries"][0], from_csv=False) != document["entries"][0]["entry_hash"]


def test_the_writers_stream_rows_to_any_text_stream(history, salon, giulia):
    stream = io.StringIO()
    assert write_csv(export_register(salon=salon), stream) == 4
    assert len(parse_csv(stream.getvalue())) == 4

    stream, head = io.StringIO(), verify_register(salon).head_hash
    write_json(export_register(salon=salon, client=giulia), stream, salon=salon, head_hash=head, client=giulia)
    document = json.loads(stream.getvalue())
    assert document["entry_count"] == len(document["entries"]) == 3
    assert document["register"] == {"head_hash": head, "verified": True, "problem": ""}


# The admin: the client page's link, scoped to the user's salons.

def export_url(client, fmt="csv"):
    return f"{reverse('admin:consents_consentevent_export')}?client={client.pk}&format={fmt}"


def test_the_client_page_links_to_the_proof_of_consent(client, member, giulia):
    client.force_login(member)
    page = client.get(reverse("admin:clients_client_change", args=[giulia.pk])).text
    assert "Export proof of consent (CSV)" in page
    assert f"{reverse('admin:consents_consentevent_export')}?client={giulia.pk}&amp;format=csv" in page \
        or f"{reverse('admin:consents_consentevent_export')}?client={giulia.pk}&format=csv" in page


def test_a_member_downloads_the_clients_proof_as_an_attachment(client, member, history, giulia):
    client.force_login(member)
    response = client.get(export_url(giulia))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="consent-register-aurora-client-')
    rows = parse_csv(b"".join(response.streaming_content).decode())
    assert [r["entry"] for r in rows] == ["1", "2", "4"]

    response = client.get(export_url(giulia, "json"))
    document = json.loads(b"".join(response.streaming_content))
    assert response["Content-Type"] == "application/json"
    assert document["client_id"] == giulia.pk
    assert document["register"]["verified"] is True


def test_an_outsider_gets_404_for_another_salons_client(client, outsider, history, giulia, salon):
    client.force_login(outsider)
    assert client.get(export_url(giulia)).status_code == 404
    url = f"{reverse('admin:consents_consentevent_export')}?salon={salon.pk}&format=csv"
    assert client.get(url).status_code == 404


def test_a_member_exports_the_whole_salon_register_and_a_bad_format_is_refused(client, member, history, salon, giulia):
    client.force_login(member)
    url = f"{reverse('admin:consents_consentevent_export')}?salon={salon.pk}&format=csv"
    assert len(parse_csv(b"".join(client.get(url).streaming_content).decode())) == 4
    assert client.get(export_url(giulia, "xml")).status_code == 400


def test_anonymous_users_are_sent_to_login(client, giulia):
    assert client.get(export_url(giulia)).status_code == 302


# Query count: a constant number of queries whatever the register's size.

def _fill(salon, wording, entries):
    """Entries spread over clients, wordings and staff members, so every related row is exported."""
    clients = [ClientFactory(salon=salon) for _ in range(5)]
    staff = [UserFactory() for _ in range(3)]
    shown = wording(salon, "marketing")
    for i in range(entries):
        person = clients[i % len(clients)]
        if i % 2:
            withdraw(client=person, purpose="marketing", channel="sms", source=Source.SMS_KEYWORD)
        else:
            grant(client=person, purpose="marketing", channel="sms", wording=shown, source=Source.IN_PERSON,
                  actor=staff[i % len(staff)])


def _queries_for_export(salon, fmt):
    with CaptureQueriesContext(connection) as queries:
        proof = proof_of_consent(salon=salon, fmt=fmt)
        size = sum(len(chunk) for chunk in proof.chunks)
    assert size > 0
    return len(queries)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_export_runs_a_constant_number_of_queries(salon, other_salon, wording, fmt):
    _fill(salon, wording, 10)
    _fill(other_salon, wording, 100)
    small, large = _queries_for_export(salon, fmt), _queries_for_export(other_salon, fmt)
    assert small == large
    assert small <= 7  # the register check reads the tree head too
