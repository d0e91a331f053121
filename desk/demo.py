"""The demo salon: a realistic address book in varied consent states, built through the services."""

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client, SuppressionReason
from clients.services import create_client, suppress
from consents.models import Source
from consents.selectors import current_wording
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import Channel
from credits.models import CreditAccount, CreditEntry
from outreach.credits import top_up
from rights.restriction import set_restriction
from salons.models import Membership, Salon

DEMO_SLUG = "demo"
DEMO_LOGINS = {"owner": ("owner", "demo-owner-pass"), "staff": ("staff", "demo-staff-pass")}
DEMO_CREDITS = 500

FIRST_NAMES = ["Giulia", "Francesca", "Chiara", "Sara", "Martina", "Valentina", "Alessia", "Elena",
               "Marco", "Luca", "Andrea", "Matteo", "Sofia", "Aurora", "Camille", "Léa", "Anna",
               "Lena", "Aino", "Emilia", "Paolo", "Federica", "Silvia", "Roberta", "Laura"]
LAST_NAMES = ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
              "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Dubois", "Müller",
              "Virtanen", "Korhonen", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro"]
SERVICES = [("Cut & blow-dry", 45), ("Colour", 90), ("Highlights", 120), ("Manicure", 40),
            ("Facial", 60), ("Beard trim", 30), ("Blow-dry", 30)]
LANGUAGES = ["it"] * 6 + ["en", "fr", "de", "fi"]

# Consent profiles and how many clients get each: (purpose, channel, granted) choices.
PROFILES = [
    ("never asked", 12, []),
    ("data + service SMS", 8, [("data_processing", "", True), ("service", "sms", True)]),
    ("data + service email only", 5, [("data_processing", "", True), ("service", "email", True)]),
    ("data + both + marketing email", 7, [("data_processing", "", True), ("service", "sms", True),
                                          ("service", "email", True), ("marketing", "email", True)]),
    ("fully opted in", 6, [("data_processing", "", True), ("service", "sms", True), ("service", "email", True),
                           ("marketing", "sms", True), ("marketing", "email", True), ("personalised", "", True)]),
    ("data withdrawn", 3, [("data_processing", "", False)]),
    ("marketing withdrawn", 5, [("data_processing", "", True), ("marketing", "sms", False),
                                ("marketing", "email", False)]),
    ("replied STOP", 2, [("data_processing", "", True), ("service", "sms", False), ("marketing", "sms", False)]),
    ("restricted", 2, [("data_processing", "", True)]),
]


@dataclass
class DemoResult:
    salon: Salon
    created: bool
    clients: int
    appointments: int
    balance: int


def _user(username: str, password: str, *, first_name: str):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "first_name": first_name}
    )
    if created:
        user.set_password(password)
        user.save()
    return user


@transaction.atomic
def seed_demo(*, now: datetime | None = None) -> DemoResult:
    """Create (once) the demo salon, its logins, ~50 clients, today's and tomorrow's agenda and credits."""
    now = now or timezone.now()
    salon, created = Salon.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={"name": "Studio Bellezza Demo", "sms_sender_id": "BellezzaDmo", "phone_region": "IT",
                  "language": "it", "time_zone": "Europe/Rome",
                  # Example contact details (a reserved example domain; 02 is Milan's prefix, not a real line).
                  "legal_name": "Studio Bellezza Demo di Olivia Rossi", "address": "Via Esempio 1, 20121 Milano",
                  "contact_phone": "+390200000000", "contact_email": "privacy@studio-bellezza.example"},
    )
    owner = _user(*DEMO_LOGINS["owner"], first_name="Olivia")
    staff = _user(*DEMO_LOGINS["staff"], first_name="Stefano")
    Membership.objects.get_or_create(salon=salon, user=owner, defaults={"role": Membership.Role.OWNER})
    Membership.objects.get_or_create(salon=salon, user=staff, defaults={"role": Membership.Role.STAFF})

    if not salon.clients.exists():
        _populate(salon, owner=owner, staff=staff, now=now)
    if not CreditEntry.objects.filter(salon=salon).exists():
        top_up(salon=salon, amount=DEMO_CREDITS, note="demo credits", actor=owner)
    _setup_booking(salon, performers=[owner, staff])
    return DemoResult(
        salon=salon, created=created, clients=salon.clients.count(),
        appointments=salon.appointments.count(),
        balance=CreditAccount.objects.filter(salon=salon).values_list("balance", flat=True).first() or 0,
    )


