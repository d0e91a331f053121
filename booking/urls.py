from django.urls import path

import consents.urls  # noqa: F401  (registers the "token" path converter)

from . import views

urlpatterns = [
    path("b/<slug:slug>/", views.services, name="booking-services"),
    path("b/<slug:slug>/<int:service_id>/", views.slots, name="booking-slots"),
    path("b/<slug:slug>/<int:service_id>/book/", views.details, name="booking-details"),
    path("b/<slug:slug>/booked/<str:signed>/", views.done, name="booking-done"),
    path("m/<token:token>/", views.manage, name="booking-manage"),
]
