"""The salon's public booking page and the client's manage page.

Views stay thin: they read the request, call booking.selectors / outreach.online_booking, and render.
Steps are plain links and one form, so the page works without JavaScript: service → (optional)
staff member → day → time → details and consents → confirm.
"""

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from appointments.models import Appointment
from booking.models import BookingSettings, Service
from booking.selectors import bookable_services, bookable_staff, booking_settings, slots_for_days
from consents.links import form_url, new_preference_token
from consents.selectors import current_wordings
from consents.services import Evidence
from core.contacts import phone_key
from core.links import LinkInvalid, token_hash
from core.ratelimit import allow
from core.web import client_ip, public_page, public_page_language
from outreach.forms import FORM_MAX_AGE, BookingForm
from outreach.online_booking import (
    PHONE_MAX_LENGTH,
    BookingInProgress,
    CannotCancel,
    SlotTaken,
    book_online_once,
    cancel_online,
    cancellation_deadline,
    cancellation_refusal,
    next_free_slots,
    resolve_manage_link,
)
from salons.models import Salon

DAYS_SHOWN = 7
# Per client IP and per phone number; a salon's front desk booking for walk-ins stays well below.
POSTS_PER_IP, POSTS_PER_PHONE, POST_WINDOW = 20, 5, 3600
DONE_SALT, DONE_MAX_AGE = "booking.done", 3600
AT_FORMAT = "%Y-%m-%dT%H:%MZ"


def _language(request, salon=None) -> str:
    """?lang= if offered, else the browser's preferred language, else the salon's."""
    return public_page_language(request, salon.language if salon is not None else settings.LANGUAGE_CODE)


def _page(request, template, context, *, status=200, language, booking=None, embeddable=True):
    """A booking page: embeddable in the salon's own site (its listed origins), nowhere else."""
    embed_in = (booking.site_origins() if booking is not None else []) if embeddable else None
    return public_page(request, template, context, status=status, language=language, embed_in=embed_in)


def _not_found(request, language):
    return _page(request, "booking/not_found.html", {}, status=404, language=language)


def _salon_or_none(slug: str):
    salon = Salon.objects.filter(slug=slug).first()
    if salon is None:
        return None, None
    booking = booking_settings(salon)
    return (salon, booking) if booking is not None else (None, None)


def _service_or_none(salon, service_id: int) -> Service | None:
    return Service.objects.filter(salon=salon, pk=service_id, active=True).select_related("salon").first()


def _salon_and_service(request, slug: str, service_id: int):
    """(salon, booking settings, service, language, None) for a bookable service, else a 404 page last."""
    salon, booking = _salon_or_none(slug)
    if salon is None:
        return None, None, None, "", _not_found(request, _language(request))
    language = _language(request, salon)
    service = _service_or_none(salon, service_id)
    if service is None:
        return salon, booking, None, language, _not_found(request, language)
    return salon, booking, service, language, None