def _populate(salon: Salon, *, owner, staff, now: datetime) -> None:
    rng = random.Random(2026)  # the same demo every time
    tz = ZoneInfo(salon.time_zone)
    today = now.astimezone(tz).date()
    sources = [Source.IN_PERSON, Source.FORM_LINK, Source.PAPER, Source.BOOKING_WIDGET]
    clients = []
    index = 0
    for profile, count, choices in PROFILES:
        for _ in range(count):
            first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[(index * 7) % len(LAST_NAMES)]
            index += 1
            visited = profile != "never asked" or index % 3 != 0
            client = create_client(
                salon=salon, first_name=first, last_name=last,
                phone=f"3{rng.randint(20, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                email=f"{_ascii(first)}.{_ascii(last)}{index}@example.com"
                if rng.random() < 0.85 else "",
                language=rng.choice(LANGUAGES),
                last_visit=today - timedelta(days=rng.randint(3, 300)) if visited else None,
            )
            clients.append(client)
            if choices:
                _record_history(client, choices, rng=rng, sources=sources, owner=owner, now=now)
            if profile == "replied STOP":
                suppress(clients=[client], channel=Channel.SMS, reason=SuppressionReason.OPTED_OUT)
            if profile == "restricted":
                set_restriction(client=client, restricted=True)

    # Today's and tomorrow's agenda from 09:00 in the salon's time zone: each of the two staff works
    # through their own appointments back to back (the database refuses overlapping bookings).
    for day_offset in (0, 1):
        day = today + timedelta(days=day_offset)
        free_at = {member.pk: datetime.combine(day, time(9, 0), tzinfo=tz) for member in (owner, staff)}
        for slot, client in enumerate(rng.sample(clients, 12)):
            name, minutes = SERVICES[rng.randrange(len(SERVICES))]
            member = owner if slot % 2 else staff
            starts = free_at[member.pk]
            free_at[member.pk] = starts + timedelta(minutes=minutes + 15)
            Appointment.objects.create(
                salon=salon, client=client, starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                service=name, staff_member=member,
            )


# The demo's online catalogue: names per language, minutes, price shown.
BOOKABLE = [
    ({"it": "Taglio e piega", "en": "Cut & blow-dry", "fr": "Coupe et brushing", "de": "Schnitt & Föhnen",
      "fi": "Leikkaus ja föönaus"}, 45, "€35"),
    ({"it": "Colore", "en": "Colour", "fr": "Couleur", "de": "Farbe", "fi": "Väri"}, 90, "€60"),
    ({"it": "Piega", "en": "Blow-dry", "fr": "Brushing", "de": "Föhnen", "fi": "Föönaus"}, 30, "€20"),
    ({"it": "Manicure", "en": "Manicure", "fr": "Manucure", "de": "Maniküre", "fi": "Manikyyri"}, 40, "€25"),
]


def _setup_booking(salon: Salon, *, performers) -> None:
    """Online booking for the demo salon (once): Monday to Saturday 9–13 and 14–19, four services."""
    from booking.models import BookingSettings, OpeningHours, Service

    if BookingSettings.objects.filter(salon=salon).exists():
        return
    BookingSettings.objects.create(salon=salon, enabled=True)
    for weekday in range(6):
        OpeningHours.objects.create(salon=salon, weekday=weekday, opens=time(9), closes=time(13))
        OpeningHours.objects.create(salon=salon, weekday=weekday, opens=time(14), closes=time(19))
    for ordering, (names, minutes, price) in enumerate(BOOKABLE):
        service = Service.objects.create(salon=salon, names=names, duration_minutes=minutes, price_display=price,
                                         ordering=ordering)
        service.staff.set(performers)


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _record_history(client: Client, choices, *, rng, sources, owner, now: datetime) -> None:
    """Grant first (with the wording shown), then withdraw what the profile withdrew, later."""
    source = rng.choice(sources)
    actor = owner if source in (Source.IN_PERSON, Source.PAPER) else None
    evidence = (
        Evidence(ip="127.0.0.1", user_agent="Mozilla/5.0 (demo phone)", note="demo")
        if source in (Source.FORM_LINK, Source.BOOKING_WIDGET)
        else Evidence(note="demo")
    )
    granted_at = now - timedelta(days=rng.randint(30, 400), minutes=rng.randint(0, 600))

    def wording(purpose):
        return current_wording(salon=client.salon, purpose=purpose, language=client.language)

    grants = [ConsentChange(p, True, c, wording(p)) for p, c, _granted in choices]
    record_consent(client=client, changes=grants, source=source, actor=actor, evidence=evidence,
                   occurred_at=granted_at)
    withdrawals = [ConsentChange(p, False, c) for p, c, granted in choices if not granted]
    if withdrawals:
        record_consent(
            client=client, changes=withdrawals, source=Source.STAFF_UPDATE, actor=owner,
            evidence=Evidence(note="demo: client asked at the desk"),
            occurred_at=granted_at + timedelta(days=rng.randint(1, 25)),
        )
