from django.contrib import admin

from salons.admin import SalonScopedAdmin

from .models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(SalonScopedAdmin):
    list_display = ["starts_at", "ends_at", "client", "service", "staff_member", "status", "salon"]
    list_filter = ["status", "starts_at"]
    date_hierarchy = "starts_at"
    search_fields = ["client__first_name", "client__last_name", "service"]
    list_select_related = ["client", "staff_member", "salon"]
    autocomplete_fields = ["client"]
