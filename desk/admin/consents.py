from django import forms
from django.contrib import admin
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from clients.models import Client
from consents.checkpoints import as_document, dumps
from consents.export import FORMATS, proof_of_consent
from consents.models import Checkpoint, ConsentEvent, ConsentState, ConsentWording
from consents.services import publish_wording
from desk.admin.salons import ReadOnlyAdmin, SalonScopedAdmin, member_salon_ids
from salons.models import Salon


class NewWordingForm(forms.ModelForm):
    class Meta:
        model = ConsentWording
        fields = ["purpose", "language", "title", "text"]


@admin.register(ConsentWording)
class ConsentWordingAdmin(SalonScopedAdmin):
    """Owners publish new versions of their salon's wordings; shipped ones (no salon) are visible to all.

    A version shown to a client is frozen (the database refuses to change it): changes are new versions.
    """

    member_can_edit = False
    list_display = ["purpose", "language", "version", "title", "salon", "sha256", "created_at"]
    list_filter = ["purpose", "language"]
    readonly_fields = ["salon", "version", "sha256", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = NewWordingForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["purpose", "language", "title", "text"]
        return ["purpose", "language", "version", "title", "text", "salon", "sha256", "created_at"]

    def get_changeform_initial_data(self, request):
        # "New version from this one": /add/?from=<id> starts from that wording's words.
        source = self.get_queryset(request).filter(pk=request.GET.get("from") or 0).first()
        if source is None:
            return super().get_changeform_initial_data(request)
        return {"purpose": source.purpose, "language": source.language, "title": source.title, "text": source.text}

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        owned = sorted(member_salon_ids(request, owner=True))
        salon = None if request.user.is_superuser and not owned else Salon.objects.get(pk=owned[0])
        published = publish_wording(salon=salon, purpose=obj.purpose, language=obj.language, title=obj.title,
                                    text=obj.text)
        obj.pk, obj.version, obj.salon = published.pk, published.version, published.salon

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(Q(salon__in=member_salon_ids(request)) | Q(salon__isnull=True))

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.salon_id is None:
            return request.user.is_superuser or bool(member_salon_ids(request))
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.is_used() or (obj.salon_id is None and not request.user.is_superuser)):
            return False  # shown to clients: frozen; add a new version instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "client", "purpose", "channel", "action", "source", "actor", "salon"]
    list_filter = ["purpose", "channel", "action", "source"]
    search_fields = ["client__first_name", "client__last_name", "entry_hash"]
    list_select_related = ["client", "actor", "salon"]
    date_hierarchy = "occurred_at"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("export/", wrap(self.export_view), name="consents_consentevent_export"), *super().get_urls()]

    def export_view(self, request):
        """Proof of consent as a download: ?client=<id> (or ?salon=<id> for the whole register)&format=csv|json.

        Outsiders get 404: a client or salon outside the user's salons does not exist for them.
        """
        fmt = request.GET.get("format", "csv")
        if fmt not in FORMATS:
            return HttpResponseBadRequest(_("Unknown export format: use csv or json."))
        scope = None if request.user.is_superuser else member_salon_ids(request)
        client = salon = None
        if request.GET.get("client"):
            clients = Client.objects.select_related("salon")
            if scope is not None:
                clients = clients.filter(salon__in=scope)
            client = clients.filter(pk=_int_or_none(request.GET["client"])).first()
            salon = client.salon if client else None
        elif request.GET.get("salon"):
            salons = Salon.objects.all() if scope is None else Salon.objects.filter(pk__in=scope)
            salon = salons.filter(pk=_int_or_none(request.GET["salon"])).first()
        if salon is None or not self.has_view_permission(request):
            raise Http404(_("No such client or salon."))
        proof = proof_of_consent(salon=salon, client=client, fmt=fmt)
        response = StreamingHttpResponse(proof.chunks, content_type=proof.content_type)
        response["Content-Disposition"] = f'attachment; filename="{proof.filename}"'
        return response


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["client", "purpose", "channel", "action", "occurred_at", "salon"]
    list_filter = ["purpose", "channel", "action"]
    list_select_related = ["client", "salon"]


def _int_or_none(value: str) -> int | None:
    """An id from the query string, or None for anything that cannot be one (no 500 on a typo)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    """The register's signed checkpoints: each downloadable as the JSON an owner or auditor keeps."""

    list_display = ["signed_at", "salon", "size", "root_hash", "download"]
    list_filter = ["signed_at"]
    list_select_related = ["salon"]
    date_hierarchy = "signed_at"

    @admin.display(description=_lazy("Download"))
    def download(self, obj):
        url = reverse("admin:consents_checkpoint_download", args=[obj.pk])
        return format_html('<a href="{}" download>{}</a>', url, _("checkpoint (JSON)"))

    def get_urls(self):
        return [
            path("<int:pk>/download/", self.admin_site.admin_view(self.download_view),
                 name="consents_checkpoint_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        checkpoint = self.get_queryset(request).filter(pk=pk).first()
        if checkpoint is None:
            raise Http404(_("No such checkpoint."))
        response = HttpResponse(dumps(as_document(checkpoint)) + "\n", content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="checkpoint-{checkpoint.salon_id}-{checkpoint.size}.json"')
        return response
