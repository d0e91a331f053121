"""send_email through Django's locmem backend and through anymail's real Postmark backend against FakePostmark."""

import socket
import time

import pytest
from django.core import mail

from messaging.backends import ProviderError
from messaging.email import OutgoingEmail, send_email

UNSUBSCRIBE_HEADERS = {
    "List-Unsubscribe": "<https://salons.example.com/u/abc123/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def email(to="giulia@example.com", **kwargs):
    return OutgoingEmail(
        message_id=7,
        to=to,
        subject="Your appointment tomorrow",
        body="Hello Giulia, see you tomorrow at 10.",
        headers=UNSUBSCRIBE_HEADERS,
        **kwargs,
    )


def test_locmem_backend_keeps_subject_body_and_unsubscribe_headers(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Salone Aurora <noreply@aurora.example.com>"

    result = send_email(email())

    (sent,) = mail.outbox
    assert sent.to == ["giulia@example.com"]
    assert sent.from_email == "Salone Aurora <noreply@aurora.example.com>"
    assert (sent.subject, sent.body) == ("Your appointment tomorrow", "Hello Giulia, see you tomorrow at 10.")
    rendered = sent.message()
    assert rendered["List-Unsubscribe"] == "<https://salons.example.com/u/abc123/>"
    assert rendered["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert result.provider_id == "email-7"


def test_explicit_sender_replaces_the_default(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    send_email(email(from_email="Salone Aurora <hello@aurora.example.com>"))

    assert mail.outbox[0].from_email == "Salone Aurora <hello@aurora.example.com>"


def test_postmark_receives_the_email_and_its_message_id_becomes_the_provider_id(fake_postmark, settings):
    settings.DEFAULT_FROM_EMAIL = "Salone Aurora <noreply@aurora.example.com>"

    result = send_email(email())

    (request,) = fake_postmark.requests
    assert (request.method, request.path) == ("POST", "/email")
    assert request.headers["X-Postmark-Server-Token"] == fake_postmark.server_token
    assert request.json["To"] == "giulia@example.com"
    assert request.json["From"] == "Salone Aurora <noreply@aurora.example.com>"
    assert request.json["Subject"] == "Your appointment tomorrow"
    assert request.json["TextBody"] == "Hello Giulia, see you tomorrow at 10."
    assert {header["Name"]: header["Value"] for header in request.json["Headers"]} == UNSUBSCRIBE_HEADERS
    assert result.provider_id == fake_postmark.message_ids[0]


def test_inactive_recipient_is_a_permanent_rejection(fake_postmark):
    fake_postmark.inactive.add("giulia@example.com")

    with pytest.raises(ProviderError) as caught:
        send_email(email(to="Giulia <Giulia@example.com>"))

    assert (caught.value.code, caught.value.permanent) == ("rejected", True)
    assert "marked as inactive" in caught.value.text
    assert len(fake_postmark.requests) == 1


def test_inactive_recipient_is_rejected_even_when_anymail_ignores_recipient_status(fake_postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "IGNORE_RECIPIENT_STATUS": True}
    fake_postmark.fail_next(
        422,
        406,
        "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: "
        "giulia@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, "
        "or a manual suppression. ",
    )

    with pytest.raises(ProviderError) as caught:
        send_email(email())

    assert (caught.value.code, caught.value.permanent) == ("rejected", True)


def test_address_the_provider_calls_invalid_is_a_permanent_error(fake_postmark):
    fake_postmark.fail_next(422, 300, "Invalid 'To' address: 'giulia@example.com'.")

    with pytest.raises(ProviderError) as caught:
        send_email(email())

    assert (caught.value.code, caught.value.permanent) == ("invalid", True)


def test_unparseable_address_is_a_permanent_error_and_nothing_is_posted(fake_postmark):
    with pytest.raises(ProviderError) as caught:
        send_email(email(to="giulia@@example..com, <broken"))

    assert (caught.value.code, caught.value.permanent) == ("invalid", True)
    assert fake_postmark.requests == []


@pytest.mark.parametrize(
    ("status", "error_code", "message", "permanent"),
    [
        (500, 0, "Internal Server Error", False),
        (503, 0, "Service Unavailable", False),
        (429, 429, "Rate limit exceeded", False),
        (422, 300, "Invalid 'From' address: 'noreply@localhost'.", True),
        (401, 10, "The Server Token you provided was invalid.", True),
    ],
)
def test_server_errors_and_rate_limits_are_retried_other_refusals_are_not(
    fake_postmark,
    status,
    error_code,
    message,
    permanent,
):
    fake_postmark.fail_next(status, error_code, message)

    with pytest.raises(ProviderError) as caught:
        send_email(email())

    assert (caught.value.code, caught.value.permanent) == (f"http-{status}", permanent)
    assert message in caught.value.text


def test_silent_provider_is_an_ambiguous_timeout_not_a_blind_retry(fake_postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.5}
    fake_postmark.hang = True

    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        send_email(email())
    waited = time.monotonic() - started

    assert (caught.value.code, caught.value.permanent, caught.value.ambiguous) == ("timeout", False, True)
    assert len(fake_postmark.requests) == 1
    # The fake would hold the request for 30 s: giving up well before shows REQUESTS_TIMEOUT is applied.
    assert waited < fake_postmark.hang_seconds / 3


def test_unreachable_provider_is_a_transient_network_error(fake_postmark, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": f"http://127.0.0.1:{port}/"}

    with pytest.raises(ProviderError) as caught:
        send_email(email())

    assert (caught.value.code, caught.value.permanent) == ("network", False)


def test_unreachable_smtp_server_is_a_transient_network_error(settings, loopback_only):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 1

    with pytest.raises(ProviderError) as caught:
        send_email(email())

    assert (caught.value.code, caught.value.permanent) == ("network", False)
