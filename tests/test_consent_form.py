"""The consent form behind a personal link: nothing pre-ticked, choices written once, a receipt, bad links."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from clients.models import ErasureRequest
from consents.links import new_link
from consents.models import ConsentEvent, ConsentLink, ConsentState, Source
from credits.services import account_for
from messaging.backends import locmem
from messaging.models import Message
from outreach.consent_requests import send_consent_request
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db

BOXES = ["data_processing", "service_sms", "service_email", "marketing_sms", "marketing_email", "personalised"]


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://salon.example.com"


@pytest.fixture
def giulia(salon):
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=50)
    client = ClientFactory(salon=salon, first_name="Giulia", phone="+393331234567", email="giulia@example.com",
                           language="it")
    AppointmentFactory(client=client)  # a relationship: the request is service, not marketing
    return client


def request_link(giulia, django_capture_on_commit_callbacks, channel="sms"):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_consent_request(client=giulia, channel=channel)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT, message.reason
    assert "https://salon.example.com/c/**********************/" in message.body  # stored without the token
    received = locmem.outbox[-1].body if channel == "sms" else mail.outbox[-1].body  # what the client got
    return re.search(r"https://salon\.example\.com(/c/[A-Za-z0-9_-]{22}/)", received).group(1)


def form_data(page, **ticked):
    shown = re.search(r'name="shown" value="([^"]+)"', page).group(1)
    return {"shown": shown, **{name: "on" for name, on in ticked.items() if on}}


def checked_boxes(page):
    return sorted(re.findall(r'name="(\w+)" id="[^"]+" aria-describedby="[^"]+" checked', page))


def test_the_request_sms_names_the_salon_and_carries_a_short_link(giulia, django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    [sms] = locmem.outbox
    assert sms.body.startswith("Salone Aurora:")
    assert path in sms.body
    message = Message.objects.get(kind="consent_request")
    assert message.segments == 1
    assert message.encoding == "gsm7"
    assert account_for(giulia.salon).balance == 49
    giulia.refresh_from_db()
    assert giulia.consent_requested_at is not None  # the cooldown starts with the request that went out
    link = ConsentLink.objects.get()
    assert path.split("/")[2] not in link.token_hash  # only the hash is stored


def test_a_second_request_within_the_cooldown_is_blocked_and_its_link_revoked(giulia,
                                                                             django_capture_on_commit_callbacks):
    request_link(giulia, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        second = send_consent_request(client=giulia, channel="sms")
    assert second.status == Message.Status.BLOCKED
    assert second.reason == "cooldown"
    assert len(locmem.outbox) == 1
    assert account_for(giulia.salon).balance == 49
    assert ConsentLink.objects.filter(revoked_at__isnull=False).count() == 1


def test_first_visit_shows_every_purpose_with_nothing_ticked(client, giulia, django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    page = client.get(path).text
    assert "Salone Aurora" in page
    assert "Trattamento dei dati" in page  # Italian wording for an Italian client
    assert checked_boxes(page) == []
    for name in BOXES:
        assert f'name="{name}"' in page
        assert re.search(rf'<label for="id_{name}">[^<]+</label>', page), name  # every box has a label


def test_submission_writes_entries_with_evidence_and_sends_a_receipt(client, giulia,
                                                                      django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    page = client.get(path).text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, form_data(page, data_processing=True, marketing_email=True),
                               HTTP_USER_AGENT="Mozilla/5.0 (iPhone)", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    states = {(s.purpose, s.channel): s.action for s in ConsentState.objects.filter(client=giulia)}
    assert states[("data_processing", "")] == "granted"
    assert states[("marketing", "email")] == "granted"
    assert states[("marketing", "sms")] == "withdrawn"  # seen and left unticked: an explicit refusal
    events = ConsentEvent.objects.filter(client=giulia)
    assert events.count() == 6
    assert {e.source for e in events} == {Source.FORM_LINK}
    assert {(e.ip, e.user_agent) for e in events} == {("203.0.113.9", "Mozilla/5.0 (iPhone)")}
    assert all(e.wording.language == "it" for e in events)
    assert all(e.wording_sha256 == e.wording.sha256 for e in events)
    # The receipt goes by email (there is an address) and lists the choices.
    receipt = Message.objects.get(kind="consent_receipt")
    assert receipt.channel == "email"
    assert receipt.status == Message.Status.SENT
    [email] = mail.outbox
    assert email.to == ["giulia@example.com"]
    assert "Giulia" in email.body
    assert email.body.count("\n- ") == 6  # every current choice, each with its date
    # Revisiting shows the current choices.
    assert checked_boxes(client.get(path).text) == ["data_processing", "marketing_email"]


def test_resubmitting_the_same_choices_writes_nothing_and_sends_no_receipt(client, giulia,
                                                                           django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    page = client.get(path).text
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, form_data(page, data_processing=True))
        client.post(path, form_data(client.get(path).text, data_processing=True))
    assert ConsentEvent.objects.filter(client=giulia).count() == 6
    assert Message.objects.filter(kind="consent_receipt").count() == 1


def test_withdraw_everything(client, giulia, django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, form_data(client.get(path).text, data_processing=True, service_sms=True,
                                    marketing_sms=True))
        client.post(path, {**form_data(client.get(path).text, data_processing=True), "withdraw_all": "1"})
    assert set(ConsentState.objects.filter(client=giulia).values_list("action", flat=True)) == {"withdrawn"}


def test_marketing_without_data_processing_is_explained_not_silent(client, giulia,
                                                                   django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    client.post(path, form_data(client.get(path).text, marketing_email=True))
    page = client.get(path + "?lang=en").text
    assert "only reach you once you also accept data processing" in page


def test_a_tampered_wording_list_is_refused_and_writes_nothing(client, giulia, django_capture_on_commit_callbacks):
    path = request_link(giulia, django_capture_on_commit_callbacks)
    response = client.post(path + "?lang=en", {"shown": "forged", "data_processing": "on"})
    assert response.status_code == 400
    assert "changed on the way" in response.text
    assert not ConsentEvent.objects.filter(client=giulia).exists()


@pytest.mark.parametrize("token", ["AAAAAAAAAAAAAAAAAAAAAA", "short", "x" * 64])
def test_unknown_tokens_get_a_clear_404_page_revealing_nothing(client, giulia, token):
    response = client.get(f"/c/{token}/")
    assert response.status_code == 404
    assert "This link does not work" in response.text
    assert "Giulia" not in response.text


def test_expired_and_revoked_links_get_a_410_page(client, giulia):
    expired, expired_token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    ConsentLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    ConsentLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    for token in (expired_token, revoked_token):
        response = client.get(f"/c/{token}/")
        assert response.status_code == 410
        assert "expired" in response.text
        assert "Giulia" not in response.text
        assert client.post(f"/c/{token}/", {"data_processing": "on"}).status_code == 410
    assert not ConsentEvent.objects.exists()


def test_the_invalid_link_page_is_localised(client, db):
    response = client.get("/c/AAAAAAAAAAAAAAAAAAAAAA/", HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 404
    assert 'lang="it"' in response.text


def test_a_link_works_only_for_its_own_client(client, giulia, salon, wording):
    other = ClientFactory(salon=salon, first_name="Marta")
    _link, token = new_link(client=other, kind=ConsentLink.Kind.REQUEST)
    page = client.get(f"/c/{token}/").text
    client.post(f"/c/{token}/", form_data(page, data_processing=True))
    assert not ConsentEvent.objects.filter(client=giulia).exists()
    assert ConsentEvent.objects.filter(client=other, purpose="data_processing", action="granted").exists()


def test_posts_are_rate_limited_per_token(client, giulia):
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    page = client.get(f"/c/{token}/").text
    statuses = [client.post(f"/c/{token}/", form_data(page)).status_code for _ in range(12)]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]


def test_csrf_is_required_on_the_form(giulia):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    response = strict.post(f"/c/{token}/", {"data_processing": "on"})
    assert response.status_code == 403
    assert "Please reload the page" in response.text
    assert not ConsentEvent.objects.exists()


def test_downloads_and_erasure_request(client, giulia):
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    client.post(f"/c/{token}/", form_data(client.get(f"/c/{token}/").text, data_processing=True))
    receipt = client.get(f"/c/{token}/receipt.json")
    assert receipt["Content-Disposition"].startswith("attachment")
    assert receipt.json()["version"] == "KI-CR-v1.1.0"
    data = client.get(f"/c/{token}/data.json").json()
    assert data["client"]["email"] == "giulia@example.com"
    assert len(data["consent_register"]) == 6
    response = client.post(f"/c/{token}/erase/")
    assert response.status_code == 200
    request = ErasureRequest.objects.get(client=giulia)
    assert request.status == "pending"
    assert request.due_at > timezone.now() + timedelta(days=27)
    client.post(f"/c/{token}/erase/")
    assert ErasureRequest.objects.filter(client=giulia).count() == 1


def test_one_click_unsubscribe_withdraws_marketing_email(client, giulia, wording):
    grant(client=giulia, purpose="marketing", channel="email", wording=wording(giulia.salon, "marketing", "it"),
          source=Source.FORM_LINK)
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.PREFERENCES)
    assert client.get(f"/u/{token}/").status_code == 200
    assert ConsentState.objects.get(client=giulia, purpose="marketing").action == "granted"  # GET changes nothing
    response = client.post(f"/u/{token}/", {"List-Unsubscribe": "One-Click"})  # no CSRF token, no cookie
    assert response.status_code == 200
    state = ConsentState.objects.get(client=giulia, purpose="marketing", channel="email")
    assert state.action == "withdrawn"
    assert state.event.source == Source.EMAIL_UNSUBSCRIBE


def test_marketing_email_carries_list_unsubscribe_and_a_preference_link(giulia, wording,
                                                                        django_capture_on_commit_callbacks):
    from core.vocabulary import MessageKind
    from messaging.services import enqueue_message

    for purpose, channel in [("data_processing", ""), ("marketing", "email")]:
        grant(client=giulia, purpose=purpose, channel=channel, wording=wording(giulia.salon, purpose, "it"),
              source=Source.FORM_LINK)
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_message(client=giulia, kind=MessageKind.MARKETING, channel="email", dedupe_key="promo:1",
                                  context={"text": "Promo", "subject": "Novembre"})
    [email] = mail.outbox
    unsubscribe = re.fullmatch(r"<(https://salon\.example\.com/u/[A-Za-z0-9_-]{22}/)>",
                               email.extra_headers["List-Unsubscribe"]).group(1)
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://salon.example.com/c/" in email.body
    # The outbox keeps the header with the token redacted; the provider got the real one.
    assert message.headers["List-Unsubscribe"] == "<https://salon.example.com/u/**********************/>"
    assert client_get_ok(unsubscribe)


def client_get_ok(url):
    from django.test import Client as Browser

    return Browser().get(url.removeprefix("https://salon.example.com")).status_code == 200


def test_the_form_page_takes_a_constant_handful_of_queries(client, giulia, wording, django_assert_max_num_queries):
    for purpose, channel in [("data_processing", ""), ("service", "sms"), ("marketing", "email")]:
        grant(client=giulia, purpose=purpose, channel=channel, wording=wording(giulia.salon, purpose, "it"),
              source=Source.FORM_LINK)
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    with django_assert_max_num_queries(3):  # the link with its client and salon, the wordings, the choices
        assert client.get(f"/c/{token}/").status_code == 200


def test_behind_the_proxy_the_evidence_keeps_the_address_the_proxy_saw(client, giulia, settings):
    settings.BEHIND_PROXY = True
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    page = client.get(f"/c/{token}/").text
    client.post(f"/c/{token}/", form_data(page, data_processing=True), REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.5")  # the left part is the client's own claim
    assert set(ConsentEvent.objects.filter(client=giulia).values_list("ip", flat=True)) == {"203.0.113.5"}


def test_outside_a_relationship_only_an_explicit_repermission_campaign_may_ask(salon,
                                                                             django_capture_on_commit_callbacks):
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=10)
    stranger = ClientFactory(salon=salon)  # no appointment, no grant
    with django_capture_on_commit_callbacks(execute=True):
        refused = send_consent_request(client=stranger, channel="sms")
        allowed = send_consent_request(client=stranger, channel="sms", repermission_outreach=True)
    assert refused.status == Message.Status.BLOCKED
    assert refused.reason == "no_relationship"
    allowed.refresh_from_db()
    assert allowed.status == Message.Status.SENT
    assert allowed.reason == "repermission_outreach"
