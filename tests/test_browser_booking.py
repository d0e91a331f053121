"""The public booking page in a real browser: a client books from a phone, consents only to what they tick,
cancels through the link in the SMS, in their language, with the keyboard alone, and inside the salon's site.

Playwright (sync API) drives Debian's Chromium headless against pytest-django's live server; every step
leaves a screenshot in test-artifacts/booking/ for a human to look at.
"""

import re
import threading
from datetime import date, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from appointments.models import Appointment
from booking.models import BookingSettings
from clients.models import Client
from consents.models import ConsentEvent, ConsentState, Source
from consents.selectors import current_wording
from core.links import REDACTED
from desk.admin.booking import embed_html
from messaging.backends import locmem
from messaging.models import Message
from outreach.credits import top_up
from salons.models import Membership
from tests.browser import CHROMIUM, SMALL_PHONE
from tests.factories import (
    BookingSettingsFactory,
    ClientFactory,
    MembershipFactory,
    OpeningHoursFactory,
    SalonFactory,
    ServiceFactory,
)
from tests.register_tools import withdraw

SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "booking"
ROME = ZoneInfo("Europe/Rome")
SERVICE_NAMES = {"it": "Taglio e piega", "en": "Cut & blow-dry", "fi": "Leikkaus ja föönaus"}
DONE_URL = re.compile(r"/b/aurora/booked/[^/]+/")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)",
    ),
    # serialized_rollback: the shipped wordings come from a data migration, and the flush after each
    # transactional test would otherwise leave the later tests without them.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # the booking form's rate limits count POSTs per IP and phone; every test comes from 127.0.0.1


@pytest.fixture
def salon():
    """A salon in Rome taking bookings online, open every day 09:00–18:00, with credits for SMS."""
    salon = SalonFactory(name="Salone Aurora", slug="aurora", sms_sender_id="Aurora")
    top_up(salon=salon, amount=50)
    BookingSettingsFactory(salon=salon, min_notice_minutes=30, slot_step_minutes=15)
    OpeningHoursFactory.every_day(salon=salon, opens=time(9), closes=time(18))
    return salon


@pytest.fixture
def marta(salon):
    return MembershipFactory(
        salon=salon, role=Membership.Role.OWNER, user__username="marta", user__first_name="Marta"
    ).user


@pytest.fixture
def luca(salon):
    return MembershipFactory(
        salon=salon, role=Membership.Role.STAFF, user__username="luca", user__first_name="Luca"
    ).user


@pytest.fixture
def cut(salon, marta, luca):
    """The service on offer, named in English, Italian and Finnish, performed by Marta and Luca."""
    return ServiceFactory(salon=salon, names=SERVICE_NAMES, duration_minutes=45, price_display="€35",
                          staff=[marta, luca])


def booking_day() -> date:
    """The day booked: the day after tomorrow in Rome, so every time is free and more than 24 hours away."""
    return timezone.now().astimezone(ROME).date() + timedelta(days=2)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)


def step_screenshot(page: Page, prefix: str, step: str) -> None:
    """A step of a booking flow; a flow already shot by another test passes no prefix (the module stays fast)."""
    if prefix:
        screenshot(page, f"{prefix}-{step}-390")


def in_language(language: str, text: str) -> str:
    """A UI text as the page must show it in a language; the catalogue must really translate it."""
    with translation.override(language):
        translated = gettext(text)
    assert translated != text, f"no {language} translation for {text!r}"
    return translated


def day_label(day: date, language: str = "en") -> str:
    with translation.override(language):
        return dateformat.format(day, "l j F")


def choose_service_and_time(page: Page, *, name: str, prefix: str = "", staff: str = "", at: str = "") -> None:
    """From the services page to the details form: the service, maybe a person, the day, a (given) time."""
    page.get_by_role("link", name=re.compile(re.escape(name))).click()
    expect(page.get_by_role("heading", name="Which day?")).to_be_visible()
    if staff:
        page.get_by_role("link", name=staff, exact=True).click()
        expect(page.get_by_role("link", name=staff, exact=True)).to_have_attribute("aria-current", "true")
    page.get_by_role("link", name=re.compile(rf"^{day_label(booking_day())}: \d+ free times?$")).click()
    expect(page.get_by_role("heading", name=f"Free times on {day_label(booking_day())}")).to_be_visible()
    step_screenshot(page, prefix, "2-times")
    times = page.get_by_role("list", name=f"Free times on {day_label(booking_day())}").get_by_role("link")
    (times.get_by_text(at, exact=True) if at else times.first).click()
    expect(page.get_by_role("button", name="Confirm the booking")).to_be_visible()


