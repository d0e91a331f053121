"""Factories for the whole suite (factory-boy)."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
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


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    client = factory.SubFactory(ClientFactory)
    salon = factory.SelfAttribute("client.salon")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=45))
    service = "Cut & blow-dry"
