"""The messages clients receive, in every shipped language, and the catalogs that translate them.

Each kind renders on SMS and email in each language with nothing left untranslated, the service
SMS stay in GSM-7 (a single accented character outside it would double or triple the price), and
the privacy authorisation request fits one segment. The catalogs under locale/ hold every message
in the code today, each translated, and their compiled .mo files match them.
"""

import ast
import gettext
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.loader import get_template

from core.vocabulary import MessageKind
from messaging.segments import count_segments, is_gsm7
from messaging.services import render
from tests.factories import AppointmentFactory, ClientFactory, SalonFactory

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TRANSLATED = [code for code in LANGUAGES if code != "en"]
KINDS = list(MessageKind.values)
# Sent as service messages, with no text of the salon's own: their translations alone decide the encoding.
SERVICE_KINDS = [
    MessageKind.CONSENT_REQUEST,
    MessageKind.CONSENT_RECEIPT,
    MessageKind.APPOINTMENT_CONFIRMATION,
    MessageKind.APPOINTMENT_REMINDER,
    MessageKind.APPOINTMENT_CANCELLATION,
    MessageKind.REVIEW_REQUEST,
]
LINK = "https://salon.example.com/c/AbCdEfGhIjKlMnOpQrStUv"
LONGEST_SALON_NAME = "Studio Bellezza Roma"  # 20 characters: the longest name the request must fit in one SMS
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# What `makemessages` must skip, as in the command that maintains the catalogs.
NOT_SCANNED = (".venv", "var", "tests", "bench", "build", "locale", ".git", "__pycache__", "*.egg-info",
               ".hypothesis", ".pytest_cache", ".ruff_cache", "test-artifacts")


@dataclass(frozen=True)
class Rendered:
    sms: str
    email: str
    subject: str


def template_source(kind: str, part: str) -> str:
    return get_template(f"messaging/{kind}.{part}.txt", using="text").template.source


def has_text_to_translate(kind: str, part: str) -> bool:
    return re.search(r"{%\s*(block)?trans(late)?\b", template_source(kind, part)) is not None


@pytest.fixture
def context(db):
    """Everything a message template may use, as a real salon would send it."""

    def build(salon_name="Studio Bellezza"):
        salon = SalonFactory(name=salon_name, time_zone="Europe/Rome")
        client = ClientFactory(salon=salon, first_name="Giulia")
        appointment = AppointmentFactory(client=client, service="Piega",
                                         starts_at=datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
        return {
            "salon": salon,
            "client": client,
            "appointment": appointment,
            "link": LINK,
            "text": "Promo di novembre: -20% sulla piega.",
            "subject": "Novembre",
            "choices": "- Promemoria appuntamenti: SMS\n- Offerte: email\n- Suggerimenti personalizzati: no",
        }

    return build


def render_all(kind: str, language: str, context: dict) -> Rendered:
    _, sms = render(kind=kind, channel="sms", language=language, context=context)
    subject, email = render(kind=kind, channel="email", language=language, context=context)
    return Rendered(sms=sms, email=email, subject=subject)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_message_renders_completely_in_every_language(kind, language, context):
    rendered = render_all(kind, language, context())
    for part in ("sms", "email", "subject"):
        text = getattr(rendered, part)
        assert text, f"{kind}.{part} in {language} is empty"
        for leftover in ("{{", "{%", "%("):
            assert leftover not in text, f"{kind}.{part} in {language} has {leftover!r} left: {text!r}"
        if "{{ link }}" in template_source(kind, part):
            assert LINK in text, f"{kind}.{part} in {language} lost the link: {text!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kind", KINDS)
def test_every_message_with_text_to_translate_is_translated(kind, language, context):
    ctx = context()
    english, translated = render_all(kind, "en", ctx), render_all(kind, language, ctx)
    for part in ("sms", "email", "subject"):
        if has_text_to_translate(kind, part):
            assert getattr(translated, part) != getattr(english, part), f"{kind}.{part} is English in {language}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", SERVICE_KINDS)
def test_service_sms_are_gsm7_in_every_language(kind, language, context):
    _, body = render(kind=kind, channel="sms", language=language, context=context())
    outside = sorted({char for char in body if not is_gsm7(char)})
    assert count_segments(body).encoding == "gsm7", f"{kind} SMS in {language} needs UCS-2 for {outside}: {body!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_request_sms_fits_one_segment_with_a_20_character_salon_name(language, context):
    assert len(LONGEST_SALON_NAME) == 20
    _, body = render(kind=MessageKind.CONSENT_REQUEST, channel="sms", language=language,
                     context=context(salon_name=LONGEST_SALON_NAME))
    count = count_segments(body)
    assert (count.encoding, count.segments) == ("gsm7", 1), f"{count.units} characters in {language}: {body!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kind", SERVICE_KINDS)
