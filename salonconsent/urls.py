from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "salonconsent"
admin.site.site_title = "salonconsent"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("messaging.urls")),
    path("", include("outreach.urls")),
    path("", include("rights.urls")),
    path("anymail/", include("anymail.urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
