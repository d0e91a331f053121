"""Owners set up online booking in the admin; staff members may look, outsiders see nothing."""

from urllib.parse import urljoin, urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _

from booking.models import BookingSettings, ClosedDay, OpeningHours, Service, staff_outside_salon
from desk.admin.salons import SalonScopedAdmin, member_salon_ids


def booking_page_url(salon) -> str:
    return urljoin(settings.PUBLIC_BASE_URL, reverse("booking-services", args=[salon.slug]))


EMBED_SCRIPT = """<script>
addEventListener("message", function (event) {
  var frame = document.getElementById("%(id)s");
  if (!frame || event.source !== frame.contentWindow || event.origin !== "%(origin)s") return;
  var height = event.data && event.data.salonconsentBookingHeight;
  if (typeof height !== "number" || height < 200 || height > 20000) return;
  frame.style.height = height + "px";
  if (event.data.loaded && frame.getBoundingClientRect().top < 0) frame.scrollIntoView();
});
</script>"""


def embed_html(salon) -> str:
    """The snippet an owner pastes into the salon's website: the iframe, and a few lines that fit its height.

    The booking page tells its height (static/booking/embed.js); the listener takes it only from that frame and
    our origin, and brings the frame's top into view when a new step loads. Without JavaScript, the frame keeps
    a fixed height and scrolls inside.
    """
    frame_id = f"salonconsent-booking-{salon.slug}"
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(booking_page_url(salon)))
    return (f'<iframe id="{frame_id}" src="{booking_page_url(salon)}" title="{escape(salon.name)}" loading="lazy" '
            'style="width:100%;max-width:40rem;height:52rem;border:0"></iframe>\n'
            + EMBED_SCRIPT % {"id": frame_id, "origin": origin})


class OwnerEditedAdmin(SalonScopedAdmin):
    member_can_edit = False
    list_select_related = ["salon"]


@admin.register(BookingSettings)
class BookingSettingsAdmin(OwnerEditedAdmin):
    list_display = ["salon", "enabled", "horizon_days", "min_notice_minutes", "cancellation_notice_hours"]
    fields = ["salon", "enabled", "horizon_days", "min_notice_minutes", "slot_step_minutes",
              "cancellation_notice_hours", "allowed_site_origins", "booking_page", "embed_snippet"]
    readonly_fields = ["booking_page", "embed_snippet"]

    @admin.display(description=_("booking page"))
    def booking_page(self, obj):
        if obj is None or not obj.salon_id:
            return "—"
        url = booking_page_url(obj.salon)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description=_("embed in your website"))
    def embed_snippet(self, obj):
        if obj is None or not obj.salon_id:
            return _("Save first: the snippet appears here.")
        return format_html(
            '<textarea readonly rows="14" cols="80" aria-label="{}" onfocus="this.select()">{}</textarea>'
            '<div class="help">{}</div>',
            _("HTML to paste into your website"), embed_html(obj.salon),
            _("Paste this where the booking page should appear, and list your website's origin above "
              "(e.g. https://www.example.com): browsers show the page only inside the sites listed."),
        )


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
