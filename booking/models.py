"""The salon's online-booking catalogue: services, who performs them, opening hours and closed days."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment
from core.links import TokenLink
from core.vocabulary import LANGUAGE_CODES
from salons.models import Membership, Salon

SERVICE_NAME_MAX_LENGTH = 120


def _validate_site_origins(value):
    for line in value.splitlines():
        origin = line.strip()
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") \
                or parts.query or parts.fragment or parts.username or "*" in origin:
            raise ValidationError(
                _("“%(value)s” is not a site origin; write one per line, e.g. https://www.example.com"),
                params={"value": origin},
            )


def _validate_service_names(value):
    if not isinstance(value, dict) or not value:
        raise ValidationError(_("Give the service's name per language, e.g. {\"it\": \"Taglio\", \"en\": \"Cut\"}."))
    unknown = sorted(set(value) - set(LANGUAGE_CODES))
    if unknown:
        raise ValidationError(
            _("Unknown language(s): %(codes)s. Use: %(allowed)s."),
            params={"codes": ", ".join(map(str, unknown)), "allowed": ", ".join(sorted(LANGUAGE_CODES))},
        )
    for name in value.values():
        if not isinstance(name, str) or not name.strip() or len(name) > SERVICE_NAME_MAX_LENGTH:
            raise ValidationError(
                _("Each name is a text of 1 to %(max)s characters."), params={"max": SERVICE_NAME_MAX_LENGTH}
            )


def staff_outside_salon(salon_id, users) -> list:
    """The users among `users` who are not members of the salon (and so cannot perform its services)."""
    users = list(users)
    members = set(
        Membership.objects.filter(salon_id=salon_id, user__in=users).values_list("user_id", flat=True)
    )
    return [user for user in users if user.pk not in members]


class BookingSettings(models.Model):
    """How a salon takes bookings online: on or off, how far ahead, how late, where it is embedded."""

    salon = models.OneToOneField(
        Salon, on_delete=models.CASCADE, related_name="booking_settings", verbose_name=_("salon")
    )
    enabled = models.BooleanField(_("online booking enabled"), default=False)
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("Clients can book this many days ahead."),
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"), default=120,
        help_text=_("No online booking starting sooner than this."),
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("slot step (minutes)"), default=15, validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text=_("Offered start times are this many minutes apart."),
    )
    allowed_site_origins = models.TextField(
        _("websites allowed to embed the booking page"), blank=True, validators=[_validate_site_origins],
        help_text=_("One origin per line, e.g. https://www.example.com"),
    )
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        _("cancellation notice (hours)"), default=24,
        help_text=_("Clients can cancel online up to this many hours before the appointment."),
    )

    class Meta:
        verbose_name = _("booking settings")
        verbose_name_plural = _("booking settings")

    def __str__(self):
        return str(self.salon) if self.salon_id else str(_("booking settings"))

    def site_origins(self) -> list[str]:
        """The configured origins, normalised (no trailing slash), for `frame-ancestors`."""
        return [line.strip().rstrip("/") for line in self.allowed_site_origins.splitlines() if line.strip()]


class Service(models.Model):
    """Something a client can book: its name per language, how long it takes and the price shown."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="services", verbose_name=_("salon"))
    names = models.JSONField(
        _("name per language"), validators=[_validate_service_names],
        help_text=_("e.g. {\"it\": \"Taglio e piega\", \"en\": \"Cut & blow-dry\"}; the salon's language is required."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    price_display = models.CharField(_("price shown"), max_length=40, blank=True, help_text=_("e.g. €35"))
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="booking_services", verbose_name=_("performed by"),
        help_text=_("Salon members who perform this service; a service with nobody is not offered online."),
    )
    active = models.BooleanField(_("offered online"), default=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["salon", "ordering", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="service_duration_positive"),
        ]

    def __str__(self):
        return self.name_for(self.salon.language if self.salon_id else "en")

    def name_for(self, language: str) -> str:
        """The name in `language`, else in the salon's language, else any name given."""
        names = self.names if isinstance(self.names, dict) else {}
        if names.get(language):
            return names[language]
        if self.salon_id and names.get(self.salon.language):
            return names[self.salon.language]
        return next(iter(names.values()), "")

    def clean(self):
        if self.salon_id and isinstance(self.names, dict) and not self.names.get(self.salon.language):
            raise ValidationError({"names": ValidationError(
                _("Give at least the name in the salon's language (%(language)s)."),
                params={"language": self.salon.language},
            )})


@receiver(m2m_changed, sender=Service.staff.through)
def _refuse_staff_of_another_salon(sender, instance, action, reverse, pk_set, **kwargs):
    """Whatever adds performers (admin, shell, a service), only the salon's own members get in."""
    if action != "pre_add" or not pk_set:
        return
    user_model = Service.staff.field.related_model
    if reverse:  # user.booking_services.add(service…)
        pairs = [(service.salon_id, [instance]) for service in Service.objects.filter(pk__in=pk_set)]
    else:
        pairs = [(instance.salon_id, user_model.objects.filter(pk__in=pk_set))]
    for salon_id, users in pairs:
        if staff_outside_salon(salon_id, users):
            raise ValidationError(_("Only members of the salon can perform its services."))


class OpeningHours(models.Model):
    """One opening interval on a weekday, in the salon's wall-clock time; several per day for a break."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("salon"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["salon", "weekday", "opens"]
        indexes = [models.Index(fields=["salon", "weekday"], name="openinghours_salon_weekday")]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="openinghours_closes_after_opens"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.opens is None or self.closes is None:
            return
        if self.closes <= self.opens:
            raise ValidationError({"closes": _("The salon must close after it opens.")})
        if self.salon_id is not None and self.weekday is not None:
            overlapping = OpeningHours.objects.filter(
                salon_id=self.salon_id, weekday=self.weekday, opens__lt=self.closes, closes__gt=self.opens
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(_("These hours overlap other opening hours of the same day."))


class ClosedDay(models.Model):
    """A date the salon takes no bookings (holidays, training, …), whatever its weekly hours."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="closed_days", verbose_name=_("salon"))
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["salon", "date"]
        constraints = [models.UniqueConstraint(fields=["salon", "date"], name="one_closed_day_per_salon_and_date")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class ManageLink(TokenLink):
    """The client's link to manage one online booking (cancel, preferences): a random token stored hashed."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="manage_link", verbose_name=_("appointment")
    )

    resolve_related = ("appointment__client__salon", "appointment__staff_member")

    class Meta:
        verbose_name = _("booking management link")
        verbose_name_plural = _("booking management links")

    def __str__(self):
        return f"{self._meta.verbose_name} #{self.pk}"

    def holder_erased(self) -> bool:
        return self.appointment.client.is_erased