def fill_details(page: Page, *, first: str, last: str, phone: str, email: str = "") -> None:
    page.get_by_label("First name", exact=True).fill(first)
    page.get_by_label("Last name", exact=True).fill(last)
    page.get_by_label("Mobile phone", exact=True).fill(phone)
    if email:
        page.get_by_label("Email (optional)", exact=True).fill(email)


def box(page: Page, salon, purpose: str, channel_label: str, language: str = "en"):
    """A box as the client finds it: in the purpose's group (legend: the wording's title), by its label."""
    title = current_wording(salon=salon, purpose=purpose, language=language).title
    return page.get_by_role("group", name=title, exact=True).get_by_label(channel_label, exact=True)


def confirm(page: Page, prefix: str = "") -> None:
    step_screenshot(page, prefix, "3-details")
    page.get_by_role("button", name="Confirm the booking").click()
    page.wait_for_url(DONE_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is booked")
    step_screenshot(page, prefix, "4-done")


def book(
    page: Page,
    salon,
    *,
    prefix: str = "",
    first="Giulia",
    last="Bianchi",
    phone="333 123 4567",
    email="",
    ticks=(),
    staff="",
    at="",
) -> None:
    """The whole booking as a client does it, from the services page to the done page."""
    step_screenshot(page, prefix, "1-services")
    choose_service_and_time(page, name=SERVICE_NAMES["en"], prefix=prefix, staff=staff, at=at)
    fill_details(page, first=first, last=last, phone=phone, email=email)
    for purpose, channel_label in ticks:
        box(page, salon, purpose, channel_label).check()
    confirm(page, prefix)


def manage_link(live_server) -> str:
    """The manage link in the (last) SMS confirmation."""
    sms = locmem.outbox[-1]
    return re.search(rf"{re.escape(live_server.url)}/m/[A-Za-z0-9_-]{{22}}/", sms.body).group(0)


def states(client) -> dict[tuple[str, str], str]:
    return {(s.purpose, s.channel): s.action for s in ConsentState.objects.filter(client=client)}


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


# --- booking and consent -----------------------------------------------------------------------------------


def test_booking_with_nothing_ticked_books_confirms_by_sms_and_records_no_consent(
    open_page, live_server, salon, cut, luca
):
    page = open_page(f"{live_server.url}/b/aurora/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    screenshot(page, "01-1-services-390")

    choose_service_and_time(page, name=SERVICE_NAMES["en"], prefix="01", staff="Luca", at="10:00")
    expect(page.get_by_text("with Luca")).to_be_visible()
    expect(page.locator("input[type=checkbox]")).to_have_count(6)
    expect(page.locator("input[type=checkbox]:checked")).to_have_count(0)  # nothing is ticked for the client
    expect(page.get_by_text("Your booking does not depend on these choices.")).to_be_visible()
    fill_details(page, first="Giulia", last="Bianchi", phone="333 123 4567")
    confirm(page, "01")

    [appointment] = Appointment.objects.select_related("client")
    starts = appointment.starts_at.astimezone(ROME)
    assert (starts.date(), starts.time()) == (booking_day(), time(10))
    assert (appointment.source, appointment.status, appointment.staff_member) == ("online", "booked", luca)
    assert appointment.service == SERVICE_NAMES["en"]  # the client's language (chosen on the page)
    client = appointment.client
    assert (client.first_name, client.last_name, client.phone.as_e164) == ("Giulia", "Bianchi", "+393331234567")
    assert not ConsentEvent.objects.filter(client=client).exists()
    assert not ConsentState.objects.filter(client=client).exists()
    [confirmation] = Message.objects.filter(appointment=appointment, kind="appointment_confirmation")
    assert (confirmation.channel, confirmation.status) == ("sms", Message.Status.SENT), confirmation.reason
    [sms] = locmem.outbox
    assert sms.to == "+393331234567"
    assert "/m/" in sms.body
    # The outbox keeps the text with the link redacted: nobody at the salon can open the client's link.
    assert manage_link(live_server) not in confirmation.body
    assert confirmation.body == sms.body.replace(manage_link(live_server), f"{live_server.url}/m/{REDACTED}/")


def test_the_same_phone_written_otherwise_is_the_same_client_and_the_ticked_box_is_recorded(
    open_page, live_server, salon, cut
):
    book(open_page(f"{live_server.url}/b/aurora/"), salon, phone="333 123 4567")
    page = open_page(f"{live_server.url}/b/aurora/")
    book(
        page,
        salon,
        prefix="02",
        first="Giulia",
        phone="+39 333 123 4567",
        email="giulia@example.com",
        ticks=[("marketing", "By email")],
        at="11:00",
    )

    [client] = Client.objects.all()  # one client, matched by the phone number
    assert Appointment.objects.filter(client=client, source="online").count() == 2
    [event] = ConsentEvent.objects.filter(client=client).select_related("wording")
    shown = current_wording(salon=salon, purpose="marketing", language="en")
    assert (event.purpose, event.channel, event.action) == ("marketing", "email", "granted")
    assert event.source == Source.BOOKING_WIDGET
    assert (event.wording_id, event.wording_sha256) == (shown.pk, shown.sha256)
    user_agent = page.evaluate("navigator.userAgent")
    assert (event.ip, event.user_agent) == ("127.0.0.1", user_agent)
    assert "Chrome/" in user_agent
    assert states(client) == {("marketing", "email"): "granted"}


def test_a_client_who_withdrew_marketing_stays_withdrawn_when_booking_without_ticking_it(
    open_page, live_server, salon, cut
):
    known = ClientFactory(
        salon=salon, first_name="Giulia", phone="+393331234567", email="giulia@example.com", language="en"
    )
    for channel in ("sms", "email"):
        withdraw(client=known, purpose="marketing", channel=channel, source=Source.FORM_LINK)
    before = set(ConsentEvent.objects.filter(client=known).values_list("pk", flat=True))

    page = open_page(f"{live_server.url}/b/aurora/")
    book(
        page,
        salon,
        prefix="03",
        phone="333 1234567",
        email="giulia@example.com",
        ticks=[("data_processing", "I agree")],
    )

    assert Client.objects.get() == known
    assert states(known) == {
        ("marketing", "sms"): "withdrawn",
        ("marketing", "email"): "withdrawn",
        ("data_processing", ""): "granted",
    }
    new = ConsentEvent.objects.filter(client=known).exclude(pk__in=before)
    assert list(new.values_list("purpose", "action", "source")) == [("data_processing", "granted", "booking_widget")]


# --- the manage link ---------------------------------------------------------------------------------------


def test_the_client_cancels_through_the_link_in_the_sms(open_page, live_server, salon, cut):
    book(open_page(f"{live_server.url}/b/aurora/"), salon)
    [appointment] = Appointment.objects.all()

    page = open_page(manage_link(live_server))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    expect(page.get_by_text(SERVICE_NAMES["en"])).to_be_visible()
    expect(page.get_by_role("button", name="Change my privacy choices")).to_be_visible()
    screenshot(page, "04-1-manage-390")
    page.get_by_role("button", name="Cancel the appointment").click()
    # One tap does not cancel: the page asks first, and nothing has changed yet.
    expect(page.get_by_role("alert")).to_contain_text("Cancel this appointment?")
    screenshot(page, "04-1b-confirm-cancel-390")
    assert Appointment.objects.get().status == "booked"
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    page.wait_for_url(re.compile(r"[?&]cancelled=1"))

    expect(page.get_by_role("status")).to_have_text(
        "Your appointment is cancelled. A cancellation notice is on its way."
    )
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the appointment")).to_have_count(0)
    screenshot(page, "04-2-cancelled-390")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "client")
    [notice] = Message.objects.filter(appointment=appointment, kind="appointment_cancellation")
    assert (notice.channel, notice.status) == ("sms", Message.Status.SENT), notice.reason
    assert len(locmem.outbox) == 2
    assert locmem.outbox[-1].to == "+393331234567"


# --- languages, keyboard, small screens ---------------------------------------------------------------------


@pytest.mark.parametrize(("language", "how"), [("it", "query"), ("fi", "browser")])
def test_the_booking_pages_are_translated(open_page, live_server, salon, cut, language, how):
    url = f"{live_server.url}/b/aurora/"
    if how == "query":
        page = open_page(f"{url}?lang={language}")
    else:  # no ?lang=: the phone's own language
        page = open_page(url, locale={"it": "it-IT", "fi": "fi-FI"}[language])
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(in_language(language, "Book an appointment"))
    expect(page.get_by_role("heading", name=in_language(language, "Choose a service"))).to_be_visible()
    screenshot(page, f"05-{language}-1-services-390")

    page.get_by_role("link", name=re.compile(re.escape(SERVICE_NAMES[language]))).click()
    expect(page.get_by_role("heading", name=in_language(language, "Which day?"))).to_be_visible()
    expect(page.get_by_role("heading", name=in_language(language, "With whom?"))).to_be_visible()
    screenshot(page, f"05-{language}-2-times-390")
    page.locator(".times a").first.click()

    expect(page.get_by_role("group", name=in_language(language, "Your details"))).to_be_visible()
    expect(page.get_by_role("heading", name=in_language(language, "Your privacy choices"))).to_be_visible()
    expect(
        page.get_by_text(
            in_language(
                language,
                "Your booking does not depend on these choices. Nothing is "
                "ticked for you: tick only what you want. You can change your "
                "mind at any time.",
            )
        )
    ).to_be_visible()
    wording = current_wording(salon=salon, purpose="marketing", language=language)
    assert wording.language == language
    expect(page.get_by_role("group", name=wording.title, exact=True)).to_be_visible()
    expect(page.get_by_label(in_language(language, "Language for your messages"))).to_have_value(language)
    screenshot(page, f"05-{language}-3-details-390")
    page.get_by_label(in_language(language, "First name"), exact=True).fill("Aino")
    page.get_by_label(in_language(language, "Last name"), exact=True).fill("Virtanen")
    page.get_by_label(in_language(language, "Mobile phone"), exact=True).fill("+39 333 123 4567")
    page.get_by_role("button", name=in_language(language, "Confirm the booking")).click()
    page.wait_for_url(DONE_URL)

    expect(page.get_by_role("heading", level=1)).to_have_text(in_language(language, "Your appointment is booked"))
    screenshot(page, f"05-{language}-4-done-390")
    [appointment] = Appointment.objects.select_related("client")
    assert (appointment.client.language, appointment.service) == (language, SERVICE_NAMES[language])
    [sms] = locmem.outbox
    with translation.override(language):
        assert gettext("Manage it: %(link)s").split("%")[0] in sms.body  # the confirmation in their language


def test_booking_with_the_keyboard_alone(open_page, live_server, salon, cut):
    page = open_page(f"{live_server.url}/b/aurora/")

    def focused() -> dict:
        return page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            return {tag: el.tagName, id: el.id, name: el.name || '', text: el.textContent.trim(),
                    visible: el.matches(':focus-visible') && style.outlineStyle !== 'none'
                             && parseFloat(style.outlineWidth) > 0};
        }""")

    def tab_to(description: str, reached, *, limit: int = 30) -> dict:
        for _ in range(limit):
            page.keyboard.press("Tab")
            element = focused()
            assert element["name"] != "website", "Tab reached the hidden honeypot field"
            if reached(element):
                assert element["visible"], f"no visible focus on {description}: {element}"
                return element
        pytest.fail(f"Tab never reached {description}")

    tab_to("the service", lambda el: el["tag"] == "A" and SERVICE_NAMES["en"] in el["text"])
    screenshot(page, "06-1-focus-on-service", full_page=False)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Which day?")).to_be_visible()

    tab_to("a time", lambda el: el["tag"] == "A" and re.fullmatch(r"\d\d:\d\d", el["text"]) is not None, limit=60)
    screenshot(page, "06-2-focus-on-time", full_page=False)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Confirm the booking")).to_be_visible()

    for field, text in [("first_name", "Giulia"), ("last_name", "Bianchi"), ("phone", "333 123 4567")]:
        tab_to(field, lambda el, field=field: el["name"] == field)
        page.keyboard.type(text)
    tab_to("the language", lambda el: el["name"] == "language", limit=3)
    tab_to("the data-processing box", lambda el: el["name"] == "data_processing", limit=2)
    page.keyboard.press("Space")
    expect(page.locator("#id_data_processing")).to_be_checked()
    screenshot(page, "06-3-focus-on-box", full_page=False)
    tab_to("the confirm button", lambda el: el["tag"] == "BUTTON" and el["text"] == "Confirm the booking")
    screenshot(page, "06-4-focus-on-confirm", full_page=False)
    page.keyboard.press("Enter")
    page.wait_for_url(DONE_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is booked")

    [appointment] = Appointment.objects.select_related("client")
    assert appointment.client.first_name == "Giulia"
    assert appointment.source == "online"
    assert states(appointment.client) == {("data_processing", ""): "granted"}


def test_no_page_scrolls_sideways_at_360_px(open_page, live_server, salon, cut):
    # Finnish has the longest words; English is checked on the way on the pages that differ most.
    page = open_page(f"{live_server.url}/b/aurora/?lang=en", viewport=SMALL_PHONE)
    assert no_sideways_scroll(page), "services page (en)"
    page.get_by_role("link", name=re.compile(re.escape(SERVICE_NAMES["en"]))).click()
    page.locator(".times a").first.wait_for()
    assert no_sideways_scroll(page), "times page (en)"
    screenshot(page, "07-en-1-times-360")

    page.get_by_role("link", name="suomi").click()
    page.wait_for_url(re.compile(r"[?&]lang=fi"))
    assert no_sideways_scroll(page), "times page"
    screenshot(page, "07-fi-1-times-360")
    page.locator(".times a").first.click()
    page.locator("button.primary").wait_for()
    assert no_sideways_scroll(page), "details page"
    page.locator("#id_phone").fill("12")  # no names, a phone too short: the errors are shown
    page.locator("button.primary").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#id_first_name")).to_have_attribute("aria-invalid", "true")
    assert no_sideways_scroll(page), "details page with errors"
    screenshot(page, "07-fi-2-errors-360")
    page.locator("#id_first_name").fill("Aino")
    page.locator("#id_last_name").fill("Virtanen-Korhonen")
    page.locator("button.primary").click()
    expect(page.locator("#id_phone-error")).to_be_visible()  # the phone is checked once the names are there
    assert no_sideways_scroll(page), "details page with the phone's error"
    screenshot(page, "07-fi-3-phone-error-360")
    page.locator("#id_phone").fill("333 123 4567")
    page.locator("button.primary").click()
    page.wait_for_url(DONE_URL)
    assert no_sideways_scroll(page), "done page"
    screenshot(page, "07-fi-4-done-360")
    page.goto(f"{manage_link(live_server)}?lang=fi")
    assert no_sideways_scroll(page), "manage page"
    screenshot(page, "07-fi-5-manage-360")


# --- what a hurried client does ------------------------------------------------------------------------------


def test_confirming_the_empty_form_says_what_is_missing(open_page, live_server, salon, cut):
    page = open_page(f"{live_server.url}/b/aurora/")
    choose_service_and_time(page, name=SERVICE_NAMES["en"])
    with page.expect_response(re.compile(r"/book/")) as answer:
        page.get_by_role("button", name="Confirm the booking").click()
    screenshot(page, "09-empty-form-390")
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Please check the highlighted fields.")
    for label in ("First name", "Last name", "Mobile phone"):
        expect(page.get_by_label(label, exact=True)).to_have_attribute("aria-invalid", "true")


# A second identical POST (a double tap on "Confirm", a resend after a slow answer) books once: with two
# performers free it would otherwise give the same client two appointments at the same time and two SMS.
def test_a_double_tap_on_confirm_books_once(open_page, live_server, salon, cut):
    page = open_page(f"{live_server.url}/b/aurora/")
    choose_service_and_time(page, name=SERVICE_NAMES["en"], at="10:00")
    fill_details(page, first="Giulia", last="Bianchi", phone="333 123 4567")
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.get_by_role("button", name="Confirm the booking").click()
    page.wait_for_url(DONE_URL)
    # The same form sent once more, as the browser sends it on a second tap before the first answer.
    request = posted.value
    again = page.request.post(
        request.url,
        data=request.post_data,
        max_redirects=0,
        headers={
            "Content-Type": request.headers["content-type"],
            "Origin": live_server.url,
        },
    )
    assert again.status in (302, 303, 400, 409), again.status

    assert Appointment.objects.count() == 1
    assert len(locmem.outbox) == 1


# --- embedded in the salon's own site ----------------------------------------------------------------------


@pytest.fixture
def other_site(live_server):
    """A tiny site on the loopback serving one page, under the other loopback name than the live server's.

    pytest-django's live server answers as http://localhost:<port>; this site is http://127.0.0.1:<port>
    (or the reverse): another host, so another *site* for the browser, not just another origin.
    """
    served = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = served.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    live_host = urlsplit(live_server.url).hostname
    host = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}[live_host]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://{host}:{server.server_port}"

    def serve(html: str) -> str:
        served["/"] = html
        return f"{origin}/"

    serve.origin = origin
    yield serve
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def embedding_page(salon) -> str:
    """The salon's own web page with the snippet the admin gives owners pasted in, as they would."""
    return (
        "<!doctype html><meta name=viewport content='width=device-width, initial-scale=1'>"
        "<title>Salone Aurora</title><body style='margin:0;font-family:sans-serif'>"
        "<p style='margin:8px'>Salone Aurora: book online</p>" + embed_html(salon)
        + "<p style='margin:8px'>Via Roma 1, Milano</p>"
    )


