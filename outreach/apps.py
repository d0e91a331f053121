from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """Use cases that reach clients: consent requests, appointment messages, campaigns, online booking."""

    name = "outreach"
    verbose_name = "Outreach"  # no models: never shown in the admin, so not translated
