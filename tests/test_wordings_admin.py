"""Owners publish new versions of their salon's wordings; a version shown to clients never changes."""

import pytest
from django.urls import reverse

from consents.models import ConsentWording, Source
from consents.selectors import current_wording
from tests.factories import ClientFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db


def test_an_owner_publishes_a_new_version_that_the_form_then_shows(client, owner, salon):
    client.force_login(owner)
    response = client.post(reverse("admin:consents_consentwording_add"), {
        "purpose": "marketing", "language": "it", "title": "Offerte del salone",
        "text": "Ti scriveremo al massimo una volta al mese con le nostre offerte.",
    })
    assert response.status_code == 302
    new = ConsentWording.objects.get(salon=salon)
    assert (new.version, new.purpose, new.language) == (2, "marketing", "it")  # after the shipped v1
    assert current_wording(salon=salon, purpose="marketing", language="it") == new


def test_new_version_form_starts_from_an_existing_wording(client, owner, salon):
    shipped = current_wording(salon=salon, purpose="service", language="fr")
    client.force_login(owner)
    page = client.get(reverse("admin:consents_consentwording_add") + f"?from={shipped.pk}").text
    assert shipped.title in page


def test_a_used_version_cannot_be_edited_and_offers_a_new_version(client, owner, salon):
    used = current_wording(salon=salon, purpose="data_processing", language="en")
    grant(client=ClientFactory(salon=salon), purpose="data_processing", wording=used, source=Source.FORM_LINK)
    client.force_login(owner)
    page = client.get(reverse("admin:consents_consentwording_change", args=[used.pk])).text
    assert 'name="_save"' not in page
    assert "New version from this one" in page
    response = client.post(reverse("admin:consents_consentwording_change", args=[used.pk]),
                           {"purpose": "data_processing", "language": "en", "title": "x", "text": "changed"})
    assert response.status_code == 403
    used.refresh_from_db()
    assert used.text != "changed"


def test_staff_members_cannot_publish_wordings(client, member):
    client.force_login(member)
    assert client.get(reverse("admin:consents_consentwording_add")).status_code == 403
