import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from core.links import TokenLink
from core.vocabulary import Purpose
from salons.models import Salon

from .merkle import Frontier


class Action(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Source(models.TextChoices):
    """How a register entry came about."""

    FORM_LINK = "form_link", _("Consent form link")
    IN_PERSON = "in_person", _("In person")
    PAPER = "paper", _("Paper form")
    BOOKING_WIDGET = "booking_widget", _("Online booking")
    IMPORT = "import", _("Import")
    SMS_KEYWORD = "sms_keyword", _("SMS keyword")
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", _("Email unsubscribe")
    BOUNCE = "bounce", _("Bounce or complaint")
    STAFF_UPDATE = "staff_update", _("Staff update")


# Sources where a staff member acts and must be named on the entry.
STAFF_SOURCES = frozenset({Source.IN_PERSON, Source.PAPER, Source.STAFF_UPDATE})


def wording_digest(title: str, text: str) -> str:
    """SHA-256 of exactly what the client is shown for a purpose: its title and text."""
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


class ConsentWording(models.Model):
    """The words shown for a purpose in a language; versioned, and frozen once used."""

    salon = models.ForeignKey(
        Salon, on_delete=models.PROTECT, null=True, blank=True, related_name="wordings",
        verbose_name=_("salon"), help_text=_("Empty for the wordings shipped with salonconsent."),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")
        ordering = ["purpose", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "language", "version"], condition=Q(salon__isnull=True),
                name="one_default_wording_version",
            ),
            models.UniqueConstraint(
                fields=["salon", "purpose", "language", "version"], condition=Q(salon__isnull=False),
                name="one_salon_wording_version",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} · {self.language} · v{self.version}"

    def save(self, *args, **kwargs):
        self.sha256 = wording_digest(self.title, self.text)
        super().save(*args, **kwargs)

    def is_used(self) -> bool:
        return self.pk is not None and self.events.exists()

    def clean(self):
        if self.pk and self.is_used():
            stored = ConsentWording.objects.filter(pk=self.pk).values_list("title", "text").get()
            if stored != (self.title, self.text):
                raise ValidationError(
                    _("This wording has been shown to clients and can no longer change; add a new version.")
                )


class ConsentEvent(models.Model):
    """One entry of the append-only consent register; the database refuses edits.

    Entries are hash-chained per salon: `entry_hash` covers the entry and `prev_hash`.
    Only `consents.services.record_consent` writes them.
    """

    salon = models.ForeignKey(
        Salon, on_delete=models.PROTECT, related_name="consent_events", verbose_name=_("salon")
    )
    seq = models.PositiveBigIntegerField(_("entry number"))
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="consent_events", verbose_name=_("client")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    occurred_at = models.DateTimeField(_("when given or withdrawn"))
    recorded_at = models.DateTimeField(_("recorded"))
    wording = models.ForeignKey(
        ConsentWording, on_delete=models.PROTECT, null=True, blank=True, related_name="events",
        verbose_name=_("wording shown"),
    )
    wording_sha256 = models.CharField(_("wording SHA-256"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("staff member"),
    )
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    note = models.CharField(_("evidence note"), max_length=255, blank=True)
    prev_hash = models.CharField(_("previous entry hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64)

    class Meta:
        verbose_name = _("consent register entry")
        verbose_name_plural = _("consent register")
        ordering = ["salon_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["salon", "seq"], name="one_register_entry_per_position")]
        indexes = [models.Index(fields=["client", "occurred_at"], name="consentevent_client_time")]

    def __str__(self):
        channel = f":{self.channel}" if self.channel else ""
        return f"#{self.seq} {self.purpose}{channel} {self.action}"


class ConsentState(models.Model):
    """The current state per client, purpose and channel, kept by the register's writer.

    Derived from the register (the latest entry by occurred_at, then seq) and updated in the same
    transaction; `verify_register` checks the two agree.
    """

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="consent_states", verbose_name=_("client")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, blank=True)
    action = models.CharField(_("state"), max_length=10, choices=Action.choices)
    occurred_at = models.DateTimeField(_("since"))
    event = models.OneToOneField(ConsentEvent, on_delete=models.PROTECT, related_name="+", verbose_name=_("entry"))

    class Meta:
        verbose_name = _("current consent")
        verbose_name_plural = _("current consents")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "purpose", "channel"], name="one_state_per_client_purpose_channel"
            )
        ]
        indexes = [models.Index(fields=["salon", "purpose", "channel", "action"], name="consentstate_audience")]

    def __str__(self):
        channel = f":{self.channel}" if self.channel else ""
        return f"{self.purpose}{channel} {self.action}"

    @property
    def granted(self) -> bool:
        return self.action == Action.GRANTED


class RegisterTree(models.Model):
    """A salon's register as a Merkle tree (consents.merkle, RFC 9162): its size and right edge.

    The register's one writer grows it in the same transaction as the entries, so its root is the tree
    head of every entry so far; `verify_register` recomputes it, and checkpoints sign it.
    """

    salon = models.OneToOneField(Salon, on_delete=models.PROTECT, primary_key=True, related_name="+",
                                 verbose_name=_("salon"))
    size = models.PositiveBigIntegerField(_("entries"), default=0)
    edge = models.JSONField(_("right edge"), default=list)  # hex of each perfect subtree's root, largest first
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("register tree head")
        verbose_name_plural = _("register tree heads")

    def __str__(self):
        return f"{self.salon_id}: {self.size}"

    def frontier(self) -> Frontier:
        return Frontier(self.size, [bytes.fromhex(node) for node in self.edge])

    def keep(self, frontier: Frontier) -> None:
        self.size, self.edge = frontier.size, [node.hex() for node in frontier.edge]


class Checkpoint(models.Model):
    """A signed tree head of a salon's register (consents.checkpoints): its size and root at a time.

    Append-only, like the register. Given to the salon's owners and on the client's receipts, a checkpoint
    lets anyone show later that the register still contains every entry it covered.
    """

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    size = models.PositiveBigIntegerField(_("entries"))
    root_hash = models.CharField(_("root hash"), max_length=64)
    signed_at = models.DateTimeField(_("signed"))
    key_id = models.CharField(_("key id"), max_length=16)
    signature = models.CharField(_("signature"), max_length=100)

    class Meta:
        verbose_name = _("register checkpoint")
        verbose_name_plural = _("register checkpoints")
        indexes = [models.Index(fields=["salon", "-signed_at"], name="checkpoint_salon_time")]

    def __str__(self):
        return f"{self.salon_id}: {self.size} @ {self.signed_at:%Y-%m-%d %H:%M}"


class ConsentLink(TokenLink):
    """A client's personal link to the consent form: a random token stored only as its hash.

    `request` links go out with a privacy authorisation request and expire after the salon's
    setting; `preferences` links ride on marketing messages and receipts and live longer.
    """

    class Kind(models.TextChoices):
        REQUEST = "request", _("Privacy authorisation request")
        PREFERENCES = "preferences", _("Preference page")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consent_links", verbose_name=_("client"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    channel = models.CharField(_("sent by"), max_length=8, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    resolve_related = ("client__salon",)

    class Meta:
        verbose_name = _("consent link")
        verbose_name_plural = _("consent links")
        indexes = [models.Index(fields=["client", "created_at"], name="consentlink_client_time")]

    def holder_erased(self) -> bool:
        return self.client.is_erased

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


def _scan_path(instance, filename):
    return f"consent-scans/{instance.salon_id}/{instance.client_id}/{filename}"


class ConsentScan(models.Model):
    """A scan of a signed paper form; register entries name it (id and SHA-256) in their evidence note."""

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="+", verbose_name=_("salon"))
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consent_scans", verbose_name=_("client"))
    file = models.FileField(_("scan"), upload_to=_scan_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("consent form scan")
        verbose_name_plural = _("consent form scans")

    def __str__(self):
        return f"{self.file.name} ({self.sha256[:12]})"
