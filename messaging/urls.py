from django.urls import path

from . import webhooks

urlpatterns = [
    path("twilio/status/<int:message_id>/", webhooks.twilio_status, name="twilio-status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio-inbound"),
]
