from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from core.vocabulary import Channel
from salons.models import Salon


class SuppressionReason(models.TextChoices):
    """Why a channel may not be used for this client, whatever the consents say."""

    OPTED_OUT = "opted_out", _("Replied STOP")
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Spam complaint")
    INVALID = "invalid", _("Invalid number or address")
    ERASED = "erased", _("Client data erased")


class Client(models.Model):
    """A person in a salon's address book."""

    class Lifecycle(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CLIENT = "client", _("Client")
        DORMANT = "dormant", _("Dormant")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="clients", verbose_name=_("salon"))
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    language = models.CharField(_("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en")
    notes = models.TextField(_("notes"), blank=True)
    lifecycle = models.CharField(_("lifecycle"), max_length=10, choices=Lifecycle.choices, default=Lifecycle.PROSPECT)
    last_visit = models.DateField(_("last visit"), null=True, blank=True)
    is_restricted = models.BooleanField(
        _("processing restricted"), default=False,
        help_text=_("GDPR art. 18: the data is kept but nothing is sent to this client."),
    )
    sms_suppression = models.CharField(
        _("SMS suppressed"), max_length=12, choices=SuppressionReason.choices, blank=True
    )
    email_suppression = models.CharField(
        _("email suppressed"), max_length=12, choices=SuppressionReason.choices, blank=True
    )
    consent_requested_at = models.DateTimeField(
        _("last privacy authorisation request"), null=True, blank=True,
        help_text=_("When the last privacy authorisation request was sent; drives the cooldown."),
    )
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["salon", "phone"], name="client_salon_phone"),
            models.Index(fields=["salon", "email"], name="client_salon_email"),
            models.Index(fields=["salon", "last_name", "first_name"], name="client_salon_name"),
        ]

    def __str__(self):
        if self.erased_at:
            return _("Erased client #%(id)s") % {"id": self.pk}
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def suppression_for(self, channel: str) -> str:
        """The suppression reason on a channel, or '' when it is usable."""
        return {Channel.SMS: self.sms_suppression, Channel.EMAIL: self.email_suppression}.get(channel, "")

    def contact_for(self, channel: str) -> str:
        """The address a message on this channel goes to, or '' when there is none."""
        if channel == Channel.SMS:
            return self.phone.as_e164 if self.phone else ""
        if channel == Channel.EMAIL:
            return self.email
        return ""


class ErasureRequest(models.Model):
    """A client's request to erase their data, waiting for the salon to confirm within one month."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Erased")
        REFUSED = "refused", _("Refused")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="erasure_requests", verbose_name=_("client")
    )
    source = models.CharField(_("asked through"), max_length=20, default="form_link")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    due_at = models.DateTimeField(_("answer due by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    reason = models.CharField(
        _("reason"), max_length=255, blank=True,
        help_text=_("Why the data was erased or the request refused; kept as proof, so no names or contacts."),
    )

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=models.Q(status="pending"), name="one_pending_erasure_request"
            )
        ]

    def __str__(self):
        return f"{self.client} · {self.get_status_display()}"


class ContactChange(models.Model):
    """A staff rectification of a client's phone or email (GDPR art. 16): who, when, the old value masked.

    The old value is masked so the log proves a change without keeping the old contact usable;
    `cleared_suppression` records a STOP or bounce that belonged to the old contact and was lifted.
    """

    class Field(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="contact_changes", verbose_name=_("client")
    )
    field = models.CharField(_("field"), max_length=8, choices=Field.choices)
    old_value_masked = models.CharField(_("old value (masked)"), max_length=254, blank=True)
    cleared_suppression = models.CharField(
        _("suppression lifted"), max_length=12, choices=SuppressionReason.choices, blank=True,
        help_text=_("The old contact's suppression, which does not carry over to the new one."),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact change")
        verbose_name_plural = _("contact changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.client} · {self.get_field_display()} · {self.changed_at:%Y-%m-%d %H:%M}"


class SuppressedContact(models.Model):
    """A keyed hash (HMAC-SHA256) of an erased client's phone or email: a later import or booking with
    the same contact is flagged and gets no marketing without fresh consent. The contact itself is gone."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")

    class Reason(models.TextChoices):
        ERASURE = "erasure", _("Client data erased")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    digest = models.CharField(_("HMAC-SHA256"), max_length=64)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices, default=Reason.ERASURE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed contact")
        verbose_name_plural = _("suppression list")
        constraints = [
            models.UniqueConstraint(fields=["salon", "kind", "digest"], name="one_suppressed_contact_per_salon")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.digest[:12]}…"
