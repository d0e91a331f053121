"""Campaigns: one message to a chosen audience, sent in batches through the outbox (SPEC §6, issue 6)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from core.vocabulary import SENDABLE_CHANNELS, Channel, MessageKind
from messaging.models import Message
from salons.models import Salon


class Campaign(models.Model):
    """A marketing, personalised or re-permission message for a salon's lifecycle segments."""

    class Kind(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        PERSONALISED_SUGGESTION = "personalised_suggestion", _("Personalised suggestion")
        REPERMISSION = "repermission", _("Re-permission (privacy authorisation request)")

    Channel = Channel  # the salon-wide channel vocabulary; campaigns go on the sendable ones

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")

    # The run's steps staff can take, action → (from, to): outreach.campaign_runs takes them with a
    # conditional UPDATE, and the desk offers the ones `actions()` allows now. The last batch moves
    # running → done by itself.
    STEPS = {
        "start": (Status.DRAFT, Status.RUNNING),
        "pause": (Status.RUNNING, Status.PAUSED),
        "resume": (Status.PAUSED, Status.RUNNING),
    }

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("salon"))
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.MARKETING)
    channel = models.CharField(
        _("channel"), max_length=8, choices=[(c.value, c.label) for c in SENDABLE_CHANNELS], default=Channel.SMS
    )
    segments = models.JSONField(
        _("lifecycle segments"), default=list,
        help_text=_("Which clients: any of prospect, client, dormant."),
    )
    texts = models.JSONField(
        _("text per language"), default=dict, blank=True,
        help_text=_('The message per language, e.g. {"it": "...", "en": "..."}. Not used for re-permission, '
                    "which sends the standard privacy authorisation request."),
    )
    subjects = models.JSONField(_("email subject per language"), default=dict, blank=True)
    repermission_legal_basis = models.TextField(
        _("legal basis for re-permission outreach"), blank=True,
        help_text=_("Required for re-permission: why the salon may ask clients outside an appointment context. "
                    "Recorded with the campaign."),
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    eligible = models.PositiveIntegerField(_("eligible at start"), default=0)
    queued = models.PositiveIntegerField(_("queued"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    def actions(self) -> list[str]:
        """The steps staff may take now (see STEPS), in their order."""
        return [action for action, (source, _target) in self.STEPS.items() if source == self.status]

    @property
    def message_kind(self) -> str:
        """The outbox kind each recipient gets: re-permission sends a privacy authorisation request."""
        if self.kind == self.Kind.REPERMISSION:
            return MessageKind.CONSENT_REQUEST
        return self.kind

    @property
    def progress_percent(self) -> int:
        """Queued and skipped recipients against the audience counted at start."""
        if self.status == self.Status.DONE:
            return 100
        if not self.eligible:
            return 0
        return min(100, round(100 * self.queued / self.eligible))

    def text_for(self, language: str) -> tuple[str, str]:
        """(subject, text) in a language, else the salon's language, else the first one written."""
        for source in (language, self.salon.language, *self.texts):
            if self.texts.get(source):
                return self.subjects.get(source, "") or self.name, self.texts[source]
        return self.name, ""

    def clean(self):
        errors = {}
        valid = set(Client.Lifecycle.values)
        if not isinstance(self.segments, list) or not self.segments or not set(self.segments) <= valid:
            errors["segments"] = _("Choose one or more of: %(choices)s.") % {"choices": ", ".join(sorted(valid))}
        languages = {code for code, _name in settings.LANGUAGES}
        if not isinstance(self.texts, dict) or not set(self.texts) <= languages:
            errors["texts"] = _("Give the text as {language: text} with languages among %(choices)s.") % {
                "choices": ", ".join(sorted(languages))}
        elif self.kind != self.Kind.REPERMISSION and not any(str(t).strip() for t in self.texts.values()):
            errors["texts"] = _("Write the message in at least one language.")
        if not isinstance(self.subjects, dict):
            errors["subjects"] = _("Give the subjects as {language: subject}.")
        if self.kind == self.Kind.REPERMISSION and not self.repermission_legal_basis.strip():
            errors["repermission_legal_basis"] = _(
                "A re-permission campaign asks clients outside an appointment context, which is itself direct "
                "marketing in several jurisdictions: record the legal basis the salon relies on."
            )
        if errors:
            raise ValidationError(errors)


class CampaignRecipient(models.Model):
    """A client taken by a campaign: at most once per campaign, with the outbox message it produced."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients",
                                 verbose_name=_("campaign"))
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client"))
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("message"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [models.UniqueConstraint(fields=["campaign", "client"], name="one_message_per_campaign_client")]

    def __str__(self):
        return f"{self.campaign} → {self.client}"
