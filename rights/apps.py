from django.apps import AppConfig


class RightsConfig(AppConfig):
    """Use cases of the client's GDPR rights: access, rectification, erasure, restriction, objection, breach."""

    name = "rights"
    verbose_name = "Client rights"  # no models: never shown in the admin, so not translated

    def ready(self):
        from django.core import checks

        from .inventory import check_inventory

        checks.register(check_inventory, checks.Tags.models)
