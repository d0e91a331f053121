"""The client's own pages for their rights: a copy of their data, erasure, the salon's privacy notice."""

from django.urls import path

import core.urls  # noqa: F401  (registers the "token" path converter)
from rights import views

urlpatterns = [
    path("c/<token:token>/data.json", views.data_json, name="consent-data"),
    path("c/<token:token>/erase/", views.erasure, name="consent-erasure"),
    path("privacy/<slug:slug>/", views.privacy_notice, name="privacy-notice"),
]
