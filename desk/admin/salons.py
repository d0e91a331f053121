"""Admin for tenancy, and the mixin that scopes every salon-owned model to the user's salons."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salons.forms import SalonForm
from salons.models import Membership, Salon


def member_salon_ids(request, *, owner: bool = False) -> set[int]:
    """Ids of the salons the request's user belongs to (owned ones only with owner=True); cached."""
    cache = request.__dict__.setdefault("_salon_ids", {})
    if owner not in cache:
        memberships = Membership.objects.filter(user=request.user)
        if owner:
            memberships = memberships.filter(role=Membership.Role.OWNER)
        cache[owner] = set(memberships.values_list("salon_id", flat=True))
    return cache[owner]


class SalonScopedAdmin(admin.ModelAdmin):
    """Staff see and touch only their salon's rows; superusers see all.

    Permissions come from salon membership, not Django model permissions: members may view;
    `member_can_edit` lets staff change rows, `owner_can_edit` only owners.
    """

    salon_path = "salon"  # lookup from this model to its Salon
    member_can_edit = True
    owner_can_edit = True

    def _obj_salon_id(self, obj):
        value = obj
        for part in self.salon_path.split("__"):
            value = getattr(value, part, None)
        return value.pk if value is not None else None

    def _in_scope(self, request, obj, *, owner=False) -> bool:
        if obj is None:
            return bool(member_salon_ids(request, owner=owner))
        return self._obj_salon_id(obj) in member_salon_ids(request, owner=owner)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.salon_path}__in": member_salon_ids(request)})

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and (
            request.user.is_superuser or bool(member_salon_ids(request))
        )

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or self._in_scope(request, obj)

    def _may_edit(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if self.member_can_edit and self._in_scope(request, obj):
            return True
        return self.owner_can_edit and self._in_scope(request, obj, owner=True)

    def has_add_permission(self, request):
        return self._may_edit(request)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            related = db_field.related_model
            editable_salons = member_salon_ids(request, owner=not self.member_can_edit)
            if related is Salon:
                kwargs["queryset"] = Salon.objects.filter(pk__in=editable_salons)
            elif related is get_user_model():
                kwargs["queryset"] = related.objects.filter(memberships__salon__in=member_salon_ids(request)).distinct()
            elif any(f.name == "salon" for f in related._meta.get_fields()):
                kwargs["queryset"] = related.objects.filter(salon__in=member_salon_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(SalonScopedAdmin):
    """Visible to members, changed by nobody through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Salon)
class SalonAdmin(SalonScopedAdmin):
    salon_path = "pk"
    member_can_edit = False
    list_display = ["name", "slug", "phone_region", "language", "time_zone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    form = SalonForm
    fieldsets = [
        (None, {"fields": ["name", "slug", "language", "time_zone", "phone_region"]}),
        (_("Shown to clients"), {
            "fields": ["legal_name", "address", "contact_phone", "contact_email"],
            "description": _("Who is responsible for your clients' data and how to reach you: on the privacy "
                             "notice, the consent form, the booking pages and every consent receipt."),
        }),
        (_("Messaging"), {"fields": ["sms_sender_id", "default_transactional_channels",
                                     "sms_price_per_segment", "email_price"]}),
        (_("Appointment messages"), {"fields": ["reminder_hours_before", "quiet_hours_start", "quiet_hours_end"]}),
        (_("Consent"), {"fields": ["consent_request_cooldown_days", "consent_link_days",
                                   "consent_validity_months", "email_soft_opt_in", "dormant_months"]}),
        (_("Retention"), {"fields": ["message_retention_months", "erasure_proposal_months"]}),
    ]

    def _obj_salon_id(self, obj):
        return obj.pk

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        return queryset if request.user.is_superuser else queryset.filter(pk__in=member_salon_ids(request))

    def get_readonly_fields(self, request, obj=None):
        # Prices and the sender ID are the platform's business (they cost real money): ops set them.
        if request.user.is_superuser:
            return ()
        return ("sms_price_per_segment", "email_price", "sms_sender_id")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(SalonScopedAdmin):
    member_can_edit = False
    list_display = ["user", "salon", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "salon"]
    # Owners change roles within their salon; creating new logins is for superusers (ops).
