"""The Twilio backend drives the real twilio library against FakeTwilio on 127.0.0.1."""

import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging.backends import OutgoingSMS, ProviderError, get_sms_backend
from messaging.backends.twilio import TwilioSMSBackend
from tests.fakes import NonLoopbackConnection

STATUS_URL = "https://salons.example.com/messaging/twilio/status/"


def sms(to="+393331234567", body="Ciao Giulia, a domani alle 10 da Salone Aurora.", **kwargs):
    return OutgoingSMS(message_id=42, to=to, body=body, **kwargs)


def test_sms_is_posted_with_to_body_sender_and_status_callback(fake_twilio):
    body = "Ciao Giulia 💇 conferma l'appuntamento: rispondi SI"
    result = get_sms_backend().send(sms(body=body, sender="Aurora", status_callback=STATUS_URL))

    (request,) = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form == {"To": "+393331234567", "Body": body, "From": "Aurora", "StatusCallback": STATUS_URL}
    assert result.provider_id == fake_twilio.messages[0]["sid"]
    assert result.provider_id.startswith("SM")


def test_messaging_service_picks_the_sender_and_no_callback_is_posted_when_empty(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "ab" * 16

    result = TwilioSMSBackend().send(sms(sender="Aurora"))

    (request,) = fake_twilio.requests
    assert request.form == {
        "To": "+393331234567",
        "Body": "Ciao Giulia, a domani alle 10 da Salone Aurora.",
        "MessagingServiceSid": settings.TWILIO_MESSAGING_SERVICE_SID,
    }
    assert result.provider_id == fake_twilio.messages[0]["sid"]


def test_one_backend_sends_several_sms_with_one_client(fake_twilio):
    backend = TwilioSMSBackend()
    first = backend.send(sms(to="+393331111111", sender="Aurora"))
    second = backend.send(sms(to="+393332222222", sender="Aurora"))

    assert [r.form["To"] for r in fake_twilio.requests] == ["+393331111111", "+393332222222"]
    assert [first.provider_id, second.provider_id] == [m["sid"] for m in fake_twilio.messages]


@pytest.mark.parametrize(
    ("to", "code", "text"),
    [
        ("+15005550001", "21211", "The 'To' number +15005550001 is not a valid phone number."),
        ("+15005550009", "21614", "'To' number is not a valid mobile number"),
    ],
)
def test_invalid_or_landline_number_is_a_permanent_error(fake_twilio, to, code, text):
    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms(to=to, sender="Aurora"))

    error = caught.value
    assert (error.code, error.permanent, error.opted_out) == (code, True, False)
    assert error.text == text
    assert fake_twilio.messages == []


def test_recipient_who_replied_stop_is_permanent_and_opted_out(fake_twilio):
    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms(to="+15005550004", sender="Aurora"))

    error = caught.value
    assert (error.code, error.permanent, error.opted_out) == ("21610", True, True)
    assert error.text == "Attempt to send to unsubscribed recipient"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_and_server_errors_are_retried(fake_twilio, status):
    fake_twilio.fail_next(status)

    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms(sender="Aurora"))

    assert caught.value.permanent is False
    assert caught.value.code == f"20{status}"
    assert len(fake_twilio.requests) == 1


def test_the_next_send_after_a_server_error_goes_through(fake_twilio):
    fake_twilio.fail_next(503)
    backend = TwilioSMSBackend()
    with pytest.raises(ProviderError):
        backend.send(sms(sender="Aurora"))

    assert backend.send(sms(sender="Aurora")).provider_id == fake_twilio.messages[0]["sid"]


def test_wrong_credentials_are_a_permanent_error(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms(sender="Aurora"))

    assert (caught.value.code, caught.value.permanent) == ("20003", True)
    assert caught.value.text == "Authenticate"


def test_missing_sender_without_messaging_service_is_refused_permanently(fake_twilio):
    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms())

    assert "From" not in fake_twilio.requests[0].form
    assert (caught.value.code, caught.value.permanent) == ("21603", True)


def test_silent_provider_is_an_ambiguous_timeout_not_a_blind_retry(fake_twilio, settings):
    settings.TWILIO_TIMEOUT = 1
    fake_twilio.hang = True

    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms(sender="Aurora"))
    waited = time.monotonic() - started

    assert (caught.value.code, caught.value.permanent, caught.value.ambiguous) == ("timeout", False, True)
    assert len(fake_twilio.requests) == 1
    # The fake would hold the request for 30 s: giving up after ~1 s shows TWILIO_TIMEOUT is applied.
    assert waited < fake_twilio.hang_seconds / 3


def test_unreachable_provider_is_a_transient_network_error(fake_twilio, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(ProviderError) as caught:
        TwilioSMSBackend().send(sms(sender="Aurora"))

    assert (caught.value.code, caught.value.permanent) == ("network", False)


def test_without_a_base_url_the_library_targets_api_twilio_com_which_tests_may_not_reach(
    loopback_only,
    settings,
):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_API_BASE_URL = ""

    with pytest.raises(NonLoopbackConnection, match=r"api\.twilio\.com"):
        TwilioSMSBackend().send(sms(sender="Aurora"))


def test_missing_credentials_are_a_configuration_error(settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(ImproperlyConfigured):
        TwilioSMSBackend()
