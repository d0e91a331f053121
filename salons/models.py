import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from phonenumbers import SUPPORTED_REGIONS

from core.vocabulary import SENDABLE_CHANNELS, Channel


def _validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone, e.g. Europe/Rome."), params={"value": value})


def _validate_region(value):
    if value not in SUPPORTED_REGIONS:
        raise ValidationError(
            _("“%(value)s” is not a phone region code; use two capital letters, e.g. IT, FR, DE, FI."),
            params={"value": value},
        )


def _validate_transactional_channels(value):
    allowed = {c.value for c in SENDABLE_CHANNELS}
    if not isinstance(value, list) or not set(value) <= allowed:
        raise ValidationError(_("Choose among: %(allowed)s."), params={"allowed": ", ".join(sorted(allowed))})


def _default_transactional_channels():
    return [Channel.SMS.value]


# An alphanumeric sender ID: up to 11 letters, digits and spaces, at least one letter.
sender_id_validator = RegexValidator(
    r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$",
    _("A sender ID has at most 11 letters, digits or spaces, with at least one letter."),
)


class Salon(models.Model):
    """A salon: the tenant. Staff see only their salon's clients, consents and messages."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)
    sms_sender_id = models.CharField(
        _("SMS sender ID"), max_length=11, blank=True, validators=[sender_id_validator],
        help_text=_("Alphanumeric sender shown on the client's phone; such a sender cannot receive replies."),
    )
    phone_region = models.CharField(
        _("default phone region"), max_length=2, default="IT", validators=[_validate_region],
        help_text=_("Phone numbers typed without an international prefix are read as this country's."),
    )
    language = models.CharField(_("default language"), max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Rome", validators=[_validate_time_zone])
    default_transactional_channels = models.JSONField(
        _("default transactional channels"), default=_default_transactional_channels,
        validators=[_validate_transactional_channels],
        help_text=_("Where appointment messages go for clients who never stated a service preference."),
    )
    consent_request_cooldown_days = models.PositiveSmallIntegerField(
        _("consent request cooldown (days)"), default=30,
        help_text=_("No new privacy authorisation request within this many days of the last one."),
    )
    consent_link_days = models.PositiveSmallIntegerField(
        _("consent link validity (days)"), default=30, validators=[MinValueValidator(1)],
    )
    consent_validity_months = models.PositiveSmallIntegerField(
        _("marketing consent validity (months)"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("After this, a marketing or personalised grant lapses and needs renewal. Empty: no limit."),
    )
    email_soft_opt_in = models.BooleanField(
        _("email soft opt-in for existing clients"), default=False,
        help_text=_("ePrivacy art. 13(2): marketing email about similar services to existing clients "
                    "who did not object. Never applies to SMS."),
    )
    dormant_months = models.PositiveSmallIntegerField(
        _("dormant after (months without a visit)"), default=12, validators=[MinValueValidator(1)],
    )
    reminder_hours_before = models.PositiveSmallIntegerField(
        _("reminder (hours before the appointment)"), default=24, validators=[MinValueValidator(1)],
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours start"), default=datetime.time(21, 0),
        help_text=_("No reminders from this time (salon time)…"),
    )
    quiet_hours_end = models.TimeField(_("quiet hours end"), default=datetime.time(8, 0),
                                       help_text=_("…until this time; they go out then instead."))
    message_retention_months = models.PositiveSmallIntegerField(
        _("keep message texts (months)"), default=24, validators=[MinValueValidator(1)],
        help_text=_("After this, `purge` blanks old message bodies; the outcome rows stay."),
    )
    erasure_proposal_months = models.PositiveSmallIntegerField(
        _("propose erasure after (months without a visit)"), default=36, validators=[MinValueValidator(1)],
    )
    # Who is responsible for the clients' data and how to reach them (GDPR art. 13(1)(a)): shown on the
    # privacy notice, the consent form, the booking pages and in consent receipts.
    legal_name = models.CharField(
        _("legal name"), max_length=200, blank=True,
        help_text=_("The business or person responsible for your clients' data, as on your invoices. "
                    "Empty: the salon's name."),
    )
    address = models.CharField(_("address"), max_length=300, blank=True,
                               help_text=_("Street, postcode and town, as clients should see it."))
    contact_phone = PhoneNumberField(
        _("phone for clients"), blank=True,
        help_text=_("Shown to clients wherever they are told to call the salon."),
    )
    contact_email = models.EmailField(_("email for clients"), blank=True,
                                      help_text=_("Where clients write about their data and their bookings."))
    sms_price_per_segment = models.PositiveIntegerField(_("SMS price per segment (credits)"), default=1)
    email_price = models.PositiveIntegerField(_("email price (credits)"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("salon")
        verbose_name_plural = _("salons")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def controller_name(self) -> str:
        """The data controller's name as clients see it: the legal name, else the salon's name."""
        return self.legal_name or self.name


class Membership(models.Model):
    """A staff user's place in a salon: owners manage the salon, staff manage clients."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("salon"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [models.UniqueConstraint(fields=["salon", "user"], name="one_membership_per_salon_and_user")]

    def __str__(self):
        return f"{self.user} @ {self.salon} ({self.get_role_display()})"
