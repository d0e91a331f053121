"""The consent form in a real browser: a salon client opens the SMS link on a phone, ticks, saves, withdraws.

Playwright (sync API) drives Debian's Chromium headless against pytest-django's live server; every step
leaves a screenshot in test-artifacts/consent-form/ for a human to look at.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Locator, Page, expect

from consents.links import new_link
from consents.models import ConsentEvent, ConsentLink, ConsentState, Source
from consents.selectors import current_wording
from messaging.backends import locmem
from messaging.models import Message
from outreach.consent_requests import send_consent_request
from outreach.credits import top_up
from tests.browser import CHROMIUM, SMALL_PHONE
from tests.factories import AppointmentFactory, ClientFactory, SalonFactory

SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "consent-form"
BOXES = ["data_processing", "service_sms", "service_email", "marketing_sms", "marketing_email", "personalised"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Debian's Chromium at {CHROMIUM} "
                                                     "(apt-get install chromium; .ci/run installs it)"),
    # serialized_rollback: the shipped wordings come from a data migration, and the flush after each
    # transactional test would otherwise leave the later tests without them.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()  # the form's rate limit counts POSTs per IP, and every test here comes from 127.0.0.1


@pytest.fixture
def giulia():
    """An Italian client with an upcoming appointment, at a salon that can send SMS."""
    salon = SalonFactory(name="Salone Aurora", slug="aurora", sms_sender_id="Aurora")
    top_up(salon=salon, amount=50)
    client = ClientFactory(salon=salon, first_name="Giulia", phone="+393331234567", email="giulia@example.com",
                           language="it")
    AppointmentFactory(client=client)  # a relationship: the request is a service message
    return client


def sms_link(client, live_server) -> str:
    """Staff send the privacy authorisation request by SMS; the link the client receives."""
    message = send_consent_request(client=client, channel="sms")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT, message.reason
    [sms] = locmem.outbox
    return re.search(rf"{re.escape(live_server.url)}/c/[A-Za-z0-9_-]{{22}}/", sms.body).group(0)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def box(page: Page, client, purpose: str, channel_label: str) -> Locator:
    """A box as the client finds it: in the purpose's group (legend: the wording's title), by its label."""
    title = current_wording(salon=client.salon, purpose=purpose, language=client.language).title
    return page.get_by_role("group", name=title, exact=True).get_by_label(in_language(client.language, channel_label))


def in_language(language: str, text: str) -> str:
    """A UI text as the page must show it in a language; the catalogue must really translate it."""
    with translation.override(language):
        translated = gettext(text)
    assert translated != text, f"no {language} translation for {text!r}"
    return translated


def checked_boxes(page: Page) -> list[str]:
    return sorted(page.locator("input[type=checkbox]:checked").evaluate_all("boxes => boxes.map(b => b.name)"))


def tick_and_save(page: Page, client, *labels: tuple[str, str]) -> None:
    for purpose, channel_label in labels:
        box(page, client, purpose, channel_label).check()
    page.get_by_role("button", name=in_language(client.language, "Save my choices")).click()
    page.wait_for_url(re.compile(r"[?&]saved=1"))


def states(client) -> dict[tuple[str, str], str]:
    return {(s.purpose, s.channel): s.action for s in ConsentState.objects.filter(client=client)}


def test_a_client_ticks_two_boxes_from_the_sms_link_and_gets_a_receipt(open_page, live_server, giulia):
    page = open_page(sms_link(giulia, live_server))
    expect(page.locator("input[type=checkbox]")).to_have_count(len(BOXES))
    assert checked_boxes(page) == []  # nothing is ticked for the client
    screenshot(page, "01-first-visit-it-390")

    tick_and_save(page, giulia, ("data_processing", "I agree"), ("marketing", "By email"))

    saved = in_language("it", "Thank you: your choices are saved. A receipt is on its way.")
    expect(page.get_by_role("status").filter(has_text=saved)).to_be_visible()
    screenshot(page, "02-saved-it-390")
    assert states(giulia) == {
        ("data_processing", ""): "granted", ("marketing", "email"): "granted",
        ("service", "sms"): "withdrawn", ("service", "email"): "withdrawn", ("marketing", "sms"): "withdrawn",
        ("personalised", ""): "withdrawn",
    }
    user_agent = page.evaluate("navigator.userAgent")
    assert "Chrome/" in user_agent
    events = list(ConsentEvent.objects.filter(client=giulia).select_related("wording"))
    assert len(events) == len(BOXES)
    for event in events:
        shown = current_wording(salon=giulia.salon, purpose=event.purpose, language="it")
        assert event.source == Source.FORM_LINK
        assert (event.wording_id, event.wording.version, event.wording_sha256) == (shown.pk, shown.version,
                                                                                   shown.sha256)
        assert (event.ip, event.user_agent) == ("127.0.0.1", user_agent)
    receipt = Message.objects.get(client=giulia, kind="consent_receipt")
    assert (receipt.channel, receipt.status) == ("email", Message.Status.SENT)
    [email] = mail.outbox
    assert email.to == ["giulia@example.com"]
    assert "Giulia" in email.body


def test_revisiting_the_link_shows_the_choices_and_withdraw_everything_clears_them(open_page, live_server, giulia):
    url = sms_link(giulia, live_server)
    tick_and_save(open_page(url), giulia, ("data_processing", "I agree"), ("marketing", "By email"))

    page = open_page(url)
    assert checked_boxes(page) == ["data_processing", "marketing_email"]
    screenshot(page, "03-revisit-it-390")
    page.get_by_role("button", name=in_language("it", "Withdraw everything")).click()
    page.wait_for_url(re.compile(r"[?&]saved=withdrawn"))

    assert checked_boxes(page) == []
    withdrawn = in_language("it", "You withdrew all your consents. A receipt is on its way.")
    expect(page.get_by_role("status").filter(has_text=withdrawn)).to_be_visible()
    # Nothing is granted any more: no "withdraw everything" button to press again.
    expect(page.get_by_role("button", name=in_language("it", "Withdraw everything"))).to_have_count(0)
    assert set(states(giulia).values()) == {"withdrawn"}
    assert ConsentEvent.objects.filter(client=giulia, action="withdrawn", source=Source.FORM_LINK).count() == 6
    screenshot(page, "04-withdrawn-everything-it-390")
    # The banner promises a receipt: the withdrawal gets one too, after the first choices' one.
    assert Message.objects.filter(client=giulia, kind="consent_receipt", status=Message.Status.SENT).count() == 2


def test_the_form_speaks_the_clients_language_and_switches_to_finnish(open_page, live_server, giulia):
    page = open_page(sms_link(giulia, live_server))
    expect(page.locator("html")).to_have_attribute("lang", "it")
    italian = current_wording(salon=giulia.salon, purpose="data_processing", language="it")
    expect(page.get_by_role("group", name=italian.title, exact=True)).to_be_visible()
    expect(page.get_by_text(italian.text)).to_be_visible()
    screenshot(page, "05-italian-390")

    page.get_by_role("link", name="suomi").click()
    page.wait_for_url(re.compile(r"[?&]lang=fi"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    finnish = current_wording(salon=giulia.salon, purpose="data_processing", language="fi")
    expect(page.get_by_role("group", name=finnish.title, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=in_language("fi", "Save my choices"))).to_be_visible()
    screenshot(page, "06-finnish-390")

    # Finnish has the longest words: at 360 px nothing may stick out sideways.
    page.set_viewport_size(SMALL_PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    screenshot(page, "07-finnish-360")


def test_the_form_works_with_the_keyboard_alone(open_page, live_server, giulia):
    page = open_page(sms_link(giulia, live_server))
    save = in_language("it", "Save my choices")

    def tab_to(description: str, reached) -> None:
        for _ in range(20):
            page.keyboard.press("Tab")
            if reached(page.evaluate("() => { const el = document.activeElement; "
                                     "return {id: el.id, tag: el.tagName, text: el.textContent.trim()}; }")):
                return
        pytest.fail(f"Tab never reached {description}")

    tab_to("the data-processing box", lambda el: el["id"] == "id_data_processing")
    page.keyboard.press("Space")
    expect(page.locator("#id_data_processing")).to_be_checked()
    screenshot(page, "08-keyboard-focus-on-box")
    tab_to("the save button", lambda el: el["tag"] == "BUTTON" and el["text"] == save)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"[?&]saved=1"))

    assert states(giulia)[("data_processing", "")] == "granted"
    event = ConsentEvent.objects.get(client=giulia, purpose="data_processing")
    assert (event.action, event.source) == ("granted", Source.FORM_LINK)


def test_an_expired_link_shows_a_localised_410_page(open_page, live_server, giulia):
    link, token = new_link(client=giulia, kind=ConsentLink.Kind.REQUEST)
    ConsentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    page = open_page(f"{live_server.url}/c/{token}/", locale="it-IT", expected_status=410)

    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text(in_language("it", "This link has expired"))
    assert "Giulia" not in page.content()
    assert not page.locator("form").count()
    screenshot(page, "09-expired-link-it-410")
