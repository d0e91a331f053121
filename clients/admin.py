from collections import Counter

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consents.flows import send_consent_request
from consents.models import Action, ConsentEvent, ConsentState
from messaging.models import Message
from salons.admin import ReadOnlyAdmin, SalonScopedAdmin, member_salon_ids

from .forms import ClientForm
from .models import Client, ErasureRequest

# (purpose, channel, short label) in the order the address book shows them.
BADGES = [
    ("data_processing", "", _("Data")),
    ("service", "sms", _("Service SMS")),
    ("service", "email", _("Service email")),
    ("marketing", "sms", _("Marketing SMS")),
    ("marketing", "email", _("Marketing email")),
]
_BADGE_STYLE = {
    Action.GRANTED: ("✓", "#1b5e20", "#e8f5e9", _("granted")),
    Action.WITHDRAWN: ("✗", "#b71c1c", "#ffebee", _("withdrawn")),
    None: ("–", "#555", "#f1f1f1", _("never asked")),
}


def consent_badges(states) -> str:
    """Small coloured chips: granted ✓, withdrawn ✗, never asked –, one per purpose and channel."""
    by_key = {(s.purpose, s.channel): s.action for s in states}
    chips = []
    for purpose, channel, label in BADGES:
        mark, colour, background, meaning = _BADGE_STYLE[by_key.get((purpose, channel))]
        chips.append((colour, background, f"{label}: {meaning}", label, mark))
    return format_html('<div style="min-width:16em">{}</div>', format_html_join(
        "",
        '<span style="display:inline-block;margin:1px 2px;color:{};background:{};padding:1px 6px;'
        'border-radius:8px;white-space:nowrap" '
        'title="{}">{} {}</span>',
        chips,
    ))


class ConsentStateInline(admin.TabularInline):
    model = ConsentState
    verbose_name_plural = _("Current consents")
    fields = ["purpose", "channel", "action", "occurred_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    verbose_name_plural = _("Consent register (read-only)")
    fields = ["seq", "occurred_at", "purpose", "channel", "action", "source", "wording", "actor", "ip"]
    readonly_fields = fields
    ordering = ["-seq"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(SalonScopedAdmin):
    form = ClientForm
    list_display = ["__str__", "phone_display", "email", "consents", "lifecycle", "last_visit", "salon"]
    list_filter = ["lifecycle", "is_restricted", "sms_suppression", "email_suppression"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    list_select_related = ["salon"]
    list_per_page = 50
    readonly_fields = ["lifecycle", "sms_suppression", "email_suppression", "is_restricted",
                       "consent_requested_at", "erased_at", "created_at", "updated_at"]
    inlines = [ConsentStateInline, ConsentEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("consent_states")

    def get_fields(self, request, obj=None):
        return [*ClientForm.Meta.fields, *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        return False  # clients are erased (anonymised), never deleted: the register keeps its proof

    actions = ["request_consent_by_sms", "request_consent_by_email"]

    def _request_consent(self, request, queryset, channel):
        outcomes = Counter()
        for client in queryset.select_related("salon"):
            message = send_consent_request(client, channel, by=request.user)
            outcomes[message.reason_text if message.status == Message.Status.BLOCKED else ""] += 1
        queued = outcomes.pop("", 0)
        self.message_user(request, ngettext("%(n)d privacy authorisation request queued.",
                                            "%(n)d privacy authorisation requests queued.", queued) % {"n": queued})
        for reason, count in outcomes.items():
            self.message_user(request, _("%(n)d not sent: %(reason)s") % {"n": count, "reason": reason},
                              level=messages.WARNING)

    @admin.action(description=_("Send privacy authorisation by SMS"))
    def request_consent_by_sms(self, request, queryset):
        self._request_consent(request, queryset, "sms")

    @admin.action(description=_("Send privacy authorisation by email"))
    def request_consent_by_email(self, request, queryset):
        self._request_consent(request, queryset, "email")

    @admin.display(description=_("Consents"))
    def consents(self, obj):
        return consent_badges(obj.consent_states.all())

    @admin.display(description=_("Phone"), ordering="phone")
    def phone_display(self, obj):
        number = obj.phone.as_international if obj.phone else ""
        return format_html('<span style="white-space:nowrap">{}</span>', number)

    def get_list_display(self, request):
        # The salon column only helps those who see more than one salon.
        if request.user.is_superuser or len(member_salon_ids(request)) > 1:
            return self.list_display
        return [name for name in self.list_display if name != "salon"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    """Erasure requests from clients with their one-month deadline (erasure itself: the GDPR tools)."""

    list_display = ["client", "requested_at", "due_at", "status", "source"]
    list_filter = ["status"]
    list_select_related = ["client"]
