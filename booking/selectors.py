"""Reads for online booking: the free slots of a service on a day, in a constant number of queries."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.models import Appointment
from salons.models import Membership

from .models import BookingSettings, ClosedDay, OpeningHours, Service
from .slots import Slot, free_slots


def slots_for(*, salon, service: Service, day: date, staff=None, now: datetime | None = None) -> list[Slot]:
    """Free slots of `service` on the salon-local `day`, optionally with one staff member; 5 queries at most."""
    if service.salon_id != salon.pk or not service.active:
        return []
    booking = BookingSettings.objects.filter(salon=salon, enabled=True).first()
    if booking is None:
        return []
    now = now or timezone.now()
    tz = ZoneInfo(salon.time_zone)

    hours = list(OpeningHours.objects.filter(salon=salon, weekday=day.weekday()).values_list("opens", "closes"))
    if not hours:
        return []
    closed = ClosedDay.objects.filter(salon=salon, date=day).exists()
    if closed:
        return []

    # Performers who are still members of the salon (someone who left keeps no bookable time).
    performers = Service.staff.through.objects.filter(
        service=service,
        user__in=Membership.objects.filter(salon=salon, user__is_active=True).values("user_id"),
    )
    if staff is not None:
        performers = performers.filter(user=staff)
    staff_ids = sorted(performers.values_list("user_id", flat=True))
    if not staff_ids:
        return []

    # The whole local day, whatever its length (23 or 25 hours on a DST change day).
    day_start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    # Any salon's appointment makes a person busy: one can't be in two places at once.
    appointments = Appointment.objects.filter(
        staff_member_id__in=staff_ids, status=Appointment.Status.BOOKED,
        starts_at__lt=day_end, ends_at__gt=day_start,
    ).values_list("staff_member_id", "starts_at", "ends_at")
    for staff_id, starts_at, ends_at in appointments:
        busy.setdefault(staff_id, []).append((starts_at, ends_at))

    return free_slots(
        day=day, tz=tz, hours=hours, closed=closed,
        duration=timedelta(minutes=service.duration_minutes),
        step=timedelta(minutes=booking.slot_step_minutes),
        busy=busy, staff_ids=staff_ids, now=now,
        min_notice=timedelta(minutes=booking.min_notice_minutes),
        horizon_end=now + timedelta(days=booking.horizon_days),
    )
