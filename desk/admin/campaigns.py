"""Campaign admin: owners write and run campaigns, staff follow them; a preview page comes before the start."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from clients.models import Client
from desk.admin.salons import SalonScopedAdmin
from outreach import audience, campaign_runs


class CampaignForm(forms.ModelForm):
    segments = forms.MultipleChoiceField(label=_("lifecycle segments"), choices=Client.Lifecycle.choices,
                                         widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Campaign
        fields = ["salon", "name", "kind", "channel", "segments", "texts", "subjects", "repermission_legal_basis"]


def progress_bar(campaign: Campaign) -> str:
    percent = campaign.progress_percent
    return format_html(
        '<progress max="100" value="{}" aria-label="{}">{}%</progress> {}% · {}',
        percent, _("Progress"), percent, percent,
        _("%(queued)s of %(eligible)s queued, %(skipped)s skipped") % {
            "queued": campaign.queued, "eligible": campaign.eligible, "skipped": campaign.skipped},
    )


@admin.register(Campaign)
class CampaignAdmin(SalonScopedAdmin):
    form = CampaignForm
    member_can_edit = False  # owners create and run campaigns; staff follow them
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = ["name", "kind", "channel", "status", "progress", "created_at"]
    list_filter = ["status", "kind", "channel"]
    list_select_related = ["salon"]
    search_fields = ["name"]
    _counters = ["status", "eligible", "queued", "skipped", "progress", "created_by", "created_at", "started_at",
                 "finished_at"]

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return progress_bar(obj)

    def get_fields(self, request, obj=None):
        fields = list(CampaignForm.Meta.fields)
        return fields if obj is None else fields + self._counters

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status != Campaign.Status.DRAFT:
            return list(CampaignForm.Meta.fields) + self._counters  # what was sent stays as it was
        return ["salon", *self._counters]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", wrap(self.preview_view), name="campaigns_campaign_preview"),
            # Explicit words, so these never shadow the admin's own <pk>/change/, <pk>/history/…
            *(path(f"<int:pk>/{word}/", wrap(self.transition_view), {"transition": word},
                   name=f"campaigns_campaign_{word}") for word in ("start", "pause", "resume")),
            *super().get_urls(),
        ]

    def _campaign_or_404(self, request, pk) -> Campaign:
        campaign = self.get_queryset(request).select_related("salon").filter(pk=pk).first()
        if campaign is None:
            raise Http404(_("No such campaign."))
        return campaign

    def preview_view(self, request, pk):
        """Before starting: how many will get it, how many are skipped and why, and the credit cost."""
        campaign = self._campaign_or_404(request, pk)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign,
            "title": _("Preview: %(name)s") % {"name": campaign.name}, "preview": audience.preview(campaign),
            "can_run": self.has_change_permission(request, campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/preview.html", context)

    def transition_view(self, request, pk, transition):
        """Start, pause or resume (POST, owners only); each is one conditional state change in the service."""
        actions = {"start": campaign_runs.start, "pause": campaign_runs.pause, "resume": campaign_runs.resume}
        campaign = self._campaign_or_404(request, pk)  # outsiders get 404 whatever the method
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        done = {"start": _("Campaign started."), "pause": _("Campaign paused."), "resume": _("Campaign resumed.")}
        if actions[transition](campaign=campaign):
            self.message_user(request, done[transition])
        else:
            self.message_user(request, _("Nothing changed: the campaign is %(status)s.")
                              % {"status": campaign.get_status_display().lower()}, level="warning")
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