def test_a_translated_service_sms_costs_no_more_segments_than_the_english_one(kind, language, context):
    ctx = context(salon_name=LONGEST_SALON_NAME)
    _, english = render(kind=kind, channel="sms", language="en", context=ctx)
    _, translated = render(kind=kind, channel="sms", language=language, context=ctx)
    assert count_segments(translated).segments <= count_segments(english).segments, (
        f"{kind} in {language}: {count_segments(translated).units} characters: {translated!r}"
    )


# The catalogs.


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False


def read_catalog(path: Path) -> list[Entry]:
    """The live entries of a .po file, header first, strings unescaped; obsolete `#~` entries are left out."""
    entries: list[Entry] = []
    flags, target = "", None
    for line in path.read_text(encoding="utf-8").splitlines():
        keyword, _, rest = line.partition(" ")
        if line.startswith("#,"):
            flags = line
        elif line.startswith("#") or not line.strip():
            target = None
        elif keyword in ("msgctxt", "msgid"):
            # A msgid opens a new entry unless it follows its own msgctxt.
            if keyword == "msgctxt" or not entries or entries[-1].msgstr:
                entries.append(Entry(fuzzy="fuzzy" in flags))
                flags = ""
            setattr(entries[-1], keyword, ast.literal_eval(rest))
            target = keyword
        elif keyword.startswith("msgstr"):  # msgstr, or msgstr[n] for plurals
            entries[-1].msgstr.append(ast.literal_eval(rest))
            target = "msgstr"
        elif keyword == "msgid_plural":
            target = None
        elif line.startswith('"') and target == "msgstr":
            entries[-1].msgstr[-1] += ast.literal_eval(line)
        elif line.startswith('"') and target is not None:
            setattr(entries[-1], target, getattr(entries[-1], target) + ast.literal_eval(line))
    return entries


def catalog(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_entry_is_translated_and_none_is_fuzzy(language):
    entries = read_catalog(catalog(language))
    header, messages = entries[0], entries[1:]
    assert header.msgid == ""
    assert f"Language: {language}\n" in header.msgstr[0]
    assert messages, f"{catalog(language)} holds no messages"
    assert [e.msgid for e in entries if e.fuzzy] == []
    assert [e.msgid for e in messages if not all(e.msgstr)] == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalog_matches_its_po_file(language):
    # Compare contents, not modification times: a git checkout gives both files arbitrary mtimes.
    with open(catalog(language).with_suffix(".mo"), "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for entry in read_catalog(catalog(language))[1:]:
        if entry.msgctxt is not None:
            found = compiled.pgettext(entry.msgctxt, entry.msgid)
        else:
            found = compiled.gettext(entry.msgid)
        # Untranslated entries are the test above's to report; plural forms are left to msgfmt.
        if len(entry.msgstr) == 1 and entry.msgstr[0] and found != entry.msgstr[0]:
            stale.append(entry.msgid)
    assert stale == [], "run `manage.py compilemessages --ignore=.venv`"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext) to extract messages")
def test_catalogs_hold_exactly_the_messages_in_the_code_today(tmp_path, monkeypatch, settings):
    # makemessages writes next to the first locale/ it finds above each file, so it runs on a copy of the
    # sources: the real catalogs are never touched.
    source = tmp_path / "src"
    shutil.copytree(settings.BASE_DIR, source, ignore=shutil.ignore_patterns(*NOT_SCANNED))
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)
    call_command("makemessages", locale=TRANSLATED, extensions=["txt", "html", "py"], verbosity=0)
    for language in TRANSLATED:
        extracted = {(e.msgctxt, e.msgid) for e in read_catalog(source / "locale" / language / "LC_MESSAGES"
                                                                  / "django.po")[1:]}
        shipped = {(e.msgctxt, e.msgid) for e in read_catalog(catalog(language))[1:]}
        assert (sorted(extracted - shipped, key=str), sorted(shipped - extracted, key=str)) == ([], []), (
            f"locale/{language} is stale (missing, obsolete): run makemessages and translate"
        )
