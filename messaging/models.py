from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment
from clients.models import Client
from core.vocabulary import SENDABLE_CHANNELS, Channel, MessageKind
from salons.models import Salon


class Message(models.Model):
    """One message in the outbox: written before anything is sent, updated as it travels.

    pending → blocked | held_no_credit | expired | sending → sent → delivered | undelivered | failed;
    sending → pending (transient error, retried) | failed | unknown (stale, found by the sweeper).
    Every step is in messaging.transitions, the only module that changes a status.
    """

    Channel = Channel  # the salon-wide channel vocabulary; messages only go on the sendable ones

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        BLOCKED = "blocked", _("Blocked by consent")
        HELD_NO_CREDIT = "held_no_credit", _("Held: no credit")
        EXPIRED = "expired", _("Expired")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Undelivered")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown: check with the provider")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="messages", verbose_name=_("salon"))
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="messages", verbose_name=_("client"))
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages",
        verbose_name=_("appointment"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=MessageKind.choices)
    channel = models.CharField(
        _("channel"), max_length=8, choices=[(c.value, c.label) for c in SENDABLE_CHANNELS]
    )
    language = models.CharField(_("language"), max_length=8)
    reply_channel = models.CharField(_("reply channel"), max_length=8, blank=True)
    repermission_outreach = models.BooleanField(
        _("re-permission outreach"), default=False,
        help_text=_("A consent request sent under the salon's explicit re-permission campaign (legal basis recorded "
                    "on the campaign), so no appointment context is required."),
    )
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    headers = models.JSONField(_("email headers"), default=dict, blank=True)
    # The personal link the text carries, redacted in `body` and `headers` (core.links): the token is put
    # back only when the provider is called, so nobody can open it from here.
    link_model = models.CharField(_("link kind"), max_length=40, blank=True, editable=False)
    link_id = models.PositiveBigIntegerField(_("link"), null=True, blank=True, editable=False)
    # SHA-256 of the exact text handed to the provider (link included), to match the provider's record later.
    text_sha256 = models.CharField(_("SHA-256 of the text sent"), max_length=64, blank=True, editable=False)
    encoding = models.CharField(_("SMS encoding"), max_length=8, blank=True)
    segments = models.PositiveSmallIntegerField(_("SMS segments"), default=0)
    cost = models.PositiveIntegerField(_("cost (credits)"), default=0)
    charged = models.PositiveIntegerField(
        _("charged (credits)"), default=0, help_text=_("What the ledger holds against this message now.")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("policy reason"), max_length=32, blank=True)
    reason_text = models.CharField(_("policy decision"), max_length=255, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_text = models.CharField(_("error"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sending_at = models.DateTimeField(_("handed to provider"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("useless after"), null=True, blank=True,
        help_text=_("A held message not sent by then (e.g. a reminder once the appointment started) expires."),
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["salon", "created_at"], name="message_salon_time"),
            models.Index(fields=["status", "updated_at"], name="message_status_age"),
            models.Index(fields=["client", "kind", "created_at"], name="message_client_kind"),
            models.Index(fields=["provider_id"], name="message_provider_id", condition=~Q(provider_id="")),
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} by {self.channel} to {self.client_id}: {self.status}"
