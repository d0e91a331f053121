"""Who is responsible for the clients' data and how to reach them (GDPR art. 13(1)(a)).

The salon's public privacy notice `/privacy/<slug>/`, the controller line at the foot of the consent
form and the booking pages, the phone number wherever a client is told to call the salon, and the
owner's settings form that reads that number with the salon's country.
"""

import re
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consents.links import new_link
from consents.models import ConsentLink
from consents.services import publish_wording
from outreach.online_booking import new_manage_link
from salons.forms import SalonForm
from salons.models import Salon
from tests.factories import AppointmentFactory, BookingSettingsFactory, OpeningHoursFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(salon):
    salon.legal_name = "Aurora di Anna Bianchi"
    salon.address = "Via Roma 1, 20121 Milano"
    salon.contact_phone = "+390212345678"
    salon.contact_email = "ciao@aurora.example"
    salon.save()
    return salon


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_notice_names_the_controller_its_contacts_and_the_salons_own_wordings(client, contact):
    publish_wording(salon=contact, purpose="marketing", language="en", title="Offers from Aurora",
                    text="Aurora sends a monthly offer to those who agree.")

    response = client.get("/privacy/aurora/?lang=en")

    assert response.status_code == 200
    page = text(response)
    assert "Aurora di Anna Bianchi (Salone Aurora)" in page
    assert "Via Roma 1, 20121 Milano" in page
    assert 'href="tel:+390212345678"' in response.content.decode()
    assert 'href="mailto:ciao@aurora.example"' in response.content.decode()
    assert "Offers from Aurora" in page  # the salon's newest
    assert "Aurora sends a monthly offer" in page
    assert "Data processing" in page  # the shipped ones for the rest
    assert "Appointment updates" in page
    assert "complain to the data protection authority" in page


def test_retention_follows_the_salons_settings(client, salon):
    salon.dormant_months, salon.consent_validity_months, salon.erasure_proposal_months = 6, 24, 30
    salon.message_retention_months = 1
    salon.save()
    page = text(client.get("/privacy/aurora/?lang=en"))
    assert "After 6 months without a visit, you count as an inactive client." in page
    assert "lapses after 24 months unless you renew it" in page
    assert "deleted after 1 month." in page
    assert "After 30 months without a visit, the salon is asked to erase your data." in page

    salon.consent_validity_months = None
    salon.save()
    assert "lapses after" not in text(client.get("/privacy/aurora/?lang=en"))


def test_without_contact_details_the_notice_still_names_the_salon(client, salon):
    response = client.get("/privacy/aurora/?lang=en")
    assert "Salone Aurora" in text(response)
    assert "Ask at the salon's desk" in text(response)
    assert 'href="tel:' not in response.content.decode()
    assert 'href="mailto:' not in response.content.decode()


@pytest.mark.parametrize(("query", "accept", "expected"), [
    ("?lang=it", "", "Informativa sulla privacy"),
    ("", "fi", "Tietosuojaseloste"),
    ("", "", "Informativa sulla privacy"),  # nothing asked: the salon's language (Italian here)
])
def test_the_notice_is_in_the_asked_the_browsers_or_the_salons_language(client, salon, query, accept, expected):
    salon.language = "it"
    salon.save()
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response = client.get(f"/privacy/aurora/{query}", **headers)
    assert expected in text(response)
    assert response["Content-Language"] in ("it", "fi")


