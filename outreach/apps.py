from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """Use cases that reach clients: consent requests, appointment messages, campaigns, online booking."""

    name = "outreach"
    verbose_name = "Outreach"  # no models: never shown in the admin, so not translated

    def ready(self):
        from messaging.signals import messages_sending

        from .consent_requests import start_cooldown

        messages_sending.connect(start_cooldown, dispatch_uid="outreach-consent-request-cooldown")
