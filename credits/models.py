from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from salons.models import Salon


class CreditAccount(models.Model):
    """A salon's SMS/email credit balance; changed only by conditional UPDATEs in services."""

    salon = models.OneToOneField(
        Salon, on_delete=models.PROTECT, related_name="credit_account", verbose_name=_("salon")
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    low_balance_threshold = models.PositiveIntegerField(
        _("low-balance warning below"), default=50,
        help_text=_("The staff see a warning when the balance falls below this many credits."),
    )

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_never_negative")]

    def __str__(self):
        return f"{self.salon}: {self.balance}"


class CreditEntry(models.Model):
    """One line of the append-only credit ledger; the balance always equals the ledger's sum."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="credit_entries", verbose_name=_("salon"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"), help_text=_("Positive for top-ups and refunds, negative for charges."))
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries",
        verbose_name=_("message"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit ledger entry")
        verbose_name_plural = _("credit ledger")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["salon", "created_at"], name="creditentry_salon_time")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="charge", amount__lt=0) | (~Q(kind="charge") & Q(amount__gt=0))),
                name="credit_entry_sign_matches_kind",
            ),
            # A message is charged at most once and refunded at most once, whatever the retries.
            models.UniqueConstraint(
                fields=["message"], condition=Q(kind="charge"), name="one_charge_per_message"
            ),
            models.UniqueConstraint(
                fields=["message"], condition=Q(kind="refund"), name="one_refund_per_message"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+d}"