def _staff_choice(request, salon, service):
    """(performers, chosen one or None); an unknown staff id is ignored (anyone)."""
    performers = bookable_staff(salon, service)
    wanted = request.GET.get("staff") or request.POST.get("staff") or ""
    chosen = next((person for person in performers if str(person.pk) == wanted), None)
    return performers, chosen


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_at(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", AT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _slot_links(book_url: str, slots, *, language: str, staff, tz) -> list[tuple[datetime, str]]:
    """(local start, link to the details step) per slot; `at` is the UTC start, unambiguous on DST days."""
    base = {"lang": language, **({"staff": staff.pk} if staff else {})}
    return [(slot.local_start(tz), f"{book_url}?{urlencode({**base, 'at': slot.start.strftime(AT_FORMAT)}, safe=':')}")
            for slot in slots]


def staff_name(user) -> str:
    return user.first_name or user.get_username()


@xframe_options_exempt
def services(request, slug: str):
    """Step 1: what to book."""
    salon, booking = _salon_or_none(slug)
    if salon is None:
        return _not_found(request, _language(request))
    language = _language(request, salon)
    return _page(request, "booking/services.html", {"salon": salon, "offered": bookable_services(salon, language)},
                 language=language, booking=booking)


@xframe_options_exempt
def slots(request, slug: str, service_id: int):
    """Steps 2–4: who (optional), which day, which time."""
    salon, booking, service, language, missing = _salon_and_service(request, slug, service_id)
    if missing:
        return missing
    tz = ZoneInfo(salon.time_zone)
    now = timezone.now()
    today = now.astimezone(tz).date()
    last_day = today + timedelta(days=booking.horizon_days)
    wanted = _parse_day(request.GET.get("from")) or _parse_day(request.GET.get("day")) or today
    start = min(max(wanted, today), last_day)
    days = [start + timedelta(days=offset) for offset in range(DAYS_SHOWN)]
    days = [day for day in days if day <= last_day]
    performers, chosen = _staff_choice(request, salon, service)
    by_day = slots_for_days(salon=salon, service=service, days=days, staff=chosen, now=now, settings=booking)
    selected = _parse_day(request.GET.get("day"))
    if selected not in by_day:
        selected = next((day for day in days if by_day[day]), days[0])
    book_url = reverse("booking-details", args=[salon.slug, service.pk])
    slot_links = _slot_links(book_url, by_day[selected], language=language, staff=chosen, tz=tz)
    return _page(request, "booking/slots.html", {
        "salon": salon, "service": service, "service_name": service.name_for(language),
        "performers": [(person, staff_name(person)) for person in performers], "chosen": chosen,
        "days": [(day, len(by_day[day])) for day in days], "selected": selected, "slot_links": slot_links,
        "earlier": start - timedelta(days=DAYS_SHOWN) if start > today else None,
        "earlier_from": max(start - timedelta(days=DAYS_SHOWN), today),
        "later": days[-1] + timedelta(days=1) if days[-1] < last_day else None,
        "staff_query": f"staff={chosen.pk}&" if chosen else "",
    }, language=language, booking=booking)


def _origin_ok(request) -> bool:
    """A POST must come from our own pages (inside the salon's iframe too): Origin, else Referer, is ours."""
    source = request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_REFERER") or ""
    if not source:
        return False
    parts = urlsplit(source)
    origin = f"{parts.scheme}://{parts.netloc}"
    ours = {f"{request.scheme}://{request.get_host()}", *(_origin(url) for url in settings.CSRF_TRUSTED_ORIGINS),
            _origin(settings.PUBLIC_BASE_URL)}
    return origin in ours


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _phone_key(salon, phone: str) -> str:
    """One key per number however it is written (E.164 when it parses, else its digits)."""
    normalised = phone_key(phone[:PHONE_MAX_LENGTH], salon.phone_region) or re.sub(r"\D", "", phone or "")
    return hashlib.sha256(normalised.encode()).hexdigest()[:32]


@csrf_exempt  # embedded in the salon's site the CSRF cookie is dropped; _origin_ok and form_token stand in
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def details(request, slug: str, service_id: int):
    """Steps 5–6: who is booking and which optional consents they give; then confirm."""
    salon, booking, service, language, missing = _salon_and_service(request, slug, service_id)
    if missing:
        return missing
    if request.method == "POST" and not _origin_ok(request):
        return _page(request, "booking/refused.html", {"salon": salon, "reason": "origin"}, status=403,
                     language=language, booking=booking)
    tz = ZoneInfo(salon.time_zone)
    _performers, chosen = _staff_choice(request, salon, service)
    at = _parse_at(request.GET.get("at") or request.POST.get("at"))
    slots_url = reverse("booking-slots", args=[salon.slug, service.pk])
    back_query = urlencode({"lang": language, **({"staff": chosen.pk} if chosen else {}),
                            **({"day": at.astimezone(tz).date().isoformat()} if at else {})})
    context = {
        "salon": salon, "service": service, "service_name": service.name_for(language), "chosen": chosen,
        "chosen_name": staff_name(chosen) if chosen else "", "slots_url": f"{slots_url}?{back_query}",
        "cancellation_notice_hours": booking.cancellation_notice_hours,
    }
    if at is None:
        return _page(request, "booking/refused.html", {**context, "reason": "time"}, status=400,
                     language=language, booking=booking)
    context.update(at=at, at_param=at.strftime(AT_FORMAT), local_at=at.astimezone(tz),
                   cancellable_online=timezone.now() <= cancellation_deadline(at, booking))

    with translation.override(language):
        wordings = current_wordings(salon=salon, language=language)
        form = BookingForm(request.POST if request.method == "POST" else None, salon=salon, wordings=wordings,
                           language=language)
        taken_slots = None
        status = 200
        if request.method == "POST":
            ip_ok = allow(f"booking-post-ip:{client_ip(request)}", limit=POSTS_PER_IP, window=POST_WINDOW)
            phone_ok = allow(f"booking-post-phone:{salon.pk}:{_phone_key(salon, request.POST.get('phone', ''))}",
                             limit=POSTS_PER_PHONE, window=POST_WINDOW)
            if not (ip_ok and phone_ok):
                return _page(request, "booking/refused.html", {**context, "reason": "too_many"}, status=429,
                             language=language, booking=booking)
            if form.is_valid():
                try:
                    appointment_id = book_online_once(
                        stamp=form.stamp, stamp_max_age=FORM_MAX_AGE,
                        salon=salon, service=service, starts_at=at, staff=chosen, consents=form.ticked(),
                        wordings=form.cleaned_data["shown"], evidence=Evidence.from_request(request),
                        booking=booking, **form.details(),
                    )
                except BookingInProgress:
                    form.add_error(None, _("This booking is already being sent. Please wait a moment."))
                except SlotTaken as taken:
                    taken_slots, status = taken.next_slots, 409
                except ValidationError as error:
                    _add_errors(form, error)
                else:
                    return _redirect_done(salon, appointment_id, language)
            if form.errors:
                status = 400
        else:
            # Shown again on arrival: a time taken since the list was shown is said at once, not after typing.
            day_slots = slots_for_days(salon=salon, service=service, days=[at.astimezone(tz).date()],
                                       staff=chosen, settings=booking)
            if not any(slot.start == at for slots_ in day_slots.values() for slot in slots_):
                taken_slots = next_free_slots(salon=salon, service=service, after=at, staff=chosen)
                status = 409
    if taken_slots is not None:
        context["taken_links"] = _slot_links(request.path, taken_slots, language=language, staff=chosen, tz=tz)
    context.update(form=form, taken=taken_slots is not None)
    return _page(request, "booking/details.html", context, status=status, language=language, booking=booking)


def _redirect_done(salon, appointment_id: int, language: str):
    # Signed without a time stamp, so a page sent twice gets the very same answer whenever each send
    # lands; the page expires DONE_MAX_AGE after the booking (see `done`).
    done = signing.Signer(salt=DONE_SALT).sign(str(appointment_id))
    return redirect(f"{reverse('booking-done', args=[salon.slug, done])}?lang={language}")


def _add_errors(form: BookingForm, error: ValidationError) -> None:
    """Put the booking service's per-field errors on the form; the rest at the top."""
    fields = set(form.fields)
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in fields else None, message)


