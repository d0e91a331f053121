"""Online booking: a client books a free slot, consents to what they tick, and gets a confirmation.

One transaction writes the client (new or matched), the appointment and the register entries, and
queues the confirmation. Two bookings of one staff member's overlapping time never both succeed:
on PostgreSQL the exclusion constraint `no_overlapping_bookings_per_staff` refuses the loser; on
SQLite the overlap check runs inside the (IMMEDIATE, so serialised) transaction. The loser gets
`SlotTaken` with the next free slots and nothing of its booking is written.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from appointments.models import Appointment
from booking.models import BookingSettings, ManageLink, Service
from booking.selectors import slots_for, slots_for_days
from booking.slots import Slot
from clients.models import Client
from clients.services import create_client
from clients.suppression import is_suppressed
from consents.models import ConsentWording, Source
from consents.selectors import current_wordings
from consents.services import ConsentChange, Evidence, record_consent
from core.contacts import normalise_email, parse_phone
from core.db import serialise_on
from core.vocabulary import CONSENT_CHANNELS, LANGUAGE_CODES, PER_CHANNEL_PURPOSES, Channel, MessageKind, Purpose
from outreach.appointments import cancel_appointment, notify

OVERLAP_CONSTRAINT = "no_overlapping_bookings_per_staff"
NAME_MAX_LENGTH = 80
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 32
NEXT_SLOTS = 5
NEXT_SLOTS_DAYS = 14
MANAGE_LINK_DAYS_AFTER = 30  # the link still opens the preference page a month after the visit


# The advisory-lock namespace of online bookings (per performer); any constant unique to this use.
BOOKING_LOCK = 7301


class SlotTaken(Exception):
    """The slot was just taken (or is no longer offered); `next_slots` are the next free ones."""

    def __init__(self, next_slots: list[Slot]):
        super().__init__(_("This time was just taken. Please choose another one."))
        self.next_slots = next_slots


class _Overlap(Exception):
    """Raised inside the transaction so that it rolls back; turned into SlotTaken outside."""


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    client: Client
    created_client: bool
    flagged_suppressed: bool


def _clean_details(*, salon, first_name, last_name, phone, email, language, consents):
    """Check every field before anything is written; raises ValidationError per field."""
    errors: dict[str, list[str]] = {}
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        errors["first_name"] = [_("Please enter your first name.")]
    elif len(first_name) > NAME_MAX_LENGTH:
        errors["first_name"] = [_("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]
    if not last_name:
        errors["last_name"] = [_("Please enter your last name.")]
    elif len(last_name) > NAME_MAX_LENGTH:
        errors["last_name"] = [_("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]

    number = None
    phone = (phone or "").strip()
    if not phone:
        errors["phone"] = [_("Please enter your phone number.")]
    elif len(phone) > PHONE_MAX_LENGTH:
        errors["phone"] = [_("At most %(max)d characters.") % {"max": PHONE_MAX_LENGTH}]
    else:
        try:
            number = parse_phone(phone, salon.phone_region)
        except ValidationError as error:
            errors["phone"] = error.messages

    email = normalise_email(email or "")
    if email:
        if len(email) > EMAIL_MAX_LENGTH:
            errors["email"] = [_("At most %(max)d characters.") % {"max": EMAIL_MAX_LENGTH}]
        else:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = [_("“%(email)s” is not a valid email address.") % {"email": email}]

    if language not in LANGUAGE_CODES:
        errors["language"] = [_("Choose one of the languages offered.")]

    ticked: list[tuple[str, str]] = []
    for purpose, channel in consents or []:
        channel = channel or ""
        valid = purpose in Purpose.values and (
            channel in CONSENT_CHANNELS if purpose in PER_CHANNEL_PURPOSES else channel == ""
        )
        if not valid:
            errors.setdefault("consents", []).append(_("One of the consent choices is not offered."))
            break
        if (purpose, channel) not in ticked:
            ticked.append((purpose, channel))

    if not email and "email" not in errors and any(channel == Channel.EMAIL for _purpose, channel in ticked):
        errors["email"] = [_("Enter your email address to receive messages by email, or untick “By email”.")]
    if errors:
        raise ValidationError(errors)
    return first_name, last_name, number, email, ticked


def next_free_slots(*, salon, service: Service, after: datetime, staff=None, now=None,
                    limit: int = NEXT_SLOTS, settings: BookingSettings | None = None) -> list[Slot]:
    """The first `limit` free slots starting at or after `after`, looking up to two weeks ahead."""
    tz = ZoneInfo(salon.time_zone)
    day = after.astimezone(tz).date()
    days = [day + timedelta(days=offset) for offset in range(NEXT_SLOTS_DAYS)]
    by_day = slots_for_days(salon=salon, service=service, days=days, staff=staff, now=now,
                            settings=settings)  # one set of queries
    return [slot for slots in by_day.values() for slot in slots if slot.start >= after][:limit]


def _match_client(salon, *, number, email) -> Client | None:
    """A live client of this salon with that phone, else that email (oldest first); never an erased one."""
    clients = Client.objects.filter(salon=salon, erased_at__isnull=True).order_by("pk")
    if number is not None:
        match = clients.filter(phone=number.as_e164).first()
        if match is not None:
            return match
    if email:
        return clients.filter(email__iexact=email).first()
    return None


def book_online(*, salon, service: Service, starts_at: datetime, staff=None, first_name: str, last_name: str,
                phone: str, email: str, language: str, consents: list[tuple[str, str]], evidence: Evidence,
                wordings: dict[str, ConsentWording] | None = None, now: datetime | None = None,
                booking: BookingSettings | None = None) -> BookingResult:
    """Book `service` at `starts_at` for the person who filled in the booking page.

    Raises ValidationError (per field) for bad input and SlotTaken when the slot is not free (any
    more); in both cases nothing is written. Only the boxes ticked now are recorded, as grants:
    an unticked box writes nothing, so what the client withdrew earlier stays withdrawn.
    `wordings` are the versions the page showed (by purpose); without them, the current ones.
    `booking` is the salon's booking settings when the caller has them already (else read here).
    """
    first_name, last_name, number, email, ticked = _clean_details(
        salon=salon, first_name=first_name, last_name=last_name, phone=phone, email=email,
        language=language, consents=consents,
    )
    if service.salon_id != salon.pk:
        raise ValidationError({"service": [_("This service is not offered by this salon.")]})
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": [_("Choose one of the times offered.")]})
    starts_at = starts_at.astimezone(UTC)
    if wordings is None:
        wordings = current_wordings(salon=salon, language=language) if ticked else {}
    elif any(w.salon_id not in (None, salon.pk) for w in wordings.values()):
        raise ValidationError({"consents": [_("One of the consent choices is not offered.")]})
    if any(purpose not in wordings for purpose, _channel in ticked):
        raise ValidationError({"consents": [_("One of the consent choices is not offered.")]})

    def taken() -> SlotTaken:
        return SlotTaken(next_free_slots(salon=salon, service=service, after=starts_at, staff=staff, now=now,
                                         settings=booking))

    day = starts_at.astimezone(ZoneInfo(salon.time_zone)).date()
    slot = next((s for s in slots_for(salon=salon, service=service, day=day, staff=staff, now=now, settings=booking)
                 if s.start == starts_at), None)
    if slot is None:
        raise taken()
    performer_id = staff.pk if staff is not None else slot.staff_ids_free[0]
    ends_at = slot.end

    try:
        with transaction.atomic():
            # One booking of a performer at a time: concurrent inserts checked against each other's
            # uncommitted rows by the exclusion constraint would deadlock instead of one waiting. After the
            # wait this check sees the winner's committed row (on SQLite the transaction holds the write
            # lock from BEGIN). The constraint stays as the database's guarantee.
            serialise_on(BOOKING_LOCK, performer_id)
            if Appointment.objects.filter(staff_member_id=performer_id, status=Appointment.Status.BOOKED,
                                          starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
                raise _Overlap
            client, created, flagged = _client_for(
                salon, number=number, email=email, first_name=first_name, last_name=last_name, language=language,
            )
            appointment = Appointment(salon=salon, client=client, starts_at=starts_at, ends_at=ends_at,
                                      service=service.name_for(client.language), staff_member_id=performer_id,
                                      source=Appointment.Source.ONLINE)
            # The salon, the client and the performer are rows just read or written here: their foreign keys
            # need no lookup (and the overlap constraint is the database's, checked at insert).
            appointment.full_clean(exclude=["salon", "client", "staff_member"], validate_constraints=False)
            appointment.save()
            if ticked:
                record_consent(
                    client=client, source=Source.BOOKING_WIDGET, evidence=evidence,
                    changes=[ConsentChange(purpose, True, channel, wordings[purpose]) for purpose, channel in ticked],
                )
            link = new_manage_link(appointment=appointment)
            notify(appointment=appointment, kind=MessageKind.APPOINTMENT_CONFIRMATION, now=now, link=link,
                   context={"link": link.redacted_url("booking-manage")})
    except _Overlap:
        raise taken() from None
    except IntegrityError as error:
        if OVERLAP_CONSTRAINT not in str(error):
            raise
        raise taken() from None
    return BookingResult(appointment=appointment, client=client, created_client=created, flagged_suppressed=flagged)


def _client_for(salon, *, number, email, first_name, last_name, language) -> tuple[Client, bool, bool]:
    """(client, created, flagged): the matched live client, else a new one flagged if its contact was erased."""
    match = _match_client(salon, number=number, email=email)
    if match is not None:
        return match, False, False
    flagged = is_suppressed(salon, phone=number, email=email)
    notes = ""
    if flagged:
        with override(salon.language):
            notes = _("Booked online with a phone or email of an erased client: no earlier consent carries over; "
                      "check before using it.")
    client = create_client(salon=salon, first_name=first_name, last_name=last_name, phone=number or "",
                           email=email, language=language, notes=notes)
    return client, True, flagged


def new_manage_link(*, appointment: Appointment) -> ManageLink:
    """A manage link for an appointment (its token is derived when the confirmation is sent, never stored)."""
    link, _token = ManageLink.issue(
        appointment=appointment, expires_at=appointment.starts_at + timedelta(days=MANAGE_LINK_DAYS_AFTER)
    )
    return link


def resolve_manage_link(token: str, *, now: datetime | None = None) -> ManageLink:
    """The valid manage link for a token, with its appointment, client and salon; raises LinkInvalid(404/410)."""
    return ManageLink.resolve(token, now=now)


def cancellation_deadline(starts_at: datetime, settings_: BookingSettings | None) -> datetime:
    """The last moment the client may cancel online: the salon's cancellation notice before the start."""
    hours = settings_.cancellation_notice_hours if settings_ is not None else 24
    return starts_at - timedelta(hours=hours)


