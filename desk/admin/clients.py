from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clients.forms import ClientForm
from clients.models import Client, ContactChange, ErasureRequest, SuppressedContact
from consents.models import Action, ConsentEvent, ConsentState
from consents.services import Evidence
from consents.staff import RecordConsentForm, record_in_person
from core.vocabulary import SENDABLE_CHANNELS, Channel, Purpose
from desk.admin.salons import ReadOnlyAdmin, SalonScopedAdmin, member_salon_ids
from outreach.consent_requests import preview_consent_requests, send_consent_request
from rights import importing
from rights.erasure import erase_client, erasure_plan, request_erasure
from rights.export import export_client_csv, export_client_data
from rights.objection import object_to_marketing
from rights.rectification import change_contact
from rights.restriction import set_restriction
from rights.retention import erasure_candidates
from salons.models import Salon

CONTACT_FIELDS = ("first_name", "last_name", "phone", "email")

# (purpose, channel, short label) in the order the address book shows them.
BADGES = [
    ("data_processing", "", _("Data")),
    (Purpose.SERVICE, Channel.SMS, _("Service SMS")),
    (Purpose.SERVICE, Channel.EMAIL, _("Service email")),
    (Purpose.MARKETING, Channel.SMS, _("Marketing SMS")),
    (Purpose.MARKETING, Channel.EMAIL, _("Marketing email")),
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


def consent_filter(purpose: str, channel: str, title):
    """A changelist filter on one consent: granted, withdrawn or never asked."""

    class ConsentFilter(admin.SimpleListFilter):
        parameter_name = f"consent_{purpose}_{channel}".rstrip("_")

        def lookups(self, request, model_admin):
            return [("granted", _("granted")), ("withdrawn", _("withdrawn")), ("never", _("never asked"))]

        def queryset(self, request, queryset):
            states = ConsentState.objects.filter(client=OuterRef("pk"), purpose=purpose, channel=channel)
            if self.value() in ("granted", "withdrawn"):
                return queryset.filter(Exists(states.filter(action=self.value())))
            if self.value() == "never":
                return queryset.filter(~Exists(states))
            return queryset

    ConsentFilter.title = title
    ConsentFilter.__name__ = f"ConsentFilter_{purpose}_{channel}"
    return ConsentFilter


CONSENT_FILTERS = [consent_filter(purpose, channel, label) for purpose, channel, label in BADGES]


class RetentionFilter(admin.SimpleListFilter):
    """Clients past their salon's retention period (no visit nor booking for its erasure-proposal months)."""

    title = _("retention")
    parameter_name = "retention"

    def lookups(self, request, model_admin):
        return [("past", _("Past the retention period"))]

    def queryset(self, request, queryset):
        if self.value() != "past":
            return queryset
        now = timezone.now()
        salons = Salon.objects.filter(pk__in=queryset.values("salon_id").distinct())
        past = [erasure_candidates(salon=salon, now=now).values("pk") for salon in salons]
        if not past:
            return queryset.none()
        return queryset.filter(pk__in=past[0].union(*past[1:]) if len(past) > 1 else past[0])


class ReadOnlyMemberInline(admin.TabularInline):
    """A read-only inline that members of the parent's salon may see (the parent page is already scoped)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or bool(member_salon_ids(request))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsentStateInline(ReadOnlyMemberInline):
    model = ConsentState
    verbose_name_plural = _("Current consents")
    fields = ["purpose", "channel", "action", "occurred_at"]
    readonly_fields = fields


class ContactChangeInline(ReadOnlyMemberInline):
    model = ContactChange
    verbose_name_plural = _("Contact changes")
    fields = ["changed_at", "field", "old_value_masked", "cleared_suppression", "changed_by"]
    readonly_fields = fields


class ConsentEventInline(ReadOnlyMemberInline):
    model = ConsentEvent
    verbose_name_plural = _("Consent register (read-only)")
    fields = ["seq", "occurred_at", "purpose", "channel", "action", "source", "wording_shown", "actor", "ip", "note"]
    readonly_fields = fields
    ordering = ["-seq"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("wording", "actor")

    @admin.display(description=_("wording shown"))
    def wording_shown(self, event):
        if event.wording is None:
            return "—"
        url = reverse("admin:consents_consentwording_change", args=[event.wording_id])
        return format_html('<a href="{}" title="{}">{} · v{}</a>', url, event.wording.text[:300],
                           event.wording.title, event.wording.version)


class ImportClientsForm(forms.Form):
    """Upload a CSV into one of the user's salons; a dry run first unless unticked."""

    salon = forms.ModelChoiceField(label=_("Salon"), queryset=Salon.objects.none(), empty_label=None)
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "Columns: first_name, last_name, phone, email, language, last_visit; optionally consent_… columns "
        "(yes/no), consent_source and consent_date. UTF-8, separated by ; or ,."))
    dry_run = forms.BooleanField(label=_("Dry run first (check and report, write nothing)"), required=False,
                                 initial=True)

    def __init__(self, *args, salons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["salon"].queryset = salons

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB: split it, or ask for it to be imported with the "
                  "import_clients command.") % {"mb": importing.MAX_UPLOAD_BYTES // (1024 * 1024)})
        return upload


@admin.register(Client)
class ClientAdmin(SalonScopedAdmin):
    form = ClientForm
    list_display = ["__str__", "phone_display", "email", "consents", "lifecycle", "last_visit", "salon"]
    list_filter = [*CONSENT_FILTERS, "lifecycle", RetentionFilter, "is_restricted", "sms_suppression",
                   "email_suppression"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    list_select_related = ["salon"]
    list_per_page = 50
    show_full_result_count = False  # no second COUNT over the whole address book on every page
    readonly_fields = ["lifecycle", "sms_suppression", "email_suppression", "is_restricted",
                       "consent_requested_at", "erased_at", "created_at", "updated_at"]
    inlines = [ConsentStateInline, ConsentEventInline, ContactChangeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("consent_states")

    def get_fields(self, request, obj=None):
        return [*ClientForm.Meta.fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # A client's register entries belong to their salon: a saved client never moves.
        return [*self.readonly_fields, "salon"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # clients are erased (anonymised), never deleted: the register keeps its proof

    actions = ["request_consent_by_sms", "request_consent_by_email", "erase_selected"]

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

    change_form_template = "admin/clients/client/change_form.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("request-consent/", wrap(self.request_consent_view), name="clients_client_request_consent"),
            path("import/", wrap(self.import_view), name="clients_client_import"),
            path("<int:pk>/record-consent/", wrap(self.record_consent_view), name="clients_client_record_consent"),
            path("<int:pk>/export/", wrap(self.export_view), name="clients_client_export"),
            path("<int:pk>/restriction/", wrap(self.restriction_view), name="clients_client_restriction"),
            path("<int:pk>/erasure-request/", wrap(self.erasure_request_view), name="clients_client_erasure_request"),
            path("<int:pk>/erase/", wrap(self.erase_view), name="clients_client_erase"),
            path("<int:pk>/objection/", wrap(self.objection_view), name="clients_client_objection"),
            path("<int:pk>/export.csv", wrap(self.export_csv_view), name="clients_client_export_csv"),
            *super().get_urls(),
        ]

    def _client_or_404(self, request, pk):
        client = self.get_queryset(request).filter(pk=pk).select_related("salon").first()
        if client is None:
            raise Http404(_("No such client."))
        return client

    def record_consent_view(self, request, pk):
        """Record consent given in person or on paper: nothing pre-ticked, the wording shown, the source."""
        client = self._client_or_404(request, pk)
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        form = RecordConsentForm(request.POST or None, request.FILES or None, client=client)
        if request.method == "POST" and form.is_valid():
            events = record_in_person(form=form, actor=request.user, evidence=Evidence.from_request(request))
            self.message_user(request, ngettext("%(n)d consent recorded.", "%(n)d consents recorded.", len(events))
                              % {"n": len(events)})
            return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": client,
                   "title": _("Record consent given in person"), "form": form}
        return TemplateResponse(request, "admin/clients/client/record_consent.html", context)

    def import_view(self, request):
        """Import clients from a CSV into the user's own salon (a dry run first by default), with the report."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        salons = Salon.objects.all() if request.user.is_superuser else Salon.objects.filter(
            pk__in=member_salon_ids(request, owner=not self.member_can_edit))
        form = ImportClientsForm(request.POST or None, request.FILES or None, salons=salons)
        report = None
        if request.method == "POST" and form.is_valid():
            report = importing.import_clients(
                salon=form.cleaned_data["salon"], data=form.cleaned_data["file"].read(), actor=request.user,
                evidence=Evidence.from_request(request), dry_run=form.cleaned_data["dry_run"],
            )
            if not report.dry_run:  # done: the next upload starts with a dry run again
                form = ImportClientsForm(salons=salons, initial={"salon": form.cleaned_data["salon"]})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": _("Import clients (CSV)"), "form": form, "report": report}
        return TemplateResponse(request, "admin/clients/client/import.html", context)

    def export_view(self, request, pk):
        """The client's data as JSON (access and portability)."""
        client = self._client_or_404(request, pk)
        response = JsonResponse(export_client_data(client), json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="client-{client.pk}.json"'
        return response

    def export_csv_view(self, request, pk):
        """The client's data as CSV (one row per value: section, item, field, value)."""
        client = self._client_or_404(request, pk)
        response = HttpResponse(export_client_csv(client), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="client-{client.pk}.csv"'
        return response

    def erase_view(self, request, pk):
        """Erase a client's personal data, after a page that says what happens and that it is final. Owners only."""
        client = self._client_or_404(request, pk)
        if not request.user.is_superuser and client.salon_id not in member_salon_ids(request, owner=True):
            raise PermissionDenied
        if client.is_erased:
            self.message_user(request, _("This client's data was already erased."), level=messages.WARNING)
            return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))
        error = ""
        if request.method == "POST":
            try:
                erase_client(client=client, by=request.user, reason=request.POST.get("reason", ""))
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                self.message_user(request, _("The client's personal data was erased."))
                return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))
        pending = client.erasure_requests.filter(status=ErasureRequest.Status.PENDING).first()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": client,
                   "title": _("Erase this client's data"), "plan": erasure_plan(client), "error": error,
                   "pending": pending}
        return TemplateResponse(request, "admin/clients/client/erase.html", context)

    def save_model(self, request, obj, form, change):
        if change:
            # Rectification: the old phone/email is logged (masked) and its suppression does not carry
            # over to a new contact. It reads the old values, so it runs before the save.
            edited = {f: form.cleaned_data[f] for f in CONTACT_FIELDS if f in form.changed_data}
            if edited:
                change_contact(client=obj, by=request.user, **edited)
        super().save_model(request, obj, form, change)

    def objection_view(self, request, pk):
        """Objection to direct marketing (GDPR art. 21): every marketing and personalised consent withdrawn."""
        client = self._client_or_404(request, pk)
        if request.method != "POST" or not self.has_change_permission(request, client):
            raise PermissionDenied
        object_to_marketing(client=client, by=request.user)
        self.message_user(request, _("Objection recorded: marketing and personalised suggestions withdrawn on "
                                     "every channel."))
        return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))

    def restriction_view(self, request, pk):
        client = self._client_or_404(request, pk)
        if request.method != "POST" or not self.has_change_permission(request, client):
            raise PermissionDenied
        restricted = request.POST.get("restricted") == "1"
        set_restriction(client=client, restricted=restricted)
        self.message_user(request, _("Processing restricted: nothing will be sent to this client.") if restricted
                          else _("Restriction lifted."))
        return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))

    def erasure_request_view(self, request, pk):
        client = self._client_or_404(request, pk)
        if request.method != "POST" or not self.has_change_permission(request, client):
            raise PermissionDenied
        erasure = request_erasure(client=client, source="staff")
        self.message_user(request, _("Erasure requested; it must be answered by %(due)s.")
                          % {"due": date_format(localtime(erasure.due_at), "DATE_FORMAT")}, level=messages.WARNING)
        return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client.pk]))

    def request_consent_view(self, request):
        """Confirmation page for privacy authorisation requests (GET ?channel=&ids=1,2 or the actions' POST)."""
        data = request.POST if request.method == "POST" else request.GET
        channel = data.get("channel", Channel.SMS)
        if channel not in SENDABLE_CHANNELS:
            return HttpResponseBadRequest(_("Choose SMS or email."))
        ids = [int(i) for i in ",".join(data.getlist("ids")).split(",") if i.strip().isdigit()]
        queryset = self.get_queryset(request).filter(pk__in=ids)
        return self._request_consent(request, queryset, channel, confirmed=data.get("confirm") == "yes")

    def _request_consent(self, request, queryset, channel, *, confirmed=False):
        if not self.has_change_permission(request):
            raise PermissionDenied
        by_salon = defaultdict(list)
        for client in queryset.select_related("salon").order_by("salon_id", "pk"):
            by_salon[client.salon].append(client)
        previews = [(salon, preview_consent_requests(clients, channel)) for salon, clients in by_salon.items()]
        if confirmed and request.method == "POST":
            queued = 0
            for _salon, preview in previews:
                for client in preview.to_send:
                    send_consent_request(client=client, channel=channel, by=request.user)
                    queued += 1
            self.message_user(request, ngettext(
                "%(n)d privacy authorisation request queued.", "%(n)d privacy authorisation requests queued.", queued
            ) % {"n": queued})
            outbox = reverse("admin:messaging_message_changelist")
            return HttpResponseRedirect(f"{outbox}?kind__exact=consent_request")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send privacy authorisation by %(channel)s") % {"channel": Channel(channel).label},
            "opts": self.model._meta, "channel": channel, "previews": previews,
            "ids": ",".join(str(c.pk) for clients in by_salon.values() for c in clients),
            "total_send": sum(len(p.to_send) for _s, p in previews),
        }
        return TemplateResponse(request, "admin/clients/client/request_consent.html", context)

    @admin.action(description=_("Erase the selected clients' data…"))
    def erase_selected(self, request, queryset):
        """Bulk erasure (e.g. of clients past the retention period), after a confirmation page. Owners only."""
        owned = member_salon_ids(request, owner=True)
        clients = [c for c in queryset.filter(erased_at__isnull=True).select_related("salon")
                   if request.user.is_superuser or c.salon_id in owned]
        if not clients:
            self.message_user(request, _("Only the salon's owners can erase clients' data."), level=messages.ERROR)
            return None
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") == "yes" and reason:
            erased = 0
            for client in clients:
                try:
                    erase_client(client=client, by=request.user, reason=reason)
                    erased += 1
                except ValidationError as exc:
                    self.message_user(request, f"#{client.pk}: {' '.join(exc.messages)}", level=messages.ERROR)
            self.message_user(request, ngettext("%(n)d client's data erased.", "%(n)d clients' data erased.",
                                                erased) % {"n": erased})
            return None
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "clients": clients,
                   "title": _("Erase the data of %(n)d clients") % {"n": len(clients)},
                   "reason_missing": request.POST.get("confirm") == "yes" and not reason}
        return TemplateResponse(request, "admin/clients/client/erase_selected.html", context)

    @admin.action(description=_("Send privacy authorisation by SMS"))
    def request_consent_by_sms(self, request, queryset):
        return self._request_consent(request, queryset, Channel.SMS)

    @admin.action(description=_("Send privacy authorisation by email"))
    def request_consent_by_email(self, request, queryset):
        return self._request_consent(request, queryset, Channel.EMAIL)


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    """Erasure requests with their one-month deadline; owners erase from here, after a confirmation page."""

    list_display = ["client", "requested_at", "due_at", "status", "source", "reason", "erase_link"]
    list_filter = ["status"]
    list_select_related = ["client"]

    @admin.display(description=_("erase"))
    def erase_link(self, obj):
        if obj.status != ErasureRequest.Status.PENDING:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:clients_client_erase", args=[obj.client_id]),
                           _("Erase now…"))


@admin.register(SuppressedContact)
class SuppressedContactAdmin(ReadOnlyAdmin):
    """The suppression list: keyed hashes of erased clients' contacts; the contacts themselves are gone."""

    list_display = ["kind", "digest_start", "reason", "created_at"]
    list_filter = ["kind"]

    @admin.display(description=_("HMAC-SHA256"))
    def digest_start(self, obj):
        return f"{obj.digest[:12]}…"
