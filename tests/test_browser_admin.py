"""The staff admin in a real browser: the demo receptionist sees today's red warnings and sends a request."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from desk.demo import DEMO_LOGINS, seed_demo
from messaging.backends import locmem
from messaging.models import Message
from tests.browser import CHROMIUM

SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "admin"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Debian's Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_receptionist_sends_a_privacy_authorisation_from_todays_agenda(browser, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    seed_demo()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        username, password = DEMO_LOGINS["staff"]
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        expect(page.get_by_text("Credits: 500")).to_be_visible()  # the balance on every admin page
        shot(page, "01-dashboard")

        page.goto(f"{live_server.url}/admin/appointments/appointment/agenda/")
        warnings = page.get_by_text("No consent to data processing")
        assert warnings.count() >= 1
        shot(page, "02-agenda-with-warnings")

        page.get_by_role("link", name="Send privacy authorisation").first.click()
        expect(page.get_by_text("1 request will be sent.")).to_be_visible()
        expect(page.get_by_text("Balance: 500 credits")).to_be_visible()
        shot(page, "03-confirm-cost")

        page.get_by_role("button", name="Send 1 request").click()
        expect(page.get_by_text("1 privacy authorisation request queued.")).to_be_visible()
        shot(page, "04-outbox")

        message = Message.objects.get(kind="consent_request")
        assert message.status == Message.Status.SENT
        assert [sms.message_id for sms in locmem.outbox] == [message.pk]
        expect(page.locator("#result_list")).to_contain_text("Privacy authorisation request")
    finally:
        context.close()
