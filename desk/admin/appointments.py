from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from appointments.models import Appointment
from core.vocabulary import Channel
from desk.admin.salons import SalonScopedAdmin
from desk.agenda import agenda_for, has_data_processing_consent
from desk.forms import AgendaDayForm
from outreach.appointments import save_at_desk
from salons.selectors import salons_for


def privacy_request_url(client) -> str | None:
    """The confirmation page that sends this client a privacy authorisation request, or None.

    By SMS, or by email for a client with an email address and no phone. None for an erased client
    and while the page (clients admin) is not installed: the warning then stands without its link.
    """
    if client.is_erased:
        return None
    try:
        base = reverse("admin:clients_client_request_consent")
    except NoReverseMatch:
        return None
    channel = Channel.EMAIL if client.email and not client.phone else Channel.SMS
    return f"{base}?{urlencode({'channel': channel, 'ids': client.pk})}"


@admin.register(Appointment)
class AppointmentAdmin(SalonScopedAdmin):
    list_display = ["starts_at", "ends_at", "client", "service", "staff_member", "status", "source", "salon"]
    list_filter = ["status", "source", "starts_at"]
    readonly_fields = ["source", "cancelled_by"]
    date_hierarchy = "starts_at"
    search_fields = ["client__first_name", "client__last_name", "service"]
    list_select_related = ["client", "staff_member", "salon"]
    autocomplete_fields = ["client"]
    change_list_template = "admin/appointments/appointment/change_list.html"
    change_form_template = "admin/appointments/appointment/change_form.html"
    agenda_template = "admin/appointments/appointment/agenda.html"

    def get_urls(self):
        agenda = path(
            "agenda/", self.admin_site.admin_view(self.agenda_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_agenda",
        )
        return [agenda, *super().get_urls()]  # before the catch-all "<object_id>/"

    def agenda_view(self, request):
        """One day of appointments (`?day=YYYY-MM-DD`, today by default) with the consent warnings."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        salons = list(salons_for(request.user).order_by("name", "pk"))
        zone = ZoneInfo(salons[0].time_zone) if salons else timezone.get_default_timezone()
        today = timezone.localdate(timezone=zone)
        form = AgendaDayForm(request.GET or None, initial={"day": today})
        day = (form.cleaned_data["day"] if form.is_valid() else None) or today

        agendas = agenda_for(salons, day)
        if len(agendas) > 1:  # a superuser or a multi-salon member: only the salons with appointments
            agendas = [agenda for agenda in agendas if agenda.appointments]
        for agenda in agendas:
            for appointment in agenda.appointments:
                if not appointment.has_data_processing:
                    appointment.privacy_request_url = privacy_request_url(appointment.client)

        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Agenda"),
            "form": form,
            "day": day,
            "today": today,
            "day_offset": (day - today).days,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "agendas": agendas,
            "show_salon_names": len(salons) > 1,
            "has_add_permission": self.has_add_permission(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.agenda_template, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk and not has_data_processing_consent(obj.client):
            context["consent_warning"] = {
                "client": obj.client,
                "privacy_request_url": privacy_request_url(obj.client),
            }
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def save_model(self, request, obj, form, change):
        save_at_desk(appointment=obj)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        self._warn_without_consent(request, obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        self._warn_without_consent(request, obj)
        return response

    def _warn_without_consent(self, request, obj):
        # After the "saved" message, so the staff read it last; a popup has no message area.
        if IS_POPUP_VAR in request.POST or has_data_processing_consent(obj.client):
            return
        url = privacy_request_url(obj.client)
        if url:
            message = format_html(
                _('{client} has not given consent to data processing: '
                  '<a href="{url}">send a privacy authorisation request</a>'),
                client=obj.client, url=url,
            )
        else:
            message = _("%(client)s has not given consent to data processing: "
                        "send a privacy authorisation request") % {"client": obj.client}
        messages.warning(request, message)