@xframe_options_exempt
def done(request, slug: str, signed: str):
    """After booking: what was booked, and what comes next."""
    salon, booking = _salon_or_none(slug)
    language = _language(request, salon) if salon else settings.LANGUAGE_CODE
    try:
        appointment_id = int(signing.Signer(salt=DONE_SALT).unsign(signed))
    except (signing.BadSignature, ValueError):
        appointment_id = None
    recent = timezone.now() - timedelta(seconds=DONE_MAX_AGE)
    appointment = (Appointment.objects.select_related("staff_member")
                   .filter(pk=appointment_id, salon=salon, created_at__gte=recent).first()
                   if salon is not None and appointment_id else None)
    if appointment is None:
        return _not_found(request, language)
    tz = ZoneInfo(salon.time_zone)
    return _page(request, "booking/done.html", {
        "salon": salon, "appointment": appointment, "local_at": appointment.starts_at.astimezone(tz),
        "staff_name": staff_name(appointment.staff_member) if appointment.staff_member else "",
        "again_url": reverse("booking-services", args=[salon.slug]),
    }, language=language, booking=booking)


def _manage_link_or_page(request, token: str):
    try:
        return resolve_manage_link(token), None
    except LinkInvalid as error:
        language = _language(request)
        return None, _page(request, "consents/invalid_link.html", {"expired": error.status == 410},
                           status=error.status, language=language, embeddable=False)


@require_http_methods(["GET", "POST"])
def manage(request, token: str):
    """The client's own booking: see it, cancel it up to the salon's notice, open the preference page."""
    link, error_page = _manage_link_or_page(request, token)
    if error_page:
        return error_page
    appointment = link.appointment
    client, salon = appointment.client, appointment.client.salon
    language = public_page_language(request, salon.language, known=client.language)
    booking = BookingSettings.objects.filter(salon=salon).first()  # the notice applies even with booking off
    error, confirm_cancel = "", False
    if request.method == "POST":
        if not allow(f"booking-manage:{token_hash(token)[:32]}", limit=10, window=600):
            return _page(request, "consents/too_many.html", {}, status=429, language=language, embeddable=False)
        action = request.POST.get("action")
        confirm_cancel = action == "confirm_cancel"
        if action == "preferences":
            return redirect(f"{form_url(new_preference_token(client))}?lang={language}")
        if action == "cancel":
            try:
                with translation.override(language):
                    cancel_online(link=link)
            except CannotCancel as refused:
                error = str(refused)
            else:
                return redirect(f"{request.path}?cancelled=1&lang={language}")
        appointment.refresh_from_db()
    tz = ZoneInfo(salon.time_zone)
    deadline = cancellation_deadline(appointment.starts_at, booking)
    can_cancel = not cancellation_refusal(appointment, booking, now=timezone.now())
    return _page(request, "booking/manage.html", {
        "salon": salon, "appointment": appointment, "local_at": appointment.starts_at.astimezone(tz),
        "deadline": deadline.astimezone(tz), "can_cancel": can_cancel, "error": error,
        "cancelled": request.GET.get("cancelled") == "1", "confirm_cancel": confirm_cancel and can_cancel,
        "staff_name": staff_name(appointment.staff_member) if appointment.staff_member else "",
        "token": token,
    }, status=400 if error else 200, language=language, embeddable=False)

