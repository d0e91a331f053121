"""The client page: Consents & Privacy panel, consent recorded in person, privacy actions."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.models import Client, ErasureRequest
from consents.models import ConsentEvent, ConsentScan, Source
from consents.selectors import current_wording
from tests.factories import ClientFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def giulia(salon):
    return ClientFactory(salon=salon, first_name="Giulia", language="it")


def record_url(client):
    return reverse("admin:clients_client_record_consent", args=[client.pk])


def test_the_record_form_has_nothing_ticked_and_preselects_the_clients_language(client, member, giulia):
    client.force_login(member)
    page = client.get(record_url(giulia)).text
    assert not re.search(r'type="checkbox"[^>]* checked', page)
    italian = current_wording(salon=giulia.salon, purpose="data_processing", language="it")
    assert re.search(rf'<option value="{italian.pk}" selected>', page)


def test_recording_in_person_writes_grants_with_the_staff_member_and_the_scan(client, member, giulia, settings,
                                                                               tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(member)
    wording = current_wording(salon=giulia.salon, purpose="data_processing", language="it")
    marketing = current_wording(salon=giulia.salon, purpose="marketing", language="it")
    form = {f"wording_{p}": current_wording(salon=giulia.salon, purpose=p, language="it").pk
            for p in ("data_processing", "service", "marketing", "personalised")}
    response = client.post(record_url(giulia), {
        **form, "source": "paper", "data_processing": "on", "marketing_sms": "on",
        "scan": SimpleUploadedFile("modulo.pdf", b"%PDF-1.4 signed", content_type="application/pdf"),
    })
    assert response.status_code == 302
    events = list(ConsentEvent.objects.filter(client=giulia).order_by("seq"))
    assert [(e.purpose, e.channel, e.action) for e in events] == [
        ("data_processing", "", "granted"), ("marketing", "sms", "granted")]
    assert {e.source for e in events} == {Source.PAPER}
    assert {e.actor for e in events} == {member}
    assert events[0].wording == wording
    assert events[1].wording == marketing
    scan = ConsentScan.objects.get(client=giulia)
    assert f"scan #{scan.pk} sha256 {scan.sha256}" == events[0].note
    assert (tmp_path / scan.file.name).read_bytes() == b"%PDF-1.4 signed"


def test_recording_nothing_is_refused_with_a_clear_error(client, member, giulia):
    client.force_login(member)
    form = {f"wording_{p}": current_wording(salon=giulia.salon, purpose=p, language="it").pk
            for p in ("data_processing", "service", "marketing", "personalised")}
    response = client.post(record_url(giulia), {**form, "source": "in_person"})
    assert response.status_code == 200
    assert "Tick at least one box" in response.text
    assert not ConsentEvent.objects.exists()


def test_the_panel_shows_the_register_with_a_link_to_the_exact_wording(client, member, giulia, wording):
    shown = wording(giulia.salon, "data_processing", "it")
    grant(client=giulia, purpose="data_processing", wording=shown, source=Source.FORM_LINK)
    client.force_login(member)
    page = client.get(reverse("admin:clients_client_change", args=[giulia.pk])).text
    assert reverse("admin:consents_consentwording_change", args=[shown.pk]) in page
    assert "Record consent given in person" in page
    assert "Restrict processing" in page
    wording_page = client.get(reverse("admin:consents_consentwording_change", args=[shown.pk])).text
    assert shown.text[:40] in wording_page


def test_restrict_and_lift(client, member, giulia):
    client.force_login(member)
    url = reverse("admin:clients_client_restriction", args=[giulia.pk])
    client.post(url, {"restricted": "1"})
    assert Client.objects.get(pk=giulia.pk).is_restricted
    client.post(url, {"restricted": "0"})
    assert not Client.objects.get(pk=giulia.pk).is_restricted


def test_staff_request_erasure_and_export(client, member, giulia):
    client.force_login(member)
    client.post(reverse("admin:clients_client_erasure_request", args=[giulia.pk]))
    assert ErasureRequest.objects.get(client=giulia).source == "staff"
    export = client.get(reverse("admin:clients_client_export", args=[giulia.pk]))
    assert export.json()["client"]["first_name"] == "Giulia"


def test_outsiders_reach_none_of_these_pages(client, outsider, giulia):
    client.force_login(outsider)
    for name, method in [("record_consent", "get"), ("export", "get"), ("restriction", "post"),
                         ("erasure_request", "post")]:
        response = getattr(client, method)(reverse(f"admin:clients_client_{name}", args=[giulia.pk]))
        assert response.status_code == 404, name
    assert not ErasureRequest.objects.exists()
    assert not Client.objects.get(pk=giulia.pk).is_restricted


def test_an_owner_erases_a_client_after_the_confirmation_page(client, owner, giulia):
    from clients.models import SuppressedContact

    client.force_login(owner)
    url = reverse("admin:clients_client_erase", args=[giulia.pk])
    page = client.get(url).text
    assert "This cannot be undone." in page
    response = client.post(url, {"reason": "client asked at the desk"})
    assert response.status_code == 302
    erased = Client.objects.get(pk=giulia.pk)
    assert erased.is_erased
    assert erased.first_name != "Giulia"
    assert SuppressedContact.objects.filter(salon=giulia.salon).count() == 2  # phone and email


def test_staff_members_cannot_erase(client, member, giulia):
    client.force_login(member)
    assert client.get(reverse("admin:clients_client_erase", args=[giulia.pk])).status_code == 403
    assert client.post(reverse("admin:clients_client_erase", args=[giulia.pk]), {"reason": "x"}).status_code == 403
    assert not Client.objects.get(pk=giulia.pk).is_erased


def test_the_data_export_as_csv(client, member, giulia):
    client.force_login(member)
    response = client.get(reverse("admin:clients_client_export_csv", args=[giulia.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "Giulia" in response.content.decode()


def test_changing_the_phone_in_the_admin_logs_it_and_lifts_the_old_numbers_stop(client, member, giulia):
    from clients.models import ContactChange

    Client.objects.filter(pk=giulia.pk).update(sms_suppression="opted_out")
    client.force_login(member)
    url = reverse("admin:clients_client_change", args=[giulia.pk])
    response = client.post(url, {
        "first_name": "Giulia", "last_name": giulia.last_name, "phone": "347 111 2222", "email": giulia.email,
        "language": "it",
        **{f"{prefix}-{key}": 0 for prefix in ("consent_states", "consent_events", "contact_changes")
           for key in ("TOTAL_FORMS", "INITIAL_FORMS")},
    })
    assert response.status_code == 302, response.text[:3000]
    giulia.refresh_from_db()
    assert giulia.phone.as_e164 == "+393471112222"
    assert giulia.sms_suppression == ""
    change = ContactChange.objects.get(client=giulia, field="phone")
    assert "•" in change.old_value_masked
    assert change.changed_by == member


def test_objection_withdraws_all_marketing(client, member, giulia):
    from consents.models import ConsentState

    client.force_login(member)
    client.post(reverse("admin:clients_client_objection", args=[giulia.pk]))
    states = {(s.purpose, s.channel): s.action for s in ConsentState.objects.filter(client=giulia)}
    assert states[("marketing", "sms")] == states[("marketing", "email")] == states[("personalised", "")] == "withdrawn"


def test_clients_past_retention_are_listed_and_erased_in_bulk_after_confirmation(client, owner, salon):
    from datetime import date

    old = ClientFactory(salon=salon, first_name="Oldclient", last_visit=date(2020, 1, 1))
    ClientFactory(salon=salon, first_name="Recentclient", last_visit=date.today())
    client.force_login(owner)
    url = reverse("admin:clients_client_changelist")
    page = client.get(url, {"retention": "past"}).text
    assert "Oldclient" in page
    assert "Recentclient" not in page
    confirm = client.post(url, {"action": "erase_selected", "_selected_action": [old.pk]})
    assert "This cannot be undone." in confirm.text
    assert not Client.objects.get(pk=old.pk).is_erased
    client.post(url, {"action": "erase_selected", "_selected_action": [old.pk], "confirm": "yes",
                      "reason": "retention period over"})
    assert Client.objects.get(pk=old.pk).is_erased


def test_staff_members_cannot_bulk_erase(client, member, salon):
    from datetime import date

    old = ClientFactory(salon=salon, last_visit=date(2020, 1, 1))
    client.force_login(member)
    client.post(reverse("admin:clients_client_changelist"), {
        "action": "erase_selected", "_selected_action": [old.pk], "confirm": "yes", "reason": "x"})
    assert not Client.objects.get(pk=old.pk).is_erased