def expect_frame_fits(page) -> float:
    """Wait until the iframe is exactly as tall as the booking page inside it (no inner scroll); its height."""
    inner = page.frames[1]
    page.wait_for_function(
        "height => Math.abs(document.querySelector('iframe').getBoundingClientRect().height - height) <= 1",
        arg=inner.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)"),
    )
    assert inner.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
    return page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")


def test_the_salons_own_site_embeds_the_page_and_books_without_a_csrf_cookie_and_no_other_site_can(
    open_page, live_server, salon, cut, other_site
):
    BookingSettings.objects.filter(salon=salon).update(
        allowed_site_origins=f"https://www.example.com\n{other_site.origin}"
    )
    # The browser holds a CSRF cookie of the booking site (SameSite=Lax): a framed POST from another site drops it.
    page = open_page(f"{live_server.url}/admin/login/")
    assert [c for c in page.context.cookies() if c["name"] == django_settings.CSRF_COOKIE_NAME]
    embedding = other_site(embedding_page(salon))
    with page.expect_response(re.compile(r"/b/aurora/$")) as framed:
        page.goto(embedding)
    assert (
        f"frame-ancestors 'self' https://www.example.com {other_site.origin}"
        in (framed.value.headers["content-security-policy"])
    )
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    services_height = expect_frame_fits(page)  # the snippet fitted the frame to the page: no inner scroll bar
    screenshot(page, "08-1-embedded-services")

    frame.get_by_role("link", name=re.compile(re.escape(SERVICE_NAMES["en"]))).click()
    frame.locator(".times a").first.click()
    frame.get_by_label("First name", exact=True).fill("Giulia")
    frame.get_by_label("Last name", exact=True).fill("Bianchi")
    frame.get_by_label("Mobile phone", exact=True).fill("333 123 4567")
    assert expect_frame_fits(page) > services_height + 500  # the long details page: the frame grew with it
    screenshot(page, "08-2-embedded-details")
    with page.expect_request(lambda request: request.method == "POST") as posted:
        frame.get_by_role("button", name="Confirm the booking").click()  # at the bottom: the site is scrolled down
    expect(frame.get_by_role("heading", level=1)).to_have_text("Your appointment is booked")
    expect_frame_fits(page)
    # The next step starts at the top of the frame, and the snippet brought that top into view.
    page.wait_for_function("document.querySelector('iframe').getBoundingClientRect().top >= 0")
    screenshot(page, "08-3-embedded-done")

    assert Appointment.objects.filter(source="online").count() == 1
    headers = posted.value.all_headers()
    assert django_settings.CSRF_COOKIE_NAME not in headers.get("cookie", ""), headers  # dropped: a third party
    assert headers["origin"] == live_server.url  # the frame's own origin: the view's Origin check passes

    # The same page once the salon no longer lists that site: Chromium refuses to show the frame.
    BookingSettings.objects.filter(salon=salon).update(allowed_site_origins="https://www.example.com")
    with page.expect_response(re.compile(r"/b/aurora/$")) as framed:
        page.goto(embedding)
    policy = framed.value.headers["content-security-policy"]
    assert re.search(r"frame-ancestors 'self' https://www\.example\.com(;|$)", policy), policy
    assert other_site.origin not in policy
    page.wait_for_load_state("load")
    expect(page.frame_locator("iframe").get_by_role("heading", level=1)).to_have_count(0)
    [_main, child] = page.frames
    assert child.url.startswith("chrome-error://"), child.url  # Chromium shows its error page instead
    screenshot(page, "08-4-refused-frame")
