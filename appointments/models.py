from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import connections, models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from salons.models import Salon


class PostgresExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that exists on PostgreSQL and is a no-op elsewhere.

    Django's ExclusionConstraint is PostgreSQL-only: on SQLite its SQL (EXCLUDE USING gist, `&&`,
    tstzrange) would break every rebuild of the table and every `full_clean()`. Here it writes no SQL
    and validates nothing on other databases; there the booking service serialises the overlap check
    (SQLite runs IMMEDIATE transactions). The model state declares it either way, so migrations agree.
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using="default"):
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


class TsTzRange(models.Func):
    """tstzrange(start, end, bounds): the time an appointment takes, for the exclusion constraint."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Appointment(models.Model):
    """A client's booking in the salon's agenda."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")

    class Source(models.TextChoices):
        STAFF = "staff", _("By the salon")
        ONLINE = "online", _("Online booking")

    class CancelledBy(models.TextChoices):
        SALON = "salon", _("the salon")
        CLIENT = "client", _("the client, online")

    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("salon"))
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("client"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    service = models.CharField(_("service"), max_length=120)
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="appointments", verbose_name=_("staff member"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(_("booked"), max_length=8, choices=Source.choices, default=Source.STAFF)
    cancelled_by = models.CharField(_("cancelled by"), max_length=8, choices=CancelledBy.choices, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["salon", "starts_at"], name="appointment_salon_start"),
            models.Index(fields=["client", "starts_at"], name="appointment_client_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"),
            # Two booked appointments of one staff member never overlap ([start, end), btree_gist).
            PostgresExclusionConstraint(
                name="no_overlapping_bookings_per_staff",
                expressions=[
                    ("staff_member", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status="booked") & Q(staff_member__isnull=False),
            ),
        ]

    def __str__(self):
        local = self.starts_at.astimezone(ZoneInfo(self.salon.time_zone)) if self.salon_id else self.starts_at
        return f"{self.client} · {self.service} · {local:%Y-%m-%d %H:%M}"

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("An appointment must end after it starts.")
        if self.client_id and self.salon_id and self.client.salon_id != self.salon_id:
            errors["client"] = _("This client belongs to another salon.")
        if errors:
            raise ValidationError(errors)
