"""Factories for the whole suite (factory-boy).

Each factory builds a valid row with the least a test cares about; a test passes the values it is about.
Rows that belong to a client and a salon (appointments, messages, links, scans) are always in the
client's salon: pass `client=`, or `salon=` alone and the new client is made in that salon.

What has a service stays with the service where the test is about it: consents go through
`consents.services` (the register is hash-chained), credits through `credits.services.top_up`, links a
test opens through `consents.links.new_link` (only the service knows the raw token).
"""

from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from appointments.models import Appointment
from booking.models import BookingSettings, ClosedDay, OpeningHours, Service
from campaigns.models import Campaign
from clients.models import Client, SuppressedContact
from consents.models import ConsentLink, ConsentScan, ConsentWording
from core.vocabulary import MessageKind
from credits.models import CreditEntry
from messaging.models import Message
from salons.models import Membership, Salon


class SalonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Salon

    name = factory.Sequence(lambda n: f"Salon {n}")
    slug = factory.Sequence(lambda n: f"salon-{n}")
    phone_region = "IT"
    language = "it"
    time_zone = "Europe/Rome"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    salon = factory.SubFactory(SalonFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.STAFF


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    salon = factory.SubFactory(SalonFactory)
    first_name = factory.Sequence(lambda n: f"Anna{n}")
    last_name = "Rossi"
    phone = factory.Sequence(lambda n: f"+39333{n:07d}")
    email = factory.Sequence(lambda n: f"anna{n}@example.com")
    language = "it"


class InClientsSalon:
    """For a model with `salon` and `client`: the salon is the client's, and `salon=` alone makes the client there."""

    @staticmethod
    def _client_in_salon(kwargs):
        if "salon" in kwargs and "client" not in kwargs and not any(key.startswith("client__") for key in kwargs):
            return {**kwargs, "client__salon": kwargs["salon"]}
        return kwargs

    @classmethod
    def build(cls, **kwargs):
        return super().build(**cls._client_in_salon(kwargs))

    @classmethod
    def create(cls, **kwargs):
        return super().create(**cls._client_in_salon(kwargs))


class AppointmentFactory(InClientsSalon, factory.django.DjangoModelFactory):
    """A booked appointment tomorrow, 45 minutes, with nobody on the staff assigned."""

    class Meta:
        model = Appointment

    client = factory.SubFactory(ClientFactory)
    salon = factory.SelfAttribute("client.salon")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=45))
    service = "Cut & blow-dry"


class MessageFactory(InClientsSalon, factory.django.DjangoModelFactory):
    """An outbox row as written by hand, not by `enqueue_message`: a pending SMS reminder, not rendered or priced.

    For a message the policy decides, the outbox renders and prices, use `messaging.services.enqueue_message`.
    """

    class Meta:
        model = Message

    client = factory.SubFactory(ClientFactory)
    salon = factory.SelfAttribute("client.salon")
    kind = MessageKind.APPOINTMENT_REMINDER
    channel = "sms"
    language = factory.SelfAttribute("client.language")
    body = "Reminder: see you tomorrow."
    dedupe_key = factory.Sequence(lambda n: f"test-message:{n}")


class CreditEntryFactory(factory.django.DjangoModelFactory):
    """A ledger line written directly: the account's balance does not follow it.

    For credits a test is about, use `credits.services.top_up` (and the outbox for charges and refunds).
    """

    class Meta:
        model = CreditEntry

    salon = factory.SubFactory(SalonFactory)
    kind = CreditEntry.Kind.CHARGE
    amount = factory.LazyAttribute(lambda o: -1 if o.kind == CreditEntry.Kind.CHARGE else 1)


class ConsentWordingFactory(factory.django.DjangoModelFactory):
    """A salon's own wording for marketing in English, at a version after the shipped version 1.

    To publish a new current version as owners do, use `consents.services.publish_wording`.
    """

    class Meta:
        model = ConsentWording

    salon = factory.SubFactory(SalonFactory)
    purpose = "marketing"
    language = "en"
    version = factory.Sequence(lambda n: n + 2)
    title = "Offers"
    text = "The salon sends you its offers. You can withdraw at any time."


