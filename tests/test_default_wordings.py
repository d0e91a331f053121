"""The wordings shipped with salonconsent (migration consents 0003): one version 1 per purpose
and language, hashed like any other wording, really translated, and reversible."""

import importlib
import itertools

import pytest
from django.apps import apps as global_apps
from django.conf import settings

from consents.models import ConsentWording, wording_digest
from core.vocabulary import Purpose
from tests.factories import ConsentWordingFactory, SalonFactory

LANGUAGES = [code for code, _name in settings.LANGUAGES]
PURPOSES = list(Purpose.values)
PLACEHOLDERS = ("TODO", "FIXME", "XXX", "{", "}", "%(", "%s", "<", ">")

migration = importlib.import_module("consents.migrations.0003_default_wordings")


def defaults():
    return ConsentWording.objects.filter(salon__isnull=True, version=1)


@pytest.mark.django_db
def test_one_default_wording_per_purpose_and_language():
    assert set(LANGUAGES) == {"en", "it", "fr", "de", "fi"}
    assert len(PURPOSES) == 4
    rows = list(defaults().values_list("purpose", "language"))
    assert len(rows) == 20
    assert sorted(rows) == sorted(itertools.product(PURPOSES, LANGUAGES))
    # Nothing else shipped: every default is salon-less and at version 1.
    assert not ConsentWording.objects.filter(salon__isnull=True).exclude(version=1).exists()
    assert not ConsentWording.objects.filter(salon__isnull=False).exists()


@pytest.mark.django_db
def test_stored_digest_matches_the_models_formula():
    for wording in defaults():
        assert wording.sha256 == wording_digest(wording.title, wording.text), str(wording)
        assert len(wording.sha256) == 64


@pytest.mark.django_db
def test_titles_and_texts_are_real_translations():
    by_key = {(w.purpose, w.language): w for w in defaults()}
    for purpose in PURPOSES:
        english = by_key[(purpose, "en")]
        for language in LANGUAGES:
            wording = by_key[(purpose, language)]
            assert wording.title.strip(), str(wording)
            assert wording.text.strip(), str(wording)
            assert wording.title == wording.title.strip()
            assert wording.text == wording.text.strip()
            if language != "en":
                assert wording.title != english.title, str(wording)
                assert wording.text != english.text, str(wording)
    # The titles of one language tell the purposes apart.
    for language in LANGUAGES:
        titles = [by_key[(purpose, language)].title for purpose in PURPOSES]
        assert len(set(titles)) == len(titles), language


@pytest.mark.django_db
def test_texts_are_plain_and_short_enough_for_a_phone():
    for wording in defaults():
        for placeholder in PLACEHOLDERS:
            assert placeholder not in wording.title, (str(wording), placeholder)
            assert placeholder not in wording.text, (str(wording), placeholder)
        assert "\n" not in wording.title
        assert len(wording.title) <= 60, str(wording)
        sentences = [s for s in wording.text.replace("?", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4, str(wording)
        assert wording.text.endswith("."), str(wording)


@pytest.mark.django_db
def test_every_text_says_consent_is_free_and_how_to_withdraw():
    # One phrase per language for "never a condition of booking" and "withdraw at any time".
    free = {
        "en": "never a condition of booking",
        "it": "non è mai una condizione per prenotare",
        "fr": "n'est jamais une condition pour réserver",
        "de": "nie Voraussetzung für eine Buchung",
        "fi": "eikä se ole koskaan ajanvarauksen ehto",
    }
    withdraw = {
        "en": "withdraw it at any time",
        "it": "revocarlo in qualsiasi momento",
        "fr": "le retirer à tout moment",
        "de": "jederzeit",
        "fi": "milloin tahansa",
    }
    for wording in defaults():
        assert free[wording.language] in wording.text, str(wording)
        assert withdraw[wording.language] in wording.text, str(wording)


@pytest.mark.django_db
def test_reverse_deletes_only_the_shipped_version_1_and_forward_restores_it():
    own = ConsentWordingFactory(salon=SalonFactory(), purpose=Purpose.MARKETING, language="it", version=1)
    newer = ConsentWordingFactory(salon=None, purpose=Purpose.MARKETING, language="en", version=2)
    before = {(w.purpose, w.language): (w.title, w.text, w.sha256) for w in defaults()}

    migration.delete_default_wordings(global_apps, None)
    assert not defaults().exists()
    assert set(ConsentWording.objects.values_list("pk", flat=True)) == {own.pk, newer.pk}

    migration.create_default_wordings(global_apps, None)
    after = {(w.purpose, w.language): (w.title, w.text, w.sha256) for w in defaults()}
    assert after == before

    # Running forward again over existing rows adds nothing.
    migration.create_default_wordings(global_apps, None)
    assert defaults().count() == 20