class CannotCancel(Exception):
    """The appointment can no longer be cancelled online; the message says why, in the client's language."""


def cancellation_refusal(appointment: Appointment, settings_: BookingSettings | None, *, now: datetime) -> str:
    """Why the client may not cancel this appointment online now ("" when they may), in the active language."""
    if appointment.status == Appointment.Status.CANCELLED:
        return _("This appointment is already cancelled.")
    if appointment.status != Appointment.Status.BOOKED or appointment.starts_at <= now:
        return _("This appointment can no longer be cancelled.")
    if now > cancellation_deadline(appointment.starts_at, settings_):
        return _("It is too late to cancel online. Please call the salon.")
    return ""


def cancel_online(*, link: ManageLink, now: datetime | None = None) -> Appointment:
    """The client cancels through the manage link: before the deadline, once; a cancellation notice follows."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the row: a double click or two tabs cancel once and send one notice.
        appointment = Appointment.objects.select_for_update().select_related("salon", "client").get(
            pk=link.appointment_id
        )
        refusal = cancellation_refusal(
            appointment, BookingSettings.objects.filter(salon=appointment.salon).first(), now=now
        )
        if refusal:
            raise CannotCancel(refusal)
        return cancel_appointment(appointment=appointment, by=Appointment.CancelledBy.CLIENT, now=now)


class BookingInProgress(Exception):
    """The same booking page was sent again while its first send is still booking."""


def book_online_once(*, stamp: str, stamp_max_age: int, **booking) -> int:
    """Book from one page at most once: a double tap or a resend gets the first send's appointment id.

    `stamp` is the page's single-use form stamp; the first send claims it in the cache (Redis in
    production) and books with `book_online(**booking)`; a later send of the same page waits briefly
    for that booking and answers with it, or raises BookingInProgress. A send that fails (slot taken,
    invalid details) frees the stamp, so the corrected page may book.
    """
    key = f"booking-stamp:{stamp}"
    if not cache.add(key, 0, timeout=stamp_max_age):
        appointment_id = _wait_for_first_send(key)
        if appointment_id:
            return appointment_id
        raise BookingInProgress
    try:
        result = book_online(**booking)
    except BaseException:
        cache.delete(key)
        raise
    cache.set(key, result.appointment.pk, timeout=stamp_max_age)
    return result.appointment.pk


def _wait_for_first_send(key: str, *, seconds: float = 5.0) -> int | None:
    """The appointment the first send of a page booked, waiting briefly while it is still in progress."""
    deadline = time.monotonic() + seconds
    while True:
        appointment_id = cache.get(key)
        if appointment_id or appointment_id is None or time.monotonic() >= deadline:
            return appointment_id or None
        time.sleep(0.1)


__all__ = ["BookingInProgress", "BookingResult", "CannotCancel", "SlotTaken", "book_online", "book_online_once",
           "cancel_online", "cancellation_refusal",
           "new_manage_link", "next_free_slots", "resolve_manage_link"]
