from django.contrib import admin
from django.db.models import Q

from salons.admin import ReadOnlyAdmin, SalonScopedAdmin, member_salon_ids

from .models import ConsentEvent, ConsentState, ConsentWording


@admin.register(ConsentWording)
class ConsentWordingAdmin(SalonScopedAdmin):
    """Owners add their salon's wordings; the shipped ones (no salon) are visible to all members."""

    member_can_edit = False
    list_display = ["purpose", "language", "version", "title", "salon", "sha256", "created_at"]
    list_filter = ["purpose", "language"]
    readonly_fields = ["sha256", "created_at"]

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


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["client", "purpose", "channel", "action", "occurred_at", "salon"]
    list_filter = ["purpose", "channel", "action"]
    list_select_related = ["client", "salon"]
