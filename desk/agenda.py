"""Reads of the agenda: a day's appointments per salon, each with its client's data-processing consent."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q

from appointments.models import Appointment
from clients.models import Client
from consents.models import Action, ConsentState
from core.vocabulary import Purpose
from salons.models import Salon


@dataclass(frozen=True)
class SalonDay:
    """One salon's appointments starting on one day of its own calendar, in time order."""

    salon: Salon
    day: date
    appointments: list[Appointment]

    @property
    def without_consent(self) -> int:
        """How many of the day's appointments are for a client who has not granted data processing."""
        return sum(not appointment.has_data_processing for appointment in self.appointments)


def data_processing_granted(client_ref: str = "client") -> Exists:
    """True where the client (an OuterRef path) currently grants data processing."""
    return Exists(
        ConsentState.objects.filter(
            client=OuterRef(client_ref), purpose=Purpose.DATA_PROCESSING, action=Action.GRANTED
        )
    )


def has_data_processing_consent(client: Client) -> bool:
    """Whether the client currently grants data processing (never asked and withdrawn both say no)."""
    return ConsentState.objects.filter(
        client=client, purpose=Purpose.DATA_PROCESSING, action=Action.GRANTED
    ).exists()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of a local day and of the next one (DST days are 23 or 25 hours long)."""
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def agenda_for(salons: Iterable[Salon], day: date) -> list[SalonDay]:
    """Each salon's appointments starting on `day` in the salon's time zone, in one query.

    Every appointment carries its client and staff member, and `has_data_processing`.
    Salons come back in the order given, those without appointments included.
    """
    salons = list(salons)
    if not salons:
        return []
    salon_ids_by_zone = defaultdict(list)
    for salon in salons:
        salon_ids_by_zone[salon.time_zone].append(salon.pk)
    # One window per time zone, not per salon: the query stays small for a superuser too.
    window = Q()
    for zone, salon_ids in salon_ids_by_zone.items():
        start, end = day_bounds(day, ZoneInfo(zone))
        window |= Q(salon_id__in=salon_ids, starts_at__gte=start, starts_at__lt=end)
    appointments = (
        Appointment.objects.filter(window)
        .select_related("client", "staff_member")
        .annotate(has_data_processing=data_processing_granted())
        .order_by("starts_at", "pk")
    )
    by_salon = defaultdict(list)
    for appointment in appointments:
        by_salon[appointment.salon_id].append(appointment)
    return [SalonDay(salon=salon, day=day, appointments=by_salon[salon.pk]) for salon in salons]
