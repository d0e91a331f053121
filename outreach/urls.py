"""The client's pages that outreach leads to: the consent form, one-click unsubscribe, online booking."""

from django.urls import path

import core.urls  # noqa: F401  (registers the "token" path converter)
from outreach.views import booking, consent

urlpatterns = [
    path("c/<token:token>/", consent.consent_form, name="consent-form"),
    path("c/<token:token>/receipt.json", consent.receipt_json, name="consent-receipt"),
    path("u/<token:token>/", consent.unsubscribe, name="unsubscribe"),
    path("b/<slug:slug>/", booking.services, name="booking-services"),
    path("b/<slug:slug>/<int:service_id>/", booking.slots, name="booking-slots"),
    path("b/<slug:slug>/<int:service_id>/book/", booking.details, name="booking-details"),
    path("b/<slug:slug>/booked/<str:signed>/", booking.done, name="booking-done"),
    path("m/<token:token>/", booking.manage, name="booking-manage"),
]
