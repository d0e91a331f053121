"""The receipt of a client's choices: a Kantara Consent Receipt v1.1 JSON and a few lines for a person."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from consents.models import ConsentEvent, Source
from consents.receipts import kantara_receipt, receipt_lines
from consents.services import ConsentChange, record_consent
from core.vocabulary import Purpose
from messaging.segments import is_gsm7
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

BASE_URL = "https://consent.example.com"
# 14:05 in Rome, the salon's time zone.
GIVEN_AT = datetime(2026, 3, 12, 13, 5, tzinfo=UTC)
KANTARA_V1_1_FIELDS = {
    "version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "language",
    "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat",
}


@pytest.fixture
def recorded(client_, wording):
    """A form submission: data processing and marketing by email accepted, marketing by SMS refused."""
    salon = client_.salon
    return record_consent(client=client_, source=Source.FORM_LINK, occurred_at=GIVEN_AT, changes=[
        ConsentChange(Purpose.DATA_PROCESSING, True, "", wording(salon, Purpose.DATA_PROCESSING)),
        ConsentChange(Purpose.MARKETING, True, "email", wording(salon, Purpose.MARKETING)),
        ConsentChange(Purpose.MARKETING, False, "sms", wording(salon, Purpose.MARKETING)),
    ])


def receipt_for(client, events):
    return kantara_receipt(client=client, events=events, public_base_url=BASE_URL)


def test_receipt_has_every_kantara_v1_1_field(client_, recorded):
    receipt = receipt_for(client_, recorded)
    assert set(receipt) == KANTARA_V1_1_FIELDS
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "IT"
    assert receipt["consentTimestamp"] == int(GIVEN_AT.timestamp())
    assert receipt["language"] == client_.language
    assert receipt["policyUrl"] == f"{BASE_URL}/privacy/aurora/"
    assert (receipt["sensitive"], receipt["spiCat"]) == (False, [])
    [controller] = receipt["piiControllers"]
    assert set(controller) == {"piiController", "contact", "address", "email", "phone", "piiControllerUrl"}
    assert controller["piiController"] == "Salone Aurora"
    assert (controller["address"], controller["email"], controller["phone"]) == ({}, "", "")
    [service] = receipt["services"]
    assert service["service"] == "Salone Aurora"


def test_receipt_names_the_controller_and_how_to_reach_it(client_, recorded):
    salon = client_.salon
    salon.legal_name, salon.address = "Aurora di Bianchi Anna", "Via Roma 1, 20121 Milano"
    salon.contact_phone, salon.contact_email = "+390212345678", "privacy@aurora.example"
    [controller] = receipt_for(client_, recorded)["piiControllers"]
    assert controller["piiController"] == "Aurora di Bianchi Anna"
    assert controller["contact"] == "Salone Aurora"
    assert controller["address"] == {"streetAddress": "Via Roma 1, 20121 Milano", "addressCountry": "IT"}
    assert (controller["email"], controller["phone"]) == ("privacy@aurora.example", "+390212345678")


def test_collection_method_describes_the_source_in_the_clients_language(client_, recorded):
    client_.language = "en"
    assert receipt_for(client_, recorded)["collectionMethod"] == "Web form via link sent by the salon"


def test_one_purpose_per_entry_with_its_action_channel_and_wording(client_, recorded):
    purposes = receipt_for(client_, recorded)["services"][0]["purposes"]
    assert len(purposes) == len(recorded) == 3
    for purpose, event in zip(purposes, recorded, strict=True):
        assert purpose["consentType"] == "EXPLICIT"
        assert purpose["x-action"] == event.action
        assert purpose["x-channel"] == event.channel
        assert purpose["x-wordingSha256"] == event.wording_sha256 != ""
        assert purpose["x-registerEntry"] == event.seq
        assert purpose["x-entryHash"] == event.entry_hash
        assert purpose["x-occurredAt"] == "2026-03-12T13:05:00Z"
        assert purpose["purpose"] == event.wording.title
        assert purpose["x-wordingVersion"] == event.wording.version
        assert purpose["thirdPartyDisclosure"] is False
    assert [(p["x-action"], p["x-channel"]) for p in purposes] == [
        ("granted", ""), ("granted", "email"), ("withdrawn", "sms")]
    assert [p["purposeCategory"] for p in purposes] == [["Core Function"], ["Marketing"], ["Marketing"]]
    assert [p["primaryPurpose"] for p in purposes] == [True, False, False]
    assert purposes[0]["piiCategory"] == ["Contact details", "Appointment history"]
    assert purposes[1]["piiCategory"] == ["Contact details"]


def test_a_withdrawal_without_wording_is_named_by_its_purpose(client_, recorded):
    client_.language = "en"
    events = record_consent(client=client_, source=Source.EMAIL_UNSUBSCRIBE,
                            changes=[ConsentChange(Purpose.MARKETING, False, "email")])
    [purpose] = receipt_for(client_, events)["services"][0]["purposes"]
    assert (purpose["purpose"], purpose["x-wordingSha256"], purpose["x-wordingVersion"]) == ("Marketing", "", None)


def test_termination_names_the_salons_consent_validity_for_marketing(client_, recorded):
    client_.language = "en"
    purposes = receipt_for(client_, recorded)["services"][0]["purposes"]
    assert {p["termination"] for p in purposes} == {"Until withdrawn"}
    client_.salon.consent_validity_months = 24
    purposes = receipt_for(client_, recorded)["services"][0]["purposes"]
    assert [p["termination"] for p in purposes] == [
        "Until withdrawn", "Until withdrawn, at most 24 months", "Until withdrawn, at most 24 months"]


def test_the_receipt_names_the_client_only_by_a_pseudonymous_id(client_, recorded):
    receipt = receipt_for(client_, recorded)
    assert receipt["piiPrincipalId"] == f"salonconsent:client:{client_.pk}"
    dumped = json.dumps(receipt)
    for personal in (client_.first_name, client_.last_name, client_.email, client_.phone.as_e164,
                     client_.phone.national_number):
        assert str(personal) not in receipt["piiPrincipalId"]
    for personal in (client_.first_name, client_.email, client_.phone.as_e164):
        assert personal not in dumped


def test_the_same_recording_always_gives_the_same_receipt_id(client_, recorded):
    first = receipt_for(client_, recorded)["consentReceiptID"]
    reloaded = list(ConsentEvent.objects.filter(pk__in=[e.pk for e in recorded]).order_by("-seq"))
    assert receipt_for(client_, reloaded)["consentReceiptID"] == first
    assert receipt_for(client_, recorded[:2])["consentReceiptID"] != first
    later = record_consent(client=client_, source=Source.FORM_LINK, occurred_at=GIVEN_AT + timedelta(days=1),
                           changes=[ConsentChange(Purpose.MARKETING, False, "email")])
    assert receipt_for(client_, later)["consentReceiptID"] != first


def test_the_receipt_is_json(client_, recorded):
    receipt = receipt_for(client_, recorded)
    assert json.loads(json.dumps(receipt)) == receipt


def test_the_receipt_reads_the_register_in_one_query(client_, recorded, django_assert_num_queries):
    with django_assert_num_queries(1):  # the wordings shown; the salon comes with the client
        receipt_for(client_, recorded)


def test_entries_of_another_client_make_no_receipt(client_, recorded):
    with pytest.raises(ValueError, match="one client"):
        receipt_for(ClientFactory(salon=client_.salon), recorded)


def test_receipt_lines_say_each_choice_in_one_line_with_the_salons_local_time(recorded):
    text = receipt_lines(events=recorded, language="en")
    assert text.splitlines() == [
        "- Data processing: yes, 12/03/2026 14:05",
        "- Marketing (Email): yes, 12/03/2026 14:05",
        "- Marketing (SMS): no, 12/03/2026 14:05",
    ]
    assert all(is_gsm7(char) for char in text)


def test_receipt_lines_render_in_italian(recorded):
    text = receipt_lines(events=recorded, language="it")
    assert text != receipt_lines(events=recorded, language="en")
    assert text.splitlines() == [
        "- Trattamento dei dati: sì, 12/03/2026 14:05",
        "- Marketing (Email): sì, 12/03/2026 14:05",
        "- Marketing (SMS): no, 12/03/2026 14:05",
    ]
    assert "yes" not in text
    assert all(is_gsm7(char) for char in text)  # "ì" is in the GSM-7 alphabet: the lines may go by SMS
