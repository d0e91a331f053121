"""The agenda's changes and the messages they trigger: confirmation, cancellation, review request, reminders.

Each message goes through the outbox on every channel the policy allows; dedupe keys make running
any of this twice (or on two beat nodes at once) send each message once.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from consents.policy import decide
from consents.selectors import client_states
from core.vocabulary import SENDABLE_CHANNELS, Channel, MessageKind
from messaging.models import Message
from messaging.services import enqueue_message
from salons.models import Salon


def _allowed_channels(client: Client, kind: str, *, now=None) -> list[str]:
    state = client_states([client], now=now)[client.pk]
    return [channel.value for channel in SENDABLE_CHANNELS if decide(state, kind, channel).allowed]


def notify(*, appointment: Appointment, kind: str, channels: list[str] | None = None, now=None,
           context: dict | None = None, link=None) -> list[Message]:
    """Queue an appointment message on every channel the policy allows now (the worker decides again).

    `context` adds to the template's context and `link` is the personal link it carries (the online
    booking's manage link, redacted in the stored text).
    """
    client = appointment.client
    if channels is None:
        channels = _allowed_channels(client, kind, now=now)
    expires_at = appointment.starts_at if kind in (MessageKind.APPOINTMENT_CONFIRMATION,
                                                   MessageKind.APPOINTMENT_REMINDER) else None
    return [
        enqueue_message(client=client, kind=kind, channel=channel, appointment=appointment,
                        dedupe_key=f"{kind}:{appointment.pk}:{channel}", expires_at=expires_at, context=context,
                        link=link)
        for channel in channels
    ]


@transaction.atomic
def book_appointment(*, salon: Salon, client: Client, starts_at: datetime, ends_at: datetime, service: str,
                     staff_member=None) -> Appointment:
    """Put an appointment in the agenda and queue its confirmation."""
    appointment = Appointment(salon=salon, client=client, starts_at=starts_at, ends_at=ends_at, service=service,
                              staff_member=staff_member)
    appointment.full_clean()
    appointment.save()
    notify(appointment=appointment, kind=MessageKind.APPOINTMENT_CONFIRMATION)
    return appointment


@transaction.atomic
def save_at_desk(*, appointment: Appointment) -> Appointment:
    """An appointment added or edited at the desk, all fields at once: saved, then what its status calls for.

    A new one is confirmed; a change of status is notified (cancellation) or followed up (a visit done).
    """
    previous = (Appointment.objects.filter(pk=appointment.pk).values_list("status", flat=True).first()
                if appointment.pk else None)
    if appointment.status == Appointment.Status.CANCELLED and previous != Appointment.Status.CANCELLED:
        appointment.cancelled_by = Appointment.CancelledBy.SALON
    elif appointment.status != Appointment.Status.CANCELLED:
        appointment.cancelled_by = ""
    appointment.save()
    if previous is None:
        notify(appointment=appointment, kind=MessageKind.APPOINTMENT_CONFIRMATION)
    else:
        after_status_change(appointment=appointment, previous_status=previous)
    return appointment


def after_status_change(*, appointment: Appointment, previous_status: str, now=None) -> None:
    """What follows a saved status change: a cancellation notice, or a visit and a review request."""
    if appointment.status == previous_status:
        return
    if appointment.status == Appointment.Status.CANCELLED:
        notify(appointment=appointment, kind=MessageKind.APPOINTMENT_CANCELLATION, now=now)
    elif appointment.status == Appointment.Status.DONE:
        visit = appointment.starts_at.astimezone(ZoneInfo(appointment.salon.time_zone)).date()
        client = appointment.client
        if client.last_visit is None or client.last_visit < visit:
            Client.objects.filter(pk=client.pk).update(last_visit=visit, lifecycle=Client.Lifecycle.CLIENT)
            client.last_visit, client.lifecycle = visit, Client.Lifecycle.CLIENT
        # One review request is enough: email first (it usually costs nothing), else SMS.
        allowed = _allowed_channels(client, MessageKind.REVIEW_REQUEST, now=now)
        if allowed:
            notify(appointment=appointment, kind=MessageKind.REVIEW_REQUEST,
                   channels=sorted(allowed, key=(Channel.EMAIL, Channel.SMS).index)[:1])


def _set_status(appointment: Appointment, status: str, *, now=None, **fields) -> Appointment:
    with transaction.atomic():
        previous = appointment.status
        Appointment.objects.filter(pk=appointment.pk).update(status=status, **fields)
        appointment.status = status
        for name, value in fields.items():
            setattr(appointment, name, value)
        after_status_change(appointment=appointment, previous_status=previous, now=now)
    return appointment


def cancel_appointment(*, appointment: Appointment, by: str = Appointment.CancelledBy.SALON, now=None) -> Appointment:
    """Cancel an appointment and queue the cancellation notice (held confirmations/reminders expire).

    `by` records who cancelled: the salon, or the client through the online booking's manage link.
    """
    return _set_status(appointment, Appointment.Status.CANCELLED, now=now, cancelled_by=by)


def complete_appointment(*, appointment: Appointment, now=None) -> Appointment:
    """Mark an appointment done: the client's last visit moves, and a review request may follow."""
    return _set_status(appointment, Appointment.Status.DONE, now=now)


def in_quiet_hours(moment: time, start: time, end: time) -> bool:
    """Whether a wall-clock time falls in the quiet hours (which may span midnight)."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def reminder_due(appointment: Appointment, salon: Salon) -> datetime:
    """When the reminder should go: N hours before, moved out of the quiet hours to their end."""
    tz = ZoneInfo(salon.time_zone)
    due = (appointment.starts_at - timedelta(hours=salon.reminder_hours_before)).astimezone(tz)
    if in_quiet_hours(due.time(), salon.quiet_hours_start, salon.quiet_hours_end):
        morning = datetime.combine(due.date(), salon.quiet_hours_end, tzinfo=tz)
        if morning <= due:  # quiet hours started the evening before: move to the next morning
            morning = datetime.combine(due.date() + timedelta(days=1), salon.quiet_hours_end, tzinfo=tz)
        due = morning
    return due


@dataclass(frozen=True)
class ReminderRun:
    due: int
    queued: int


def send_reminders(*, now=None) -> ReminderRun:
    """Queue the reminders that are due now. Idempotent: each reminder has one dedupe key per channel.

    A reminder moved out of the quiet hours to after the appointment has started is not sent.
    """
    now = now or timezone.now()
    longest = max(Salon.objects.values_list("reminder_hours_before", flat=True), default=0)
    candidates = (
        Appointment.objects.filter(status=Appointment.Status.BOOKED, starts_at__gt=now,
                                   starts_at__lte=now + timedelta(hours=longest + 24))
        .exclude(messages__kind=MessageKind.APPOINTMENT_REMINDER)
        .select_related("salon", "client__salon")
    )
    due = queued = 0
    for appointment in candidates.iterator(chunk_size=500):
        salon = appointment.salon
        when = reminder_due(appointment, salon)
        if when > now or when >= appointment.starts_at:
            continue
        local_now = now.astimezone(ZoneInfo(salon.time_zone)).time()
        if in_quiet_hours(local_now, salon.quiet_hours_start, salon.quiet_hours_end):
            continue  # a late run at night waits for the morning like everyone else
        due += 1
        with transaction.atomic():
            queued += sum(1 for m in notify(appointment=appointment, kind=MessageKind.APPOINTMENT_REMINDER, now=now)
                          if m.created_now and m.status == Message.Status.PENDING)
    return ReminderRun(due=due, queued=queued)