def test_the_notice_is_public_cacheable_and_sets_no_cookie(client, contact, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the salon, the wordings
        response = client.get("/privacy/aurora/")
    assert response["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response["Vary"]
    assert not response.cookies
    assert response["X-Frame-Options"] == "DENY"


def test_an_unknown_salon_is_a_404(client, salon):
    assert client.get("/privacy/nobody/").status_code == 404


def test_the_consent_form_says_who_is_responsible_and_links_the_notice(client, contact, client_):
    _link, token = new_link(client=client_, kind=ConsentLink.Kind.REQUEST, channel="sms")
    response = client.get(f"/c/{token}/?lang=en")
    page = response.content.decode()
    assert "Responsible for your data: Aurora di Anna Bianchi" in text(response)
    assert 'href="tel:+390212345678"' in page
    notice = re.search(r'href="(/privacy/aurora/\?lang=en)"', page).group(1)
    assert client.get(notice).status_code == 200


@pytest.fixture
def bookable(salon, owner):
    BookingSettingsFactory(salon=salon, min_notice_minutes=0)
    OpeningHoursFactory.every_day(salon=salon, opens=time(0, 0), closes=time(23, 30))
    return ServiceFactory(salon=salon, names={"en": "Cut"}, duration_minutes=30, staff=[owner])


def test_booking_pages_show_the_controller_and_the_phone_where_clients_must_call(client, contact, bookable):
    page = client.get("/b/aurora/?lang=en")
    assert "Responsible for your data: Aurora di Anna Bianchi" in text(page)
    assert 'target="_blank"' in re.search(r'<a href="/privacy/aurora/[^>]*>', page.content.decode()).group(0)

    bookable.active = False  # nothing to book online: "please call the salon" and the number to call
    bookable.save()
    page = client.get("/b/aurora/?lang=en")
    assert "Please call the salon." in text(page)
    assert 'class="call" href="tel:+390212345678"' in page.content.decode()
    assert "Call Salone Aurora: +39 02 1234 5678" in text(page)


def test_the_manage_page_gives_the_number_when_it_is_too_late_to_cancel(client, contact, bookable):
    appointment = AppointmentFactory(client__salon=contact, starts_at=timezone.now() + timedelta(hours=1),
                                     source="online")
    link = new_manage_link(appointment=appointment)
    page = client.get(reverse("booking-manage", args=[link.token()]) + "?lang=en")
    assert "too late to cancel online" in text(page)
    assert 'class="call" href="tel:+390212345678"' in page.content.decode()


def test_without_a_phone_no_call_link_is_shown(client, salon, bookable):
    bookable.active = False
    bookable.save()
    page = client.get("/b/aurora/?lang=en").content.decode()
    assert "Please call the salon." in page
    assert 'class="call"' not in page


# --- the owner's settings -----------------------------------------------------------------------------

def form_for(salon, **changes):
    data = {"phone_region": salon.phone_region, "legal_name": "", "address": "", "contact_phone": "",
            "contact_email": "", **changes}
    return SalonForm(data, instance=salon)


def test_the_phone_for_clients_is_read_with_the_salons_country(salon):
    form = form_for(salon, contact_phone="02 1234 5678")
    assert form.is_valid(), form.errors
    form.save()
    salon.refresh_from_db()
    assert salon.contact_phone.as_e164 == "+390212345678"
    assert SalonForm(instance=salon).initial["contact_phone"] == "+39 02 1234 5678"

    form = form_for(salon, phone_region="FI", contact_phone="09 1234 567")  # Helsinki, read as Finnish
    assert form.is_valid(), form.errors
    assert form.save().contact_phone.as_e164 == "+35891234567"


def test_a_wrong_phone_or_email_is_a_clear_form_error_and_saves_nothing(salon):
    form = form_for(salon, contact_phone="12", contact_email="not-an-email")
    assert not form.is_valid()
    assert "is not a valid phone number for IT" in form.errors["contact_phone"][0]
    assert "contact_email" in form.errors
    salon.refresh_from_db()
    assert (salon.contact_phone, salon.contact_email) == ("", "")


def test_the_owner_edits_the_contact_details_in_the_admin(client, salon, owner):
    client.force_login(owner)
    url = reverse("admin:salons_salon_change", args=[salon.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Shown to clients" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update({"name": salon.name, "slug": salon.slug, "default_transactional_channels": '["sms"]',
                 "legal_name": "Aurora srl", "address": "Via Roma 1", "contact_phone": "02 1234 5678",
                 "contact_email": "ciao@aurora.example"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    salon = Salon.objects.get(pk=salon.pk)
    assert (salon.legal_name, salon.contact_phone.as_e164) == ("Aurora srl", "+390212345678")
