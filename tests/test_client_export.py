"""Access and portability: the export holds everything the register and the outbox hold for the client,
nothing of another client, in a versioned JSON schema and a CSV with the same content."""

import csv
import io
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from consents.models import ConsentEvent, Source
from consents.services import Evidence
from messaging.models import Message
from rights.export import CSV_COLUMNS, SCHEMA, export_client_csv, export_client_data
from rights.inventory import personal_field_names
from tests.factories import AppointmentFactory, ClientFactory, MessageFactory
from tests.register_tools import grant, withdraw

pytestmark = pytest.mark.django_db


def give_history(client, wording, *, body):
    """Consents, a withdrawal, an appointment and two messages with their outcomes."""
    salon = client.salon
    evidence = Evidence(ip="198.51.100.4", user_agent="Firefox", note="consent form")
    grant(client=client, purpose="data_processing", wording=wording(salon, "data_processing", "it"),
          source=Source.FORM_LINK, evidence=evidence)
    grant(client=client, purpose="marketing", channel="sms", wording=wording(salon, "marketing", "it"),
          source=Source.FORM_LINK, evidence=evidence)
    withdraw(client=client, purpose="marketing", channel="sms", source=Source.SMS_KEYWORD,
             evidence=Evidence(note="STOP"))
    appointment = AppointmentFactory(client=client, service="Colour")
    now = timezone.now()
    MessageFactory(
        client=client, appointment=appointment, kind="appointment_reminder", channel="sms",
        recipient=client.phone.as_e164, body=body, status=Message.Status.DELIVERED,
        sent_at=now - timedelta(minutes=2), delivered_at=now - timedelta(minutes=1),
    )
    MessageFactory(
        client=client, kind="marketing", channel="sms", recipient=client.phone.as_e164, body=f"{body} (offer)",
        status=Message.Status.BLOCKED, reason="no_consent",
    )


@pytest.fixture
def anna(salon, wording):
    client = ClientFactory(salon=salon, first_name="Anna", last_name="Bellini", email="anna.b@example.com",
                           phone="+393331112222", notes="likes tea")
    give_history(client, wording, body="Ciao Anna, a domani")
    return client


@pytest.fixture
def carlo(salon, wording):
    client = ClientFactory(salon=salon, first_name="Carlo", last_name="Moretti", email="carlo.m@example.com",
                           phone="+393339998888", notes="allergic to ammonia")
    give_history(client, wording, body="Ciao Carlo, a domani")
    return client


def test_the_export_holds_every_register_entry_with_its_wording_and_every_message_with_its_outcome(anna, carlo):
    data = export_client_data(anna)

    register = ConsentEvent.objects.filter(client=anna).select_related("wording").order_by("seq")
    assert [(e["entry"], e["entry_hash"], e["action"]) for e in data["consent_register"]] == [
        (e.seq, e.entry_hash, e.action) for e in register]
    first = data["consent_register"][0]
    assert first["wording"]["text"] == register[0].wording.text
    assert first["evidence"] == {"ip": "198.51.100.4", "user_agent": "Firefox", "request_id": "",
                                 "note": "consent form"}
    assert {(c["purpose"], c["channel"], c["state"]) for c in data["current_consents"]} == {
        ("data_processing", "", "granted"), ("marketing", "sms", "withdrawn")}

    outbox = Message.objects.filter(client=anna).order_by("created_at", "pk")
    assert [(m["id"], m["status"], m["body"]) for m in data["messages"]] == [
        (m.pk, m.status, m.body) for m in outbox]
    delivered = data["messages"][0]
    assert delivered["sent_at"]
    assert delivered["delivered_at"]
    assert delivered["recipient"] == "+393331112222"
    assert data["messages"][1]["reason"] == "no_consent"
    assert [a["service"] for a in data["appointments"]] == ["Colour"]
    assert data["client"]["phone"] == "+393331112222"
    assert data["client"]["notes"] == "likes tea"


def test_the_export_holds_nothing_of_another_client(anna, carlo):
    text = json.dumps(export_client_data(anna)) + export_client_csv(anna)

    other_values = ["Carlo", "Moretti", "carlo.m@example.com", "+393339998888", "3339998888", "ammonia",
                    *ConsentEvent.objects.filter(client=carlo).values_list("entry_hash", flat=True)]
    assert [value for value in other_values if value in text] == []


def test_the_json_is_versioned_with_the_documented_keys(anna):
    data = export_client_data(anna)

    assert data["schema"] == SCHEMA == "salonconsent.client-export/2"
    assert list(data) == ["schema", "exported_at", "salon", "client", "appointments", "consent_register",
                          "current_consents", "consent_scans", "contact_changes", "erasure_requests", "messages"]
    json.dumps(data)  # plain JSON types only


@pytest.mark.parametrize(("section", "label"), [
    ("client", "clients.Client"), ("appointments", "appointments.Appointment"),
    ("messages", "messaging.Message"), ("erasure_requests", "clients.ErasureRequest"),
])
def test_every_personal_field_of_the_inventory_is_exported(anna, section, label):
    from rights.erasure import request_erasure

    request_erasure(client=anna)
    data = export_client_data(anna)
    item = data[section] if isinstance(data[section], dict) else data[section][0]
    assert set(personal_field_names(label)) <= set(item)


def test_the_csv_parses_and_holds_the_same_content_as_the_json(anna):
    rows = list(csv.DictReader(io.StringIO(export_client_csv(anna))))
    data = export_client_data(anna)

    assert tuple(rows[0]) == CSV_COLUMNS
    assert {"section": "export", "item": "1", "field": "schema", "value": SCHEMA} in rows
    assert {"section": "client", "item": "1", "field": "email", "value": "anna.b@example.com"} in rows
    register_items = {row["item"] for row in rows if row["section"] == "consent_register"}
    assert len(register_items) == len(data["consent_register"]) == 3
    texts = [row["value"] for row in rows if row["section"] == "consent_register" and row["field"] == "wording.text"]
    assert texts[0] == data["consent_register"][0]["wording"]["text"]
    statuses = [row["value"] for row in rows if row["section"] == "messages" and row["field"] == "status"]
    assert statuses == ["delivered", "blocked"]


def test_an_erased_client_exports_only_what_is_kept(anna, owner):
    from rights.erasure import erase_client

    erase_client(client=anna, by=owner, reason="asked by phone")
    data = export_client_data(anna)

    assert (data["client"]["last_name"], data["client"]["phone"], data["client"]["erased_at"] is not None) == \
        ("", "", True)
    assert len(data["consent_register"]) == 3
    assert data["messages"][0]["body"] == ""


def test_the_command_prints_json_and_writes_csv(anna, salon, tmp_path):
    out = StringIO()
    call_command("export_client", salon.slug, str(anna.pk), stdout=out)
    assert json.loads(out.getvalue())["client"]["first_name"] == "Anna"

    target = tmp_path / "anna.csv"
    call_command("export_client", str(salon.pk), str(anna.pk), "--format", "csv", "--output", str(target),
                 stdout=StringIO(), stderr=StringIO())
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert {"section": "client", "item": "1", "field": "first_name", "value": "Anna"} in rows


def test_the_command_refuses_a_client_of_another_salon(anna, other_salon):
    with pytest.raises(CommandError, match="has no client"):
        call_command("export_client", other_salon.slug, str(anna.pk), stdout=StringIO())
