"""Owners set up online booking in the admin; staff members may look, outsiders see nothing."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salons.admin import SalonScopedAdmin, member_salon_ids

from .models import BookingSettings, ClosedDay, OpeningHours, Service, staff_outside_salon


class OwnerEditedAdmin(SalonScopedAdmin):
    member_can_edit = False
    list_select_related = ["salon"]


@admin.register(BookingSettings)
class BookingSettingsAdmin(OwnerEditedAdmin):
    list_display = ["salon", "enabled", "horizon_days", "min_notice_minutes", "cancellation_notice_hours"]
    fields = ["salon", "enabled", "horizon_days", "min_notice_minutes", "slot_step_minutes",
              "cancellation_notice_hours", "allowed_site_origins"]


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["salon", "names", "duration_minutes", "price_display", "staff", "active", "ordering"]

    def clean(self):
        cleaned = super().clean()
        salon, staff = cleaned.get("salon"), cleaned.get("staff")
        if salon is not None and staff:
            outsiders = staff_outside_salon(salon.pk, staff)
            if outsiders:
                self.add_error("staff", forms.ValidationError(
                    _("Not a member of this salon: %(users)s."),
                    params={"users": ", ".join(str(user) for user in outsiders)},
                ))
        return cleaned


@admin.register(Service)
class ServiceAdmin(OwnerEditedAdmin):
    form = ServiceForm
    list_display = ["__str__", "salon", "duration_minutes", "price_display", "active", "ordering"]
    list_filter = ["active"]
    filter_horizontal = ["staff"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "staff" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(
                memberships__salon__in=member_salon_ids(request, owner=True)
            ).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(OpeningHours)
class OpeningHoursAdmin(OwnerEditedAdmin):
    list_display = ["salon", "weekday", "opens", "closes"]
    list_filter = ["weekday"]


@admin.register(ClosedDay)
class ClosedDayAdmin(OwnerEditedAdmin):
    list_display = ["salon", "date", "reason"]
    date_hierarchy = "date"
