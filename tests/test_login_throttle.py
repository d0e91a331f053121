"""Login attempts on the admin are throttled by django-axes: per username and IP address."""

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCKED_OUT = "Too many failed logins. Try again in 15 minutes or ask the salon owner."


@pytest.fixture
def receptionist(db):
    return UserFactory(username="giulia", password="right-password")


def log_in(client, username, password, **extra):
    return client.post(reverse("admin:login"), {"username": username, "password": password,
                                                "next": reverse("admin:index")}, **extra)


def fail(client, username, times, **extra):
    for _ in range(times):
        log_in(client, username, "wrong-password", **extra)


def test_five_wrong_passwords_lock_the_login_even_with_the_right_password(client, receptionist):
    for _ in range(4):
        page = log_in(client, "giulia", "wrong-password")
        assert page.status_code == 200
        assert "Please enter the correct username and password" in page.text
    log_in(client, "giulia", "wrong-password")

    sixth = log_in(client, "giulia", "right-password")

    assert sixth.status_code == 429
    assert LOCKED_OUT in sixth.text
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="giulia", ip_address="127.0.0.1")
    assert attempt.failures_since_start >= 5
    assert client.get(reverse("admin:index")).status_code == 302  # still sent to the login page


def test_a_correct_login_before_the_limit_resets_the_count(client, receptionist):
    fail(client, "giulia", 4)
    assert log_in(client, "giulia", "right-password").status_code == 302
    client.logout()

    fail(client, "giulia", 4)
    assert log_in(client, "giulia", "right-password").status_code == 302
    assert client.session["_auth_user_id"] == str(receptionist.pk)


def test_another_user_on_the_same_address_is_not_locked(client, receptionist):
    UserFactory(username="marco", password="marco-password")
    fail(client, "giulia", 5)
    assert log_in(client, "giulia", "right-password").status_code == 429

    assert log_in(client, "marco", "marco-password").status_code == 302


def test_the_same_user_on_another_address_is_not_locked(client, receptionist):
    fail(client, "giulia", 5, REMOTE_ADDR="198.51.100.66")
    assert log_in(client, "giulia", "right-password", REMOTE_ADDR="198.51.100.66").status_code == 429

    assert log_in(client, "giulia", "right-password", REMOTE_ADDR="192.0.2.10").status_code == 302


@override_settings(AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
                   AXES_IPWARE_PROXY_COUNT=0, IPWARE_STRICT=False)
def test_behind_the_proxy_a_forged_forwarded_for_header_does_not_escape_the_lockout(client, receptionist):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(5):  # the guesser invents a new "client" each time; the proxy appends the real one
        log_in(client, "giulia", "wrong-password", HTTP_X_FORWARDED_FOR=f"8.8.{n}.{n}, 81.2.69.160", **proxy)

    refused = log_in(client, "giulia", "right-password", HTTP_X_FORWARDED_FOR="9.9.9.9, 81.2.69.160", **proxy)
    assert refused.status_code == 429
    assert AccessAttempt.objects.filter(username="giulia", ip_address="81.2.69.160").exists()
    # The real receptionist, through the same proxy from the salon's own address, is not locked.
    assert log_in(client, "giulia", "right-password", HTTP_X_FORWARDED_FOR="151.101.1.69", **proxy).status_code == 302