class ConsentLinkFactory(InClientsSalon, factory.django.DjangoModelFactory):
    """A request link valid for 30 days, whose token nobody knows (only a hash is stored).

    For a link a test opens, use `consents.links.new_link`: it returns the token.
    """

    class Meta:
        model = ConsentLink

    client = factory.SubFactory(ClientFactory)
    salon = factory.SelfAttribute("client.salon")
    kind = ConsentLink.Kind.REQUEST
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class ConsentScanFactory(InClientsSalon, factory.django.DjangoModelFactory):
    """A signed paper form's scan, uploaded by a staff user (the file goes to MEDIA_ROOT)."""

    class Meta:
        model = ConsentScan

    client = factory.SubFactory(ClientFactory)
    salon = factory.SelfAttribute("client.salon")
    file = factory.django.FileField(filename="form.pdf", data=b"%PDF-1.4")
    sha256 = "0" * 64
    uploaded_by = factory.SubFactory(UserFactory)


class SuppressedContactFactory(factory.django.DjangoModelFactory):
    """An entry of the suppression list as erasure leaves it (for one made from a real contact, erase a client)."""

    class Meta:
        model = SuppressedContact

    salon = factory.SubFactory(SalonFactory)
    kind = SuppressedContact.Kind.PHONE
    digest = factory.Sequence(lambda n: f"{n:064x}")


# Online booking


class BookingSettingsFactory(factory.django.DjangoModelFactory):
    """A salon taking bookings online, with the model's defaults for the rest (notice, step, horizon)."""

    class Meta:
        model = BookingSettings

    salon = factory.SubFactory(SalonFactory)
    enabled = True


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    """Monday 09:00–18:00; `OpeningHoursFactory.every_day(salon=..., opens=..., closes=...)` for a whole week."""

    class Meta:
        model = OpeningHours

    salon = factory.SubFactory(SalonFactory)
    weekday = OpeningHours.Weekday.MONDAY
    opens = time(9)
    closes = time(18)

    @classmethod
    def every_day(cls, **kwargs) -> list[OpeningHours]:
        return [cls(weekday=weekday, **kwargs) for weekday in OpeningHours.Weekday.values]


class ClosedDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClosedDay

    salon = factory.SubFactory(SalonFactory)
    date = factory.Sequence(lambda n: date(2030, 12, 25) + timedelta(days=n))


class ServiceFactory(factory.django.DjangoModelFactory):
    """A service named in the salon's language, 30 minutes; `staff=[users]` sets who performs it (else nobody)."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    salon = factory.SubFactory(SalonFactory)
    names = factory.LazyAttributeSequence(lambda o, n: {o.salon.language: f"Service {n}"})
    duration_minutes = 30

    @factory.post_generation
    def staff(self, create, extracted, **kwargs):
        if create and extracted:
            self.staff.set(extracted)


# Campaigns


class CampaignFactory(factory.django.DjangoModelFactory):
    """A draft marketing SMS campaign to every lifecycle segment, written in Italian and English.

    A re-permission campaign (`kind=Campaign.Kind.REPERMISSION`) gets a recorded legal basis.
    """

    class Meta:
        model = Campaign

    salon = factory.SubFactory(SalonFactory)
    name = "Spring offer"
    kind = Campaign.Kind.MARKETING
    channel = "sms"
    segments = factory.LazyFunction(lambda: ["prospect", "client", "dormant"])
    texts = factory.LazyFunction(lambda: {"it": "Sconto 20% a marzo!", "en": "20% off!"})
    repermission_legal_basis = factory.LazyAttribute(
        lambda o: "Legitimate interest, assessed 2025" if o.kind == Campaign.Kind.REPERMISSION else ""
    )
